"""POST /api/v1/absence/cases/{id}/termination (409 naming every unmet precondition, 201 with the notice),
the case detail's `termination`, the employee's status, and POST /api/v1/employees/{no}/separation."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from lms.absence import union
from lms.absence.jobs import service_deadlines
from lms.absence.models import CaseTodo
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db
from tests.conftest import auth
from tests.documents.conftest import at, local


def test_confirm_over_the_api_and_read_it_back(client, past_deadline, hr_token, org):
    case = past_deadline
    with at(datetime(2026, 6, 26, 8, 0)):
        refused = client.post(f"/api/v1/absence/cases/{case.id}/termination", headers=auth(hr_token), json={})
    assert refused.status_code == 409
    assert any("第四十三条" in e["message"] for e in refused.json["error"]["errors"])
    with at(datetime(2026, 6, 26, 9, 5)):
        union.record_notice(case, at=local(2026, 6, 26, 9, 0), union_name="公司工会", receipt_signed_by="李主席",
                            actor=org.users["hr"])
    with at(datetime(2026, 6, 26, 15, 5)):
        union.record_opinion(case, at=local(2026, 6, 26, 15, 0), opinion="no_objection", actor=org.users["hr"])
    with at(datetime(2026, 6, 26, 16, 0)):
        created = client.post(f"/api/v1/absence/cases/{case.id}/termination", headers=auth(hr_token),
                              json={"note": "逾期未返岗"})
        assert created.status_code == 201, created.json
        assert created.json["kind"] == "termination" and created.json["number"].startswith("TRM-2026-")
        again = client.post(f"/api/v1/absence/cases/{case.id}/termination", headers=auth(hr_token), json={})
        assert again.status_code == 409
        employee = client.get(f"/api/v1/employees/{case.employee.employee_no}", headers=auth(hr_token)).json
        assert (employee["status"], employee["terminated_on"]) == ("termination_pending", None)
        dispatched = client.post(f"/api/v1/absence/cases/{case.id}/dispatches", headers=auth(hr_token), json={
            "document_id": created.json["id"], "method": "ems", "tracking_no": "EA9", "dispatched_at": "2026-06-26",
            "address_source": "contact_address", "address": "上海市浦东新区世纪大道100号", "addressee": "王芳"})
        assert dispatched.status_code == 201, dispatched.json
    with at(datetime(2026, 6, 29, 11, 0)):
        client.post(f"/api/v1/dispatches/{dispatched.json['id']}/events", headers=auth(hr_token),
                    json={"status": "delivered", "at": "2026-06-29", "signed_by": "employee"})
        service_deadlines(local(2026, 6, 29, 11, 0))
        detail = client.get(f"/api/v1/absence/cases/{case.id}", headers=auth(hr_token)).json
        employee = client.get(f"/api/v1/employees/{case.employee.employee_no}", headers=auth(hr_token)).json
    assert detail["termination"]["effective_on"] == "2026-06-29"
    assert detail["termination"]["document_id"] == created.json["id"]
    assert (employee["status"], employee["terminated_on"]) == ("terminated", "2026-06-29")


def test_a_resignation_gets_the_certificate_and_the_transfers(client, org, hr_token, content):
    content.sync()  # the certificate's template
    employee_no = org.manager.employee_no
    with at(datetime(2026, 9, 30, 10, 0)):
        bad = client.post(f"/api/v1/employees/{employee_no}/separation", headers=auth(hr_token),
                          json={"kind": "dismissal", "effective_on": "2026-09-30"})
        assert bad.status_code == 422
        unknown = client.post("/api/v1/employees/NOPE/separation", headers=auth(hr_token),
                              json={"kind": "resignation", "effective_on": "2026-09-30"})
        assert unknown.status_code == 404
        future = client.post(f"/api/v1/employees/{employee_no}/separation", headers=auth(hr_token),
                             json={"kind": "resignation", "effective_on": "2026-10-09"})
        assert future.status_code == 201 and future.json["status"] == "active"
        twice = client.post(f"/api/v1/employees/{employee_no}/separation", headers=auth(hr_token),
                            json={"kind": "mutual", "effective_on": "2026-10-09"})
        assert twice.status_code == 409
    with at(datetime(2026, 10, 9, 0, 30)):
        service_deadlines(local(2026, 10, 9, 0, 30))
    db.session.expire_all()
    assert (org.manager.status, org.manager.terminated_on) == ("terminated", date(2026, 10, 9))
    todos = {t.kind: t.due_on for t in db.session.scalars(select(CaseTodo).where(
        CaseTodo.employee_id == org.manager.id))}
    # 10.9 + 15 = 10.24, a Saturday: the deadline does not move; the to-do warns on Friday 10.23.
    assert todos == {"send_certificate": date(2026, 10, 9), "transfer_file": date(2026, 10, 24),
                     "transfer_insurance": date(2026, 10, 24), "file_si_stop": None}  # no work city, no rule
    ended = db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "people.employment_ended")).one()
    assert ended.payload["warn_on"] == "2026-10-23"
    assert ended.payload["certificate"].startswith("TRC-2026-")


def test_the_transfer_to_dos_close_with_what_was_done_and_when(client, org, hr_token, content, login_as):
    content.sync()
    with at(datetime(2026, 10, 9, 10, 0)):
        client.post(f"/api/v1/employees/{org.manager.employee_no}/separation", headers=auth(hr_token),
                    json={"kind": "expiry", "effective_on": "2026-10-09"})
    todos = {t.kind: t for t in db.session.scalars(select(CaseTodo).where(CaseTodo.employee_id == org.manager.id))}
    hr = login_as("hr")
    with at(datetime(2026, 10, 12, 10, 0)):
        review = hr.get("/absence/").get_data(as_text=True)
        assert review.count('data-test="todo-what"') == 3
        empty = hr.post(f"/absence/todos/{todos['transfer_file'].id}", data={"what": "", "done_on": ""})
        assert empty.status_code == 409
        done = hr.post(f"/absence/todos/{todos['transfer_file'].id}",
                       data={"what": "档案已转至上海市人才服务中心，转递单号 RC2026-1009", "done_on": "2026-10-12"})
        assert done.status_code == 302
    closed = db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "absence.todo_done")).one()
    assert closed.payload == {"todo": "transfer_file", "what": "档案已转至上海市人才服务中心，转递单号 RC2026-1009",
                              "done_on": "2026-10-12", "due_on": "2026-10-24", "late": False}
