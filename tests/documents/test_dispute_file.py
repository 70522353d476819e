"""The dispute file (证据材料) of the seed's case after termination: it verifies offline with its verify.py,
opens to a Chinese index (证据目录) listing each exhibit with what it proves and its SHA-256, and contains the
employee's certificate as issued, the exam answer sheet and the attested chapter text whose SHA-256 equals
the attestation's; flipping one byte of any member makes verify.py name it. HR can pull the training proof
of an employee without a case."""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
import sys
import zipfile
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.absence import service, termination, union
from lms.absence.jobs import service_deadlines
from lms.courses.models import Attestation
from lms.evidence.models import EvidenceEvent, body_field
from lms.exams.models import Certificate
from lms.extensions import db
from lms.requests.models import ServiceAddressConfirmation
from tests.absence.service_helpers import a_scan
from tests.conftest import auth
from tests.documents.conftest import at, local, pdf_text


def _terminated(case, org):
    with at(datetime(2026, 6, 26, 9, 5)):
        union.record_notice(case, at=local(2026, 6, 26, 9, 0), union_name="公司工会", receipt_signed_by="李主席",
                            receipt=a_scan("工会签收回执"), actor=org.users["hr"])
    with at(datetime(2026, 6, 26, 15, 5)):
        union.record_opinion(case, at=local(2026, 6, 26, 15, 0), opinion="no_objection", actor=org.users["hr"])
    with at(datetime(2026, 6, 26, 16, 0)):
        document = termination.confirm(case, org.users["hr"])
    with at(datetime(2026, 6, 26, 16, 30)):
        sent = service.record_dispatch(case, document, method="ems", dispatched_on=date(2026, 6, 26), addressee="王芳",
                                       address="上海市浦东新区世纪大道100号", address_source="contact_address",
                                       tracking_no="EA9", photos=[("envelope", a_scan("信封"))],
                                       actor=org.users["hr"])
    with at(datetime(2026, 6, 29, 11, 0)):
        service.record_tracking(sent, status="delivered", day=date(2026, 6, 29), signed_by="employee",
                                actor=org.users["hr"])
        service_deadlines(local(2026, 6, 29, 11, 0))


def _unzip(content: bytes, folder: Path) -> dict[str, bytes]:
    folder.mkdir()
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        archive.extractall(folder)
        return {name: archive.read(name) for name in archive.namelist()}


def _verify(folder: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-I", "verify.py"], cwd=folder, capture_output=True, text=True,
                          timeout=60)


@pytest.fixture
def dispute_zip(client, past_deadline, org, hr_token):
    from lms.requests import address

    with at(datetime(2026, 5, 20, 11, 0)):  # she confirmed her service address in writing (self-service)
        org.learner.contact_address = "上海市浦东新区世纪大道100号"
        address.confirm_in_app(org.learner, "zh_CN", None, "10.0.0.8", "Mozilla/5.0", actor="test")
        db.session.commit()
    _terminated(past_deadline, org)
    with at(datetime(2026, 7, 20, 10, 0)):
        response = client.get(f"/api/v1/absence/cases/{past_deadline.id}/evidence-pack", headers=auth(hr_token))
    assert response.status_code == 200 and response.mimetype == "application/zip"
    return response.data


