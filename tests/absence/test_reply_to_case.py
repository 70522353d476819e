"""Replies: the SMS's signed link, the in-app reply button, HR's phone call, and HR's decision."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from sqlalchemy import select

from lms import clock
from lms.absence.models import AbsenceCase, Leave
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db
from lms.notify.models import Delivery, SmsOutbox
from tests.absence.conftest import add_leave, add_punch, everyone_present, run_ticks


@pytest.fixture
def alerted(absence_setup):
    """The learner's case on 6.15 at 12:00: alert 1 sent at 11:00, alert 2 due at 15:00."""
    org = absence_setup
    add_leave(org.learner, date(2026, 6, 1), date(2026, 6, 14))
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 19), but=[org.learner])
    run_ticks(datetime(2026, 6, 15, 11, 0), datetime(2026, 6, 15, 12, 0))
    org.case = db.session.scalars(select(AbsenceCase)).one()
    return org


def _reply_link() -> str:
    [sms] = db.session.scalars(select(SmsOutbox)).all()
    return re.search(r"https?://\S+/absence/r/\S+", sms.text).group(0)


def test_the_sms_link_lets_the_employee_explain_without_signing_in(client, alerted):
    path = "/absence/r/" + _reply_link().rsplit("/absence/r/", 1)[1]
    page = client.get(path)
    assert page.status_code == 200 and "王芳" in page.get_data(as_text=True)
    with clock.frozen(clock.as_utc(datetime(2026, 6, 15, 13, 30))):
        done = client.post(path, data={"text": "家里老人急病住院，我在老家医院"})
    assert done.status_code == 200 and 'data-test="reply-received"' in done.get_data(as_text=True)
    case = db.session.get(AbsenceCase, alerted.case.id)
    db.session.refresh(case)
    assert [(r.channel, r.text) for r in case.replies] == [("link", "家里老人急病住院，我在老家医院")]
    assert case.paused_at == clock.as_utc(datetime(2026, 6, 15, 13, 30))
    run_ticks(datetime(2026, 6, 15, 15, 0), datetime(2026, 6, 15, 15, 0))
    db.session.refresh(case)
    assert {s.key: s.skip_reason for s in case.steps}["alert2"] == "paused"


def test_a_forged_or_altered_link_is_refused(client, alerted):
    token = _reply_link().rsplit("/absence/r/", 1)[1]
    assert client.get("/absence/r/" + token[:-2] + "xx").status_code == 404
    assert client.post("/absence/r/not-a-token", data={"text": "hi"}).status_code == 404
    assert not db.session.get(AbsenceCase, alerted.case.id).replies


def test_the_in_app_alert_has_a_reply_button_for_the_employee_only(app, login_as, alerted):
    client = login_as("learner")
    delivery = db.session.scalars(select(Delivery).where(Delivery.channel == "inapp", Delivery.address.like(
        f"inbox:{alerted.learner.id}"))).one()
    page = client.get(f"/inbox/{delivery.id}").get_data(as_text=True)
    assert 'data-test="reply"' in page
    with clock.frozen(clock.as_utc(datetime(2026, 6, 15, 12, 30))):
        response = client.post(f"/absence/my/cases/{alerted.case.id}/reply", data={"text": "I am ill"})
    assert response.status_code == 200
    assert [r.channel for r in db.session.get(AbsenceCase, alerted.case.id).replies] == ["inapp"]
    assert login_as("colleague" if "colleague" in alerted.users else "outsider").get(
        f"/absence/my/cases/{alerted.case.id}/reply").status_code == 404
    manager_copy = db.session.scalars(select(Delivery).where(Delivery.address == f"inbox:{alerted.manager.id}")).first()
    assert 'data-test="reply"' not in login_as("manager").get(f"/inbox/{manager_copy.id}").get_data(as_text=True)


def test_hr_records_a_call_and_accepts_the_explanation(login_as, alerted):
    client = login_as("hr")
    case_id = alerted.case.id
    run_ticks(datetime(2026, 6, 15, 13, 0), datetime(2026, 6, 16, 15, 0))  # 6.15 is counted at midnight
    with clock.frozen(clock.as_utc(datetime(2026, 6, 16, 16, 0))):
        assert client.post(f"/absence/cases/{case_id}/phone", data={"text": "她母亲住院，补病假"}).status_code == 302
        page = client.get(f"/absence/cases/{case_id}").get_data(as_text=True)
        assert "她母亲住院" in page and "decision" in page
        assert client.post(f"/absence/cases/{case_id}/decide",
                           data={"decision": "accept", "note": "情况属实", "confirm_close": "y"}).status_code == 302
    case = db.session.get(AbsenceCase, case_id)
    db.session.refresh(case)
    assert case.state == "resolved" and case.resolution == "excused"
    assert case.counted_days == [] and [d.status for d in case.days] == ["excused"]
    assert case.replies[0].decision == "accepted"


