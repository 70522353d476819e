"""Leave requests: late on the exact notice boundary, who decides, and what approval records."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from lms import clock
from lms.absence.models import Leave
from lms.evidence.models import EvidenceEvent
from lms.extensions import db
from lms.notify.models import Message
from lms.requests.models import AwayMark, LeaveRequest

JUNE_7_EVENING = datetime(2026, 6, 7, 21, 30)


def _apply(client, headers, start="2026-06-10", end="2026-06-11", type_="personal"):
    return client.post("/api/v1/me/leave-requests", headers=headers,
                       json={"type": type_, "start": start, "end": end, "reason": "家里有事"})


def test_three_days_ahead_is_on_time_and_two_days_is_late(client, token_of):
    # leave.notice: notice_days 3 calendar days; for leave from 6.10 the last day to apply is 6.7.
    with clock.frozen(JUNE_7_EVENING):
        on_time = _apply(client, token_of("learner", JUNE_7_EVENING))
    assert on_time.status_code == 201, on_time.get_json()
    assert on_time.get_json()["state"] == "pending" and on_time.get_json()["late"] is False
    at = datetime(2026, 6, 8, 0, 5)  # 6.8 for leave from 6.10 is late (another employee, no overlap)
    with clock.frozen(at):
        headers = token_of("outsider", at)
        late = _apply(client, headers, start="2026-06-10", end="2026-06-10")
        listed = client.get("/api/v1/me/leave-requests", headers=headers).get_json()
        overlapping = _apply(client, token_of("learner", at), start="2026-06-11", end="2026-06-12")
    assert overlapping.status_code == 409 and "pending" in overlapping.get_json()["error"]["message"]
    assert late.status_code == 201 and late.get_json()["late"] is True
    assert [r["late"] for r in listed] == [True]


def test_the_form_shows_late_before_sending(login_as, selfservice):
    client = login_as("learner")
    with clock.frozen(datetime(2026, 6, 8, 9, 0)):
        page = client.post("/requests/leave", data={"kind": "leave", "type": "annual", "start": "2026-06-10",
                                                    "end": "2026-06-10", "reason": "看病", "action": "review"})
    assert page.status_code == 200 and 'data-test="late-warning"' in page.get_data(as_text=True)
    assert db.session.scalar(select(LeaveRequest.id)) is None  # reviewing sends nothing
    with clock.frozen(datetime(2026, 6, 7, 9, 0)):
        page = client.post("/requests/leave", data={"kind": "leave", "type": "annual", "start": "2026-06-10",
                                                    "end": "2026-06-10", "reason": "看病", "action": "review"})
        assert 'data-test="on-time"' in page.get_data(as_text=True)
        sent = client.post("/requests/leave", data={"kind": "leave", "type": "annual", "start": "2026-06-10",
                                                    "end": "2026-06-10", "reason": "看病", "action": "send"})
    assert sent.status_code == 302
    request = db.session.scalars(select(LeaveRequest)).one()
    assert request.state == "pending" and request.is_late is False and request.notice_days == 3
    # The direct manager is told in-app and by SMS.
    message = db.session.scalars(select(Message).where(Message.recipient_id == selfservice.manager.id)).one()
    assert {d.channel for d in message.deliveries} == {"inapp", "sms"}


def test_the_manager_approves_and_the_leave_names_him_and_the_request(client, token_of, selfservice):
    with clock.frozen(JUNE_7_EVENING):
        created = _apply(client, token_of("learner", JUNE_7_EVENING)).get_json()
        decided = client.post(f"/api/v1/leave-requests/{created['id']}/decision",
                              headers=token_of("manager", JUNE_7_EVENING), json={"decision": "approve", "note": "同意"})
    assert decided.status_code == 200 and decided.get_json()["state"] == "approved"
    leave = db.session.scalars(select(Leave)).one()
    assert (leave.starts_on, leave.ends_on, leave.type) == (date(2026, 6, 10), date(2026, 6, 11), "personal")
    assert leave.approved_by == f"张伟 ({selfservice.manager.employee_no})"
    assert leave.source == f"request:{created['id']}"
    assert db.session.get(LeaveRequest, created["id"]).leave_id == leave.id
    kinds = [event.kind for event in db.session.scalars(select(EvidenceEvent))]
    assert "requests.leave_decided" in kinds and "absence.leave_recorded" in kinds


def test_the_managers_manager_only_when_allowed_and_nobody_else(client, token_of, selfservice):
    with clock.frozen(datetime(2026, 6, 1, 10, 0)):  # a Monday
        created = _apply(client, token_of("learner", datetime(2026, 6, 1, 10, 0)), start="2026-06-10").get_json()
    url = f"/api/v1/leave-requests/{created['id']}/decision"
    monday_noon = datetime(2026, 6, 1, 12, 0)
    with clock.frozen(monday_noon):
        for who in ("director", "outsider", "learner"):
            refused = client.post(url, headers=token_of(who, monday_noon), json={"decision": "approve"})
            assert refused.status_code == 404, who
    # The manager marked away: his manager may decide.
    db.session.add(AwayMark(employee_id=selfservice.manager.id, starts_on=date(2026, 6, 1), ends_on=date(2026, 6, 1),
                            set_by="test"))
    db.session.commit()
    with clock.frozen(monday_noon):
        decided = client.post(url, headers=token_of("director", monday_noon), json={"decision": "reject",
                                                                                      "note": "项目上线期间"})
        assert client.post(url, headers=token_of("outsider", monday_noon),
                           json={"decision": "approve"}).status_code == 404
    assert decided.status_code == 200 and decided.get_json()["state"] == "rejected"
    assert db.session.scalar(select(Leave.id)) is None


def test_after_the_window_the_managers_manager_may_decide(client, token_of, selfservice):
    friday = datetime(2026, 6, 5, 17, 0)
    with clock.frozen(friday):
        created = _apply(client, token_of("learner", friday), start="2026-06-15", end="2026-06-15").get_json()
    url = f"/api/v1/leave-requests/{created['id']}/decision"
    monday = datetime(2026, 6, 8, 23, 0)  # the weekend does not count: the window is Monday, 6.8
    with clock.frozen(monday):
        assert client.post(url, headers=token_of("director", monday), json={"decision": "approve"}).status_code == 404
    tuesday = datetime(2026, 6, 9, 0, 5)
    with clock.frozen(tuesday):
        from lms import jobs
        jobs.run_tick(clock.as_utc(tuesday).isoformat())  # the reminder goes to both
        decided = client.post(url, headers=token_of("director", tuesday), json={"decision": "approve"})
    assert decided.status_code == 200
    reminders = db.session.scalars(select(Message.recipient_id).where(Message.step_key.like("%:reminder"))).all()
    assert set(reminders) == {selfservice.manager.id, selfservice.director.id}
    assert db.session.scalars(select(Leave)).one().approved_by.startswith("陈总监")


def test_a_business_trip_is_its_own_kind_and_covers_its_days_as_leave(client, token_of, selfservice):
    at = datetime(2026, 6, 9, 9, 0)  # next day: a trip is not late leave
    with clock.frozen(at):
        created = _apply(client, token_of("learner", at), start="2026-06-10", end="2026-06-12",
                         type_="business_trip").get_json()
        client.post(f"/api/v1/leave-requests/{created['id']}/decision", headers=token_of("manager", at),
                    json={"decision": "approve"})
    assert created["kind"] == "trip" and created["late"] is False
    assert db.session.scalars(select(Leave)).one().type == "business_trip"


def test_an_extension_starts_where_the_leave_ends_and_only_before_it_ends(client, token_of, selfservice):
    at = datetime(2026, 6, 5, 9, 0)
    with clock.frozen(at):
        created = _apply(client, token_of("learner", at), start="2026-06-08", end="2026-06-10").get_json()
        client.post(f"/api/v1/leave-requests/{created['id']}/decision", headers=token_of("manager", at),
                    json={"decision": "approve"})
    leave_id = db.session.scalars(select(Leave)).one().id
    body = {"type": "sick", "start": "2026-06-11", "end": "2026-06-12", "reason": "续假：仍需住院",
            "extends_leave_id": leave_id}
    after = datetime(2026, 6, 11, 8, 0)
    with clock.frozen(after):
        refused = client.post("/api/v1/me/leave-requests", headers=token_of("learner", after), json=body)
    assert refused.status_code == 409 and "2026-06-10" in refused.get_json()["error"]["message"]
    last_day = datetime(2026, 6, 10, 20, 0)
    with clock.frozen(last_day):
        wrong_start = client.post("/api/v1/me/leave-requests", headers=token_of("learner", last_day),
                                  json={**body, "start": "2026-06-12"})
        accepted = client.post("/api/v1/me/leave-requests", headers=token_of("learner", last_day), json=body)
    assert wrong_start.status_code == 422
    assert accepted.status_code == 201 and accepted.get_json()["late"] is True
    assert db.session.get(LeaveRequest, accepted.get_json()["id"]).extends_leave_id == leave_id


def test_the_manager_is_told_in_app_and_by_sms(client, token_of, selfservice):
    with clock.frozen(JUNE_7_EVENING):
        _apply(client, token_of("learner", JUNE_7_EVENING))
    message = db.session.scalars(select(Message).where(Message.recipient_id == selfservice.manager.id)).one()
    assert "王芳" in message.subject and {d.channel for d in message.deliveries} == {"inapp", "sms"}
