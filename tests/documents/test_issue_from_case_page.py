"""HR reviews the notice's draft on the case page, issues it, and downloads the PDF (recorded)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from lms.documents.models import Document
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db
from tests.documents.conftest import at, pdf_text


def test_hr_sees_the_draft_issues_it_and_downloads_the_pdf(seed_case, login_as, org):
    hr = login_as("hr")
    with at(datetime(2026, 6, 18, 10, 0)):
        page = hr.get(f"/absence/cases/{seed_case.id}").get_data(as_text=True)
        assert "限期返岗通知书" in page and "2026-06-15, 2026-06-16, 2026-06-17" in page
        assert 'data-test="notice-warning"' not in page  # the learner was trained in May
        assert "2026-06-29 for dispatch on 2026-06-22" in page  # default: the next working day after 6.18
        response = hr.post(f"/absence/cases/{seed_case.id}/notices", data={"dispatch_on": "2026-06-19"})
    assert response.status_code == 302
    document = db.session.scalars(select(Document)).one()
    assert document.stated_deadline == date(2026, 6, 25)
    page = hr.get(f"/absence/cases/{seed_case.id}").get_data(as_text=True)
    assert document.number in page and document.sha256 in page
    pdf = hr.get(f"/documents/{document.id}.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data == document.pdf
    assert "请于2026年6月25日前返岗" in pdf_text(pdf.data).replace("\n", "")
    [download] = db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "documents.downloaded")).all()
    assert download.payload["number"] == document.number and download.actor.startswith("user:")


def test_the_draft_warns_when_there_is_no_training_proof(untrained_case, login_as):
    with at(datetime(2026, 6, 18, 10, 0)):
        page = login_as("hr").get(f"/absence/cases/{untrained_case.id}").get_data(as_text=True)
    assert 'data-test="notice-warning"' in page and "absence.threshold" in page


def test_a_deadline_earlier_than_the_rules_allow_is_refused(seed_case, login_as):
    with at(datetime(2026, 6, 18, 10, 0)):
        response = login_as("hr").post(f"/absence/cases/{seed_case.id}/notices",
                                       data={"dispatch_on": "2026-06-19", "deadline": "2026-06-24"})
    assert response.status_code == 409
    assert db.session.scalars(select(Document)).first() is None


def test_only_hr_and_admins_issue_and_download(seed_case, login_as, org):
    with at(datetime(2026, 6, 18, 10, 0)):
        for who in ("learner", "manager", "outsider"):
            response = login_as(who).post(f"/absence/cases/{seed_case.id}/notices", data={"dispatch_on": "2026-06-19"})
            assert response.status_code == 403, who
        assert db.session.scalars(select(Document)).first() is None
        assert login_as("admin").post(f"/absence/cases/{seed_case.id}/notices",
                                      data={"dispatch_on": "2026-06-19"}).status_code == 302
    document = db.session.scalars(select(Document)).one()
    for who in ("learner", "manager", "outsider"):
        assert login_as(who).get(f"/documents/{document.id}.pdf").status_code == 403, who
    manager_page = login_as("manager").get(f"/absence/cases/{seed_case.id}").get_data(as_text=True)
    assert f"/documents/{document.id}.pdf" not in manager_page  # the list and the download are for HR


def test_the_case_evidence_pack_carries_the_notice_pdf(seed_case, org):
    import io
    import json
    import zipfile

    from lms.absence import notices
    from lms.evidence.pack import pack_for_subject

    with at(datetime(2026, 6, 18, 10, 0)):
        document = notices.issue_return_notice(seed_case, org.users["hr"], dispatch_on=date(2026, 6, 19))
        built = pack_for_subject(f"case:{seed_case.id}", generated_by="user:1")
    archive = zipfile.ZipFile(io.BytesIO(built.content))
    assert archive.read(f"documents/{document.number}.pdf") == document.pdf
    manifest = json.loads(archive.read("manifest.json"))
    import hashlib

    [entry] = [f for f in manifest["files"] if f["path"] == f"documents/{document.number}.pdf"]
    assert entry["sha256"] == document.sha256 == hashlib.sha256(document.pdf).hexdigest()