def test_hr_continues_and_the_reminders_resume(login_as, alerted):
    client = login_as("hr")
    case_id = alerted.case.id
    with clock.frozen(clock.as_utc(datetime(2026, 6, 15, 14, 0))):
        client.post(f"/absence/cases/{case_id}/phone", data={"text": "接通但拒绝说明去向"})
        client.post(f"/absence/cases/{case_id}/decide", data={"decision": "continue"})
    run_ticks(datetime(2026, 6, 15, 15, 0), datetime(2026, 6, 16, 11, 0))
    case = db.session.get(AbsenceCase, case_id)
    db.session.refresh(case)
    steps = {s.key: (s.status, s.skip_reason) for s in case.steps}
    assert steps["alert2"] == ("skipped", "replied")
    assert steps["reminder:2026-06-16"] == ("sent", None)
    assert case.paused_at is None and case.replies[0].decision == "continued"


def test_a_paused_case_counts_its_days_but_reaches_the_threshold_only_when_hr_continues(login_as, alerted):
    client = login_as("hr")
    case_id = alerted.case.id
    with clock.frozen(clock.as_utc(datetime(2026, 6, 15, 14, 0))):
        client.post(f"/absence/cases/{case_id}/phone", data={"text": "说在外地处理家事，未说何时回来"})
    run_ticks(datetime(2026, 6, 15, 15, 0), datetime(2026, 6, 18, 9, 0))
    case = db.session.get(AbsenceCase, case_id)
    assert case.counted_days == [date(2026, 6, 15), date(2026, 6, 16), date(2026, 6, 17)]  # the facts go on
    assert case.state != "threshold_reached" and case.paused_at is not None  # the escalation waits for HR
    assert "prepare_return_notice" not in [t.kind for t in case.todos]

    with clock.frozen(clock.as_utc(datetime(2026, 6, 18, 10, 0))):
        assert client.post(f"/absence/cases/{case_id}/decide", data={"decision": "continue"}).status_code == 302
    db.session.expire_all()
    case = db.session.get(AbsenceCase, case_id)
    assert case.state == "threshold_reached" and case.paused_at is None
    assert clock.local(case.threshold_reached_at).replace(tzinfo=None) == datetime(2026, 6, 18, 10, 0)
    assert [t.kind for t in case.todos if t.done_at is None][-1] == "prepare_return_notice"
    reached = db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "absence.threshold_reached")).one()
    assert reached.payload["counted_days"] == ["2026-06-15", "2026-06-16", "2026-06-17"]


def test_a_decision_needs_something_to_decide(login_as, alerted):
    response = login_as("hr").post(f"/absence/cases/{alerted.case.id}/decide",
                                   data={"decision": "accept", "confirm_close": "y"})
    assert response.status_code == 409


def test_the_manager_reads_the_case_but_cannot_act_and_others_see_nothing(login_as, alerted):
    case_id = alerted.case.id
    manager = login_as("manager")
    page = manager.get(f"/absence/cases/{case_id}")
    assert page.status_code == 200 and "record_phone_call" not in page.get_data(as_text=True)
    assert manager.post(f"/absence/cases/{case_id}/phone", data={"text": "x"}).status_code == 403
    assert login_as("outsider").get(f"/absence/cases/{case_id}").status_code == 404
    assert login_as("learner").get(f"/absence/cases/{case_id}").status_code == 404


def test_the_review_page_lists_the_open_case_its_next_step_and_warnings(login_as, alerted):
    client = login_as("hr")
    with clock.frozen(clock.as_utc(datetime(2026, 6, 15, 12, 0))):
        page = client.get("/absence/").get_data(as_text=True)
    assert page.count('data-test="open-case"') == 1 and "王芳" in page
    assert 'data-test="monitoring-on"' in page
    assert 'data-test="calendar-warning"' not in page  # June to August 2026 is known
    with clock.frozen(clock.as_utc(datetime(2026, 12, 1, 12, 0))):
        late = client.get("/absence/").get_data(as_text=True)
    assert 'data-test="calendar-warning"' in late and "2027-01-01" in late  # 2027 is not, yet


