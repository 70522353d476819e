"""《培训合格证明》: issued on a pass as a PDF with an embedded Chinese font, verifiable, revocable."""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from lms.evidence.models import EvidenceEvent, body_field
from lms.exams import services
from lms.exams.models import Certificate
from lms.extensions import db
from lms.people import services as people
from tests.exams.test_take_exam import answer, right_answers, start


@pytest.fixture
def exam(app, content):
    content.sync()
    return services.current_exam("onboarding")


def pass_exam(client):
    attempt = start(client)
    for item in attempt.paper:
        answer(client, attempt, item, right_answers(item))
    client.post(f"/exams/attempts/{attempt.id}/submit")
    return db.session.scalars(select(Certificate).where(Certificate.attempt_id == attempt.id)).one()


def test_a_pass_issues_a_pdf_whose_chinese_is_embedded_and_extractable(login_as, exam, org):
    certificate = pass_exam(login_as("learner"))
    assert re.fullmatch(r"LMS-\d{4}-\d{6}", certificate.number)
    reader = PdfReader(io.BytesIO(certificate.pdf))
    text = reader.pages[0].extract_text()
    for expected in ("培训合格证明", "王芳", org.learner.employee_no, "入职考试", certificate.number,
                     certificate.verification_code, "100.0"):
        assert expected in text, expected
    fonts = [font.get_object() for font in reader.pages[0]["/Resources"]["/Font"].values()]
    chinese = [font for font in fonts if "WenQuanYiMicroHei" in font["/BaseFont"]]
    assert chinese and all("/FontFile2" in font["/FontDescriptor"].get_object() for font in chinese)
    assert all(font["/BaseFont"] in ("/Helvetica",) or font in chinese for font in fonts)  # nothing else
    assert certificate.course_versions[0]["slug"] == "handbook" and len(certificate.course_versions[0]["sha256"]) == 64
    assert {c["id"] for c in certificate.clauses} == {"leave.notice", "absence.threshold"}
    issued = db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "exams.certificate_issued")).one()
    assert issued.payload["number"] == certificate.number and len(issued.payload["pdf_sha256"]) == 64


def test_the_employee_her_managers_and_hr_may_download_it(login_as, exam, org):
    certificate = pass_exam(login_as("learner"))
    url = f"/exams/certificates/{certificate.id}.pdf"
    for who in ("learner", "manager", "director", "hr"):
        response = login_as(who).get(url)
        assert response.status_code == 200 and response.data.startswith(b"%PDF"), who
    assert login_as("outsider").get(url).status_code == 404


def test_the_public_verification_page(client, login_as, exam, org):
    certificate = pass_exam(login_as("learner"))
    page = client.get(f"/verify/{certificate.verification_code}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Genuine" in text and "王*" in text
    assert "王芳" not in text and org.learner.employee_no not in text  # minimal data
    assert client.get("/verify/ABCDEFGHJKLM").status_code == 404
    assert "Not found" in client.get("/verify/ABCDEFGHJKLM").get_data(as_text=True)
    assert login_as("hr").post(f"/exams/certificates/{certificate.id}/revoke",
                               data={"reason": "issued in error"}).status_code == 302
    revoked = client.get(f"/verify/{certificate.verification_code}").get_data(as_text=True)
    assert "revoked" in revoked and "Genuine" not in revoked


def test_passing_the_onboarding_exam_activates_a_new_hire(app, login_as, exam, make_employee, make_user, client):
    newcomer = make_employee("赵晨", status="onboarding")
    make_user("newhire", "employee", newcomer)
    response = client.post("/login", data={"username": "newhire", "password": "correct-horse-battery"})
    assert response.status_code == 302
    pass_exam(client)
    db.session.expire_all()
    assert newcomer.status == "active"
    activated = db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "people.activated")).one()
    assert "onboarding" in activated.payload["reason"]
    assert people.activate(newcomer.id, "again") is False  # once


def test_the_training_api_lists_certificates_with_their_pdf(login_as, exam, org, client):
    certificate = pass_exam(login_as("learner"))
    token = people.create_api_token("hris", "hr")[1]
    headers = {"Authorization": f"Bearer {token}"}
    training = client.get(f"/api/v1/employees/{org.learner.employee_no}/training", headers=headers).json
    [listed] = training["certificates"]
    assert (listed["number"], listed["verification_code"]) == (certificate.number, certificate.verification_code)
    pdf = client.get(listed["pdf_url"], headers=headers)
    assert pdf.status_code == 200 and pdf.data == certificate.pdf
