"""What requests do to absence cases: approved leave stops a case, pending does not (the case page says
so); an emergency report pauses a case and its follow-up clock; a correction un-counts the day."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from lms import clock, jobs
from lms.absence.models import AbsenceCase, CaseReply, Punch
from lms.extensions import db
from lms.requests.models import EmergencyReport
from tests.absence.conftest import everyone_present, run_ticks


def _apply(client, headers, start, end):
    return client.post("/api/v1/me/leave-requests", headers=headers,
                       json={"type": "sick", "start": start, "end": end, "reason": "住院"}).get_json()


def _case_of(employee):
    return db.session.scalars(select(AbsenceCase).where(AbsenceCase.employee_id == employee.id)).first()


def test_an_approved_request_stops_a_case_a_pending_one_does_not(client, token_of, selfservice, login_as):
    org = selfservice
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 14))
    everyone_present(org, date(2026, 6, 15), date(2026, 6, 20), but=(org.learner, org.colleague))
    at = datetime(2026, 6, 10, 9, 0)
    with clock.frozen(at):
        approved = _apply(client, token_of("learner", at), "2026-06-15", "2026-06-16")
        client.post(f"/api/v1/leave-requests/{approved['id']}/decision", headers=token_of("manager", at),
                    json={"decision": "approve"})
    # The colleague has no account: HR records her request through the same service, left pending.
    from lms.requests import leave_requests
    with clock.frozen(at):
        pending = leave_requests.submit_request(org.colleague, type="sick", start=date(2026, 6, 15),
                                                end=date(2026, 6, 16), reason="住院")
    run_ticks(datetime(2026, 6, 15, 9, 0), datetime(2026, 6, 15, 12, 0))
    assert _case_of(org.learner) is None
    case = _case_of(org.colleague)
    assert case is not None and case.first_day == date(2026, 6, 15) and pending.state == "pending"
    page = login_as("hr").get(f"/absence/cases/{case.id}").get_data(as_text=True)
    assert 'data-test="pending-requests"' in page and "2026-06-15 – 2026-06-16" in page


def test_an_emergency_report_pauses_the_case_and_starts_the_follow_up_clock(client, token_of, selfservice, login_as):
    org = selfservice
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 14))
    everyone_present(org, date(2026, 6, 15), date(2026, 6, 30), but=(org.learner,))
    run_ticks(datetime(2026, 6, 15, 11, 0), datetime(2026, 6, 15, 11, 0))
    case = _case_of(org.learner)
    assert case is not None and case.first_day == date(2026, 6, 15) and case.paused_at is None
    at = datetime(2026, 6, 15, 11, 30)
    with clock.frozen(at):
        answer = client.post("/api/v1/me/emergency-reports", headers=token_of("learner", at),
                             json={"reason": "孩子急病住院"})
    assert answer.status_code == 201, answer.get_json()
    # leave.emergency: 3 working days for the leave request and proof (6.16, 6.17, 6.18).
    assert answer.get_json()["follow_up_by"] == "2026-06-18" and answer.get_json()["paused_case"] is True
    db.session.expire_all()
    case = _case_of(org.learner)
    assert case.paused_at is not None
    reply = db.session.scalars(select(CaseReply).where(CaseReply.case_id == case.id)).one()
    assert "孩子急病住院" in reply.text and any(t.kind == "decide_reply" and t.done_at is None for t in case.todos)
    # Not followed up by the end of 6.18: HR's to-do.
    with clock.frozen(datetime(2026, 6, 18, 23, 0)):
        jobs.run_tick(clock.as_utc(datetime(2026, 6, 18, 23, 0)).isoformat())
    assert db.session.scalars(select(EmergencyReport)).one().todo_at is None
    with clock.frozen(datetime(2026, 6, 19, 0, 10)):
        jobs.run_tick(clock.as_utc(datetime(2026, 6, 19, 0, 10)).isoformat())
        page = login_as("hr").get("/requests/inbox").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalars(select(EmergencyReport)).one().todo_at is not None
    assert 'data-test="overdue-report"' in page


def test_the_manager_records_a_call_for_the_employee(client, token_of, selfservice):
    at = datetime(2026, 6, 15, 8, 40)
    with clock.frozen(at):
        recorded = client.post(f"/api/v1/employees/{selfservice.learner.employee_no}/emergency-reports",
                               headers=token_of("manager", at),
                               json={"reason": "电话：车祸", "at": "2026-06-15T08:30:00"})
        refused = client.post(f"/api/v1/employees/{selfservice.learner.employee_no}/emergency-reports",
                              headers=token_of("outsider", at), json={"reason": "x", "at": "2026-06-15T08:30:00"})
    assert recorded.status_code == 201 and recorded.get_json()["channel"] == "manager"
    assert refused.status_code == 404


def test_a_correction_within_two_working_days_across_a_weekend_counts_the_day_back(client, token_of, selfservice):
    org = selfservice
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 11))
    everyone_present(org, date(2026, 6, 12), date(2026, 6, 30), but=(org.learner,))
    run_ticks(datetime(2026, 6, 12, 11, 0), datetime(2026, 6, 12, 11, 0))  # Friday 6.12: no punch → a case
    case = _case_of(org.learner)
    assert case is not None and case.first_day == date(2026, 6, 12)
    # Friday's correction is due by Tuesday 6.16 (Monday 6.15 and Tuesday 6.16 are the 2 working days).
    tuesday = datetime(2026, 6, 16, 18, 0)
    with clock.frozen(tuesday):
        sent = client.post("/api/v1/me/punch-corrections", headers=token_of("learner", tuesday),
                           json={"day": "2026-06-12", "arrived_at": "2026-06-12T08:50:00", "reason": "忘记打卡"})
        assert sent.status_code == 201, sent.get_json()
        decided = client.post(f"/api/v1/punch-corrections/{sent.get_json()['id']}/decision",
                              headers=token_of("manager", tuesday), json={"decision": "approve"})
    assert decided.status_code == 200 and decided.get_json()["state"] == "approved"
    punch = db.session.scalars(select(Punch).where(Punch.employee_id == org.learner.id,
                                                 Punch.source == "correction")).one()
    assert punch.work_day == date(2026, 6, 12) and clock.local(punch.punched_at).hour == 8
    db.session.expire_all()
    case = db.session.get(AbsenceCase, case.id)
    assert date(2026, 6, 12) not in case.counted_days


def test_a_correction_after_two_working_days_is_refused_citing_the_rule(client, token_of, selfservice):
    wednesday = datetime(2026, 6, 17, 9, 0)
    with clock.frozen(wednesday):
        late = client.post("/api/v1/me/punch-corrections", headers=token_of("learner", wednesday),
                           json={"day": "2026-06-12", "arrived_at": "2026-06-12T08:50:00", "reason": "忘记打卡"})
    assert late.status_code == 409
    assert "attendance.missed_punch" in late.get_json()["error"]["message"]
    assert "2026-06-16" in late.get_json()["error"]["message"]


def test_dragon_boat_and_national_day_working_days(app, selfservice):
    from lms.requests.rules import working_days_after
    learner = selfservice.learner.id
    # 6.18 Thu → 6.19 Fri is the Dragon Boat Festival (6.19–6.21 off): 6.22 Mon, 6.23 Tue.
    assert working_days_after(learner, date(2026, 6, 18), 2) == date(2026, 6, 23)
    # 9.18 Fri → 9.20 Sun is a 调休 working day before National Day.
    assert working_days_after(learner, date(2026, 9, 18), 1) == date(2026, 9, 20)
    # 9.30 Wed → 10.1–10.7 off, 10.8 Thu, 10.9 Fri, 10.10 Sat (调休) working.
    assert working_days_after(learner, date(2026, 9, 30), 3) == date(2026, 10, 10)


def test_a_report_before_the_case_opens_pauses_it_once_it_does(client, token_of, selfservice):
    org = selfservice
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 14))
    everyone_present(org, date(2026, 6, 15), date(2026, 6, 30), but=(org.learner,))
    early = datetime(2026, 6, 15, 8, 30)
    with clock.frozen(early):
        report = client.post("/api/v1/me/emergency-reports", headers=token_of("learner", early),
                             json={"reason": "发高烧去医院"}).get_json()
    assert report["paused_case"] is False
    run_ticks(datetime(2026, 6, 15, 11, 0), datetime(2026, 6, 15, 11, 10), every=timedelta(minutes=5))
    db.session.expire_all()
    case = _case_of(org.learner)
    assert case.paused_at is not None
    assert db.session.scalars(select(EmergencyReport)).one().case_id == case.id
    # The follow-up leave request covering the day closes the clock: no to-do for HR.
    later = datetime(2026, 6, 16, 9, 0)
    with clock.frozen(later):
        client.post("/api/v1/me/leave-requests", headers=token_of("learner", later),
                    json={"type": "sick", "start": "2026-06-15", "end": "2026-06-15", "reason": "发烧，附病历"})
    with clock.frozen(datetime(2026, 6, 19, 1, 0)):
        jobs.run_tick(clock.as_utc(datetime(2026, 6, 19, 1, 0)).isoformat())
    db.session.expire_all()
    row = db.session.scalars(select(EmergencyReport)).one()
    assert row.followed_up_at is not None and row.todo_at is None


def test_replying_to_an_alert_can_be_an_emergency_report(selfservice, login_as):
    org = selfservice
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 14))
    everyone_present(org, date(2026, 6, 15), date(2026, 6, 30), but=(org.learner,))
    run_ticks(datetime(2026, 6, 15, 11, 0), datetime(2026, 6, 15, 11, 0))
    case = _case_of(org.learner)
    learner = login_as("learner")
    with clock.frozen(datetime(2026, 6, 15, 11, 40)):
        page = learner.get(f"/absence/my/cases/{case.id}/reply").get_data(as_text=True)
        assert 'name="emergency"' in page
        answer = learner.post(f"/absence/my/cases/{case.id}/reply", data={"text": "父亲突发心脏病，在医院陪护",
                                                                          "emergency": "y"})
    assert answer.status_code == 200
    report = db.session.scalars(select(EmergencyReport)).one()
    assert (report.channel, report.follow_up_by, report.case_id) == ("alert", date(2026, 6, 18), case.id)
    db.session.expire_all()
    assert _case_of(org.learner).paused_at is not None
