"""The direct manager records what the employee told them (rule leave.emergency): the case pauses for HR."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from lms import clock
from lms.absence.models import AbsenceCase
from lms.extensions import db
from tests.absence.conftest import add_leave, everyone_present, run_ticks


def _alerted(org) -> AbsenceCase:
    add_leave(org.learner, date(2026, 6, 1), date(2026, 6, 14))
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 19), but=[org.learner])
    run_ticks(datetime(2026, 6, 15, 11, 0), datetime(2026, 6, 15, 12, 0))
    return db.session.scalars(select(AbsenceCase)).one()


def test_the_manager_records_a_call_and_the_case_waits_for_hr(absence_setup, login_as):
    case = _alerted(absence_setup)
    manager = login_as("manager")
    page = manager.get(f"/absence/cases/{case.id}").get_data(as_text=True)
    assert 'data-test="manager-call"' in page
    with clock.frozen(clock.as_utc(datetime(2026, 6, 15, 12, 30))):
        response = manager.post(f"/absence/cases/{case.id}/manager-call",
                                data={"text": "她母亲来电：昨晚急诊住院，明天补假", "received_at": "2026-06-15T12:10"})
    assert response.status_code == 302
    db.session.refresh(case)
    manager_ref = f"user:{absence_setup.users['manager'].id}"
    assert [(r.channel, r.recorded_by) for r in case.replies] == [("manager", manager_ref)]
    assert case.paused_at == clock.as_utc(datetime(2026, 6, 15, 12, 10))
    assert [t.kind for t in case.todos if t.done_at is None] == ["decide_reply"]


def test_only_the_employees_managers_may_record_a_call(absence_setup, login_as, make_employee, make_user):
    case = _alerted(absence_setup)
    other = make_employee("周经理", position="物流经理", status="active")
    make_user("other_manager", "manager", other)
    for who in ("other_manager", "learner", "hr"):
        response = login_as(who).post(f"/absence/cases/{case.id}/manager-call", data={"text": "x"})
        assert response.status_code in (403, 404), who
    db.session.refresh(case)
    assert case.replies == []
