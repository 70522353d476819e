"""The pages: attachments stored with their hash and shown to the manager; a manager marks himself away."""

from __future__ import annotations

import hashlib
import io
from datetime import date, datetime

from sqlalchemy import select

from lms import clock
from lms.extensions import db
from lms.requests.models import AwayMark, RequestAttachment


def test_a_medical_certificate_is_stored_hashed_and_the_manager_can_open_it(login_as, selfservice):
    scan = b"%PDF-1.4 \xe8\xaf\x8a\xe6\x96\xad\xe8\xaf\x81\xe6\x98\x8e"
    with clock.frozen(datetime(2026, 6, 5, 9, 0)):
        sent = login_as("learner").post("/requests/leave", data={
            "kind": "leave", "type": "sick", "start": "2026-06-10", "end": "2026-06-10", "reason": "复诊",
            "action": "send", "attachments": (io.BytesIO(scan), "诊断证明.pdf", "application/pdf")},
            content_type="multipart/form-data")
        assert sent.status_code == 302
        stored = db.session.scalars(select(RequestAttachment)).one()
        assert stored.sha256 == hashlib.sha256(scan).hexdigest() and stored.data == scan
        inbox = login_as("manager").get("/requests/inbox").get_data(as_text=True)
        assert "诊断证明.pdf" in inbox
        assert login_as("manager").get(f"/requests/attachments/{stored.id}").data == scan
        assert login_as("outsider").get(f"/requests/attachments/{stored.id}").status_code == 404


def test_a_manager_marks_himself_away_and_his_manager_sees_the_team_requests(login_as, selfservice):
    with clock.frozen(datetime(2026, 6, 1, 9, 0)):
        login_as("learner").post("/requests/leave", data={"kind": "leave", "type": "annual", "start": "2026-06-10",
                                                          "end": "2026-06-10", "reason": "休假", "action": "send"})
        before = login_as("director").get("/requests/inbox").get_data(as_text=True)
        login_as("manager").post("/requests/away", data={"away-start": "2026-06-01", "away-end": "2026-06-03"})
        after = login_as("director").get("/requests/inbox").get_data(as_text=True)
    assert 'data-test="inbox-request"' not in before
    mark = db.session.scalars(select(AwayMark)).one()
    assert (mark.employee_id, mark.starts_on, mark.ends_on) == (selfservice.manager.id, date(2026, 6, 1),
                                                                date(2026, 6, 3))
    assert after.count('data-test="inbox-request"') == 1 and "王芳" in after


def test_hr_records_a_signed_paper_confirmation(login_as, selfservice):
    hr = login_as("hr")
    record = hr.get(f"/people/employees/{selfservice.learner.id}").get_data(as_text=True)
    assert 'data-test="service-address-link"' in record
    scan = b"%PDF-1.4 signed"
    with clock.frozen(datetime(2026, 6, 1, 9, 0)):
        done = hr.post(f"/requests/employees/{selfservice.learner.id}/service-address",
                       data={"address": "上海市浦东新区世纪大道100号", "scan": (io.BytesIO(scan), "确认书.pdf")},
                       content_type="multipart/form-data")
    assert done.status_code == 302
    from lms.requests.address import service_address
    confirmation = service_address(selfservice.learner.id)
    assert confirmation.method == "scan" and confirmation.scan_sha256 == hashlib.sha256(scan).hexdigest()
    assert login_as("manager").get(f"/requests/employees/{selfservice.learner.id}/service-address").status_code == 403


def test_the_manager_records_a_call_from_his_inbox(login_as, selfservice):
    client = login_as("manager")
    with clock.frozen(datetime(2026, 6, 15, 8, 45)):
        page = client.get("/requests/inbox").get_data(as_text=True)
        assert 'data-test="record-call"' in page and "王芳" in page
        client.post(f"/requests/employees/{selfservice.learner.id}/emergency",
                    data={"employee": selfservice.colleague.id, "e-reason": "刘洋来电：发烧，明天回来"})
        outsider_call = client.post(f"/requests/employees/{selfservice.outsider.id}/emergency",
                                    data={"employee": selfservice.outsider.id, "e-reason": "x"})
    from lms.requests.models import EmergencyReport
    report = db.session.scalars(select(EmergencyReport)).one()
    assert report.employee_id == selfservice.colleague.id and report.channel == "manager"
    assert outsider_call.status_code == 404