def test_accepting_as_sick_leave_turns_the_counted_days_into_leave(login_as, alerted):
    client = login_as("hr")
    case_id = alerted.case.id
    run_ticks(datetime(2026, 6, 15, 13, 0), datetime(2026, 6, 17, 10, 0))  # 6.15 and 6.16 counted
    with clock.frozen(clock.as_utc(datetime(2026, 6, 17, 10, 30))):
        client.post(f"/absence/cases/{case_id}/phone", data={"text": "住院两天，有诊断证明"})
        response = client.post(f"/absence/cases/{case_id}/decide",
                               data={"decision": "accept", "leave_type": "sick", "note": "诊断证明已收",
                                     "confirm_close": "y"})
    assert response.status_code == 302
    case = db.session.get(AbsenceCase, case_id)
    db.session.refresh(case)
    assert case.state == "resolved" and case.resolution == "leave"
    assert [(d.day, d.status) for d in case.days] == [(date(2026, 6, 15), "leave"), (date(2026, 6, 16), "leave")]
    [leave] = db.session.scalars(select(Leave).where(Leave.source == f"case:{case_id}")).all()
    assert (leave.type, leave.starts_on, leave.ends_on) == ("sick", date(2026, 6, 15), date(2026, 6, 16))
    assert leave.approved_by == "李娜" and leave.note == "诊断证明已收"


def test_a_return_after_the_threshold_goes_to_hr_who_may_warn(login_as, alerted):
    case_id = alerted.case.id
    run_ticks(datetime(2026, 6, 15, 13, 0), datetime(2026, 6, 18, 8, 0))  # threshold after 6.17
    with clock.frozen(clock.as_utc(datetime(2026, 6, 18, 9, 30))):
        add_punch(alerted.learner, datetime(2026, 6, 18, 9, 12))  # she is back
    case = db.session.get(AbsenceCase, case_id)
    db.session.refresh(case)
    assert case.state == "threshold_reached" and case.paused_at is not None
    assert [t.kind for t in case.todos if t.done_at is None] == ["call_employee", "prepare_return_notice",
                                                                  "decide_return"]
    client = login_as("hr")
    with clock.frozen(clock.as_utc(datetime(2026, 6, 18, 10, 0))):
        response = client.post(f"/absence/cases/{case_id}/decide", data={"decision": "warn", "note": "首次，予以警告",
                                                                                 "confirm_close": "y"})
    assert response.status_code == 302
    db.session.refresh(case)
    assert (case.state, case.resolution) == ("resolved", "warned")
    assert case.counted_days == [date(2026, 6, 15), date(2026, 6, 16), date(2026, 6, 17)]  # still unpaid facts
    warning = db.session.scalars(select(SmsOutbox).order_by(SmsOutbox.id.desc())).first()
    assert "2026-06-15, 2026-06-16, 2026-06-17" in warning.text and "首次，予以警告" in warning.text


def test_warning_needs_a_counted_day(login_as, alerted):
    client = login_as("hr")
    with clock.frozen(clock.as_utc(datetime(2026, 6, 15, 12, 30))):
        client.post(f"/absence/cases/{alerted.case.id}/phone", data={"text": "在路上"})
        response = client.post(f"/absence/cases/{alerted.case.id}/decide",
                               data={"decision": "warn", "confirm_close": "y"})
    assert response.status_code == 409
    assert db.session.get(AbsenceCase, alerted.case.id).is_open


def test_managers_see_their_teams_cases_only(login_as, alerted):
    page = login_as("manager").get("/absence/team").get_data(as_text=True)
    assert page.count('data-test="team-case"') == 1 and "王芳" in page
    director = login_as("director").get("/absence/team").get_data(as_text=True)
    assert director.count('data-test="team-case"') == 1  # reports of reports too
    assert login_as("learner").get("/absence/team").status_code == 403


def test_the_reply_link_is_still_valid_a_month_later_while_the_case_is_open(client, alerted, monkeypatch):
    import time

    path = "/absence/r/" + _reply_link().rsplit("/absence/r/", 1)[1]
    later = time.time() + 31 * 86400  # the notice period outlasts any fixed lifetime of the link
    monkeypatch.setattr(time, "time", lambda: later)
    page = client.get(path)
    assert page.status_code == 200 and "王芳" in page.get_data(as_text=True)