def test_the_case_file_verifies_and_holds_the_training_proof(dispute_zip, tmp_path, org):
    files = _unzip(dispute_zip, tmp_path / "pack")
    checked = _verify(tmp_path / "pack")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    keep = Path(__file__).resolve().parents[2] / "test-artifacts"  # to render and look at (pdftoppm)
    keep.mkdir(exist_ok=True)
    (keep / "dispute-file-index.pdf").write_bytes(files["documents/00-证据目录.pdf"])
    (keep / "dispute-file-answer-sheet.pdf").write_bytes(next(v for n, v in files.items() if "answers-" in n))
    index = pdf_text(files["documents/00-证据目录.pdf"]).replace("\n", "")
    assert "证据目录" in index and "证明目的" in index
    certificate = db.session.scalars(select(Certificate).where(Certificate.employee_id == org.learner.id)).one()
    [certificate_file] = [n for n in files if certificate.number in n]
    assert files[certificate_file] == certificate.pdf  # as issued, byte for byte
    assert hashlib.sha256(files[certificate_file]).hexdigest()[:16] in index.replace(" ", "")
    attestation = db.session.scalars(select(Attestation).where(Attestation.employee_id == org.learner.id)).first()
    [attested] = [n for n in files if n.startswith("documents/") and f"attested-{attestation.id}-" in n]
    assert hashlib.sha256(files[attested]).hexdigest() == attestation.displayed_sha256
    [confirmed] = [n for n in files if "service-address-" in n]
    confirmation = db.session.scalars(select(ServiceAddressConfirmation)).one()
    assert hashlib.sha256(files[confirmed]).hexdigest() == confirmation.text_sha256
    [sheet] = [n for n in files if "answers-" in n]
    sheet_text = pdf_text(files[sheet])
    assert "考试答卷" in sheet_text and "成绩" in sheet_text and "第 1 题" in sheet_text
    names = " ".join(files)
    for needle in ("RTW-2026-000001", "TRM-2026-000001", "TRC-2026-000001", "union-receipt", "photo", "messages",
                   "absence", "rules-"):
        assert needle in names, needle
    assert not re.search(r"\b(ems|delivered|no_objection|contact_address)\b",
                         pdf_text(files[next(n for n in files if "dispatch-" in n and n.endswith(".pdf"))]))
    downloads = db.session.scalars(select(EvidenceEvent).where(
        body_field("kind") == "evidence.pack_downloaded")).all()
    assert [d.payload["via"] for d in downloads] == ["api"]


@pytest.mark.parametrize("member", ["documents/00-证据目录.pdf", "events.jsonl", "certificate", "attested"])
def test_flipping_one_byte_of_any_member_is_named(dispute_zip, tmp_path, member):
    files = _unzip(dispute_zip, tmp_path / "pack")
    name = member if member in files else next(n for n in files if member in n)
    path = tmp_path / "pack" / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    checked = _verify(tmp_path / "pack")
    assert checked.returncode != 0
    assert name in checked.stdout


def test_training_proof_for_an_employee_without_a_case(client, seed_case, org, hr_token, login_as):
    response = client.post(f"/api/v1/employees/{org.learner.employee_no}/evidence-pack", headers=auth(hr_token),
                           json={"include": ["training"]})
    assert response.status_code == 200
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        names = archive.namelist()
    assert any("certificate-" in n for n in names) and any("attested-" in n for n in names)
    assert not any("RTW-" in n or "messages" in n for n in names)
    bad = client.post(f"/api/v1/employees/{org.learner.employee_no}/evidence-pack", headers=auth(hr_token),
                      json={"include": ["salary"]})
    assert bad.status_code == 422
    page = login_as("hr").post(f"/absence/employees/{org.learner.id}/dispute-file",
                               data={"parts": ["training", "messages"]})
    assert page.status_code == 200 and page.mimetype == "application/zip"
    assert login_as("manager").post(f"/absence/employees/{org.learner.id}/dispute-file",
                                    data={"parts": ["training"]}).status_code == 403


def test_hr_downloads_the_case_file_from_the_case_page(past_deadline, login_as):
    hr = login_as("hr")
    with at(datetime(2026, 6, 26, 10, 0)):
        page = hr.get(f"/absence/cases/{past_deadline.id}").get_data(as_text=True)
        assert 'data-test="case-dispute-file"' in page
        response = hr.post(f"/absence/cases/{past_deadline.id}/dispute-file",
                           data={"parts": ["training", "messages", "absence", "documents"]})
    assert response.status_code == 200 and response.mimetype == "application/zip"
    assert response.headers["Cache-Control"] == "no-store"
    with zipfile.ZipFile(io.BytesIO(response.data)) as archive:
        assert "documents/00-证据目录.pdf" in archive.namelist() and "verify.py" in archive.namelist()
    [download] = db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "evidence.pack_downloaded"))
    assert download.payload["via"] == "page" and download.subject == f"case:{past_deadline.id}"
