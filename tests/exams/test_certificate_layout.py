"""The certificate as a reader sees it: the rules by title, no row that begins with punctuation, the
verification URL under LMS_BASE_URL and a QR code of it drawn as vectors; the public /verify form."""

from __future__ import annotations

import io
import re
import subprocess

import pytest
import segno
from PIL import Image
from pypdf import PdfReader
from reportlab.lib.pagesizes import A4, landscape

from lms.documents.render import NO_LINE_START, register_font, wrap
from lms.exams import certificates, services
from tests.browser.conftest import ARTIFACTS
from tests.exams.test_certificates import pass_exam


@pytest.fixture
def app_config(app_config):
    return {**app_config, "LMS_BASE_URL": "https://lms.example.cn/"}


@pytest.fixture
def exam(app, content):
    content.sync()
    return services.current_exam("onboarding")


def test_no_row_begins_with_punctuation_and_english_breaks_between_words(app):
    register_font()
    text = "所考核的规章制度：请假须提前申请、事后补办、连续旷工三日、员工失联的处理、联系方式的登记" * 3
    for width in range(60, 400, 7):
        rows = wrap(text, 10, width)
        assert "".join(rows) == text
        assert not any(row[0] in NO_LINE_START for row in rows[1:]), (width, rows)
    english = "This certifies that Wang Fang passed the Employee Handbook Onboarding Exam with a score of 100."
    rows = wrap(english, 11, 200)
    assert " ".join(rows) == english and len(rows) > 1  # whole words on each row


def test_the_pdf_names_the_rules_by_title_and_links_the_verification_page(login_as, exam, org):
    certificate = pass_exam(login_as("learner"))
    text = PdfReader(io.BytesIO(certificate.pdf)).pages[0].extract_text()
    url = f"https://lms.example.cn/verify/{certificate.verification_code}"
    assert url in text.replace("\n", "")
    titles = [c["title_zh"] for c in certificate.clauses]
    assert all(title in text for title in titles)
    assert "leave.notice" not in text and "absence.threshold" not in text  # titles, not codes
    assert certificate.course_versions[0]["sha256"] not in text  # no 64-digit hash in the reading text
    assert not any(line.strip()[:1] in NO_LINE_START for line in text.splitlines() if line.strip())


def test_the_qr_code_is_vector_and_encodes_the_verification_url(login_as, exam, org, tmp_path):
    certificate = pass_exam(login_as("learner"))
    page = PdfReader(io.BytesIO(certificate.pdf)).pages[0]
    xobjects = page["/Resources"].get("/XObject") or {}
    assert not [x for x in xobjects.values() if x.get_object().get("/Subtype") == "/Image"]  # no bitmap
    # Render the page as a reader's printer would and read the modules back at their centres.
    (tmp_path / "c.pdf").write_bytes(certificate.pdf)
    dpi = 300
    subprocess.run(["pdftoppm", "-r", str(dpi), "-gray", "-png", "-singlefile", str(tmp_path / "c.pdf"),
                    str(tmp_path / "c")], check=True)
    image = Image.open(tmp_path / "c.png").convert("L")
    ARTIFACTS.mkdir(exist_ok=True)
    image.resize((image.width // 3, image.height // 3)).save(ARTIFACTS / "certificate-pdf.png")  # to look at
    expected = segno.make(certificates.verification_url(certificate), error="m").matrix
    width, height = landscape(A4)
    module = certificates.QR_SIZE / (len(expected) + 8)
    left = width - certificates.QR_RIGHT - certificates.QR_SIZE + 4 * module
    top = certificates.QR_BOTTOM + certificates.QR_SIZE - 4 * module
    scale = dpi / 72
    for r, row in enumerate(expected):
        for c, dark in enumerate(row):
            x, y = (left + (c + 0.5) * module) * scale, (height - top + (r + 0.5) * module) * scale
            assert (image.getpixel((int(x), int(y))) < 128) == bool(dark), (r, c)


def test_a_code_can_be_typed_on_the_public_verify_page(client, login_as, exam, org):
    certificate = pass_exam(login_as("learner"))
    form = client.get("/verify")
    assert form.status_code == 200 and 'name="code"' in form.get_data(as_text=True)
    typed = client.get("/verify", query_string={"code": certificate.verification_code.lower()},
                       follow_redirects=True)
    assert typed.status_code == 200 and "Genuine" in typed.get_data(as_text=True)
    long = client.get("/verify/" + "X" * 5000)
    body = re.sub(r'<input type="hidden" name="next"[^>]*>', "", long.get_data(as_text=True))  # the language form
    assert long.status_code == 404 and "X" * 100 not in body and "12 letters and digits" in body


def test_the_result_and_my_record_link_the_verification_page_and_the_layout_has_a_favicon(login_as, exam, org):
    learner = login_as("learner")
    certificate = pass_exam(learner)
    result = learner.get(f"/exams/attempts/{certificate.attempt_id}/result").get_data(as_text=True)
    assert f"/verify/{certificate.verification_code}" in result
    record = learner.get("/people/me", follow_redirects=True).get_data(as_text=True)
    assert f"/verify/{certificate.verification_code}" in record
    assert 'rel="icon" href="/static/favicon.svg"' in record
    assert learner.get("/static/favicon.svg").status_code == 200
