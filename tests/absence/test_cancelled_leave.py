"""A leave entered in error and cancelled: the days it had explained count again on an open case;
a case it had closed stays closed, and HR is told to look at it again."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from lms import clock
from lms.absence import leave
from lms.absence.models import AbsenceCase
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db
from tests.absence.conftest import add_leave, everyone_present, run_ticks


def _case_of(person) -> AbsenceCase:
    db.session.expire_all()
    return db.session.scalars(select(AbsenceCase).where(AbsenceCase.employee_id == person.id)).one()


def test_a_cancelled_leave_counts_its_days_again_and_the_threshold_follows(absence_setup):
    org = absence_setup
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 19), but=[org.learner])
    add_leave(org.learner, date(2026, 6, 1), date(2026, 6, 14))
    run_ticks(datetime(2026, 6, 15, 11, 0), datetime(2026, 6, 17, 8, 0))  # 6.15 and 6.16 counted
    with clock.frozen(clock.as_utc(datetime(2026, 6, 17, 8, 30))):
        mistaken = add_leave(org.learner, date(2026, 6, 16), date(2026, 6, 16))  # the wrong employee's leave
    run_ticks(datetime(2026, 6, 17, 9, 0), datetime(2026, 6, 18, 8, 0))  # 6.17 counted
    case = _case_of(org.learner)
    assert case.counted_days == [date(2026, 6, 15), date(2026, 6, 17)] and case.state != "threshold_reached"

    with clock.frozen(clock.as_utc(datetime(2026, 6, 18, 9, 0))):
        assert leave.cancel_leave(mistaken.id, "录入错误：是另一位员工的假", actor=org.users["hr"]) == []
    case = _case_of(org.learner)
    assert case.counted_days == [date(2026, 6, 15), date(2026, 6, 16), date(2026, 6, 17)]
    assert case.state == "threshold_reached"
    assert clock.local(case.threshold_reached_at).replace(tzinfo=None) == datetime(2026, 6, 18, 9, 0)
    recounted = db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "absence.day_recounted")).one()
    assert recounted.payload == {"day": "2026-06-16", "because": "leave_cancelled"}


def test_a_case_closed_by_the_cancelled_leave_stays_closed_and_hr_is_told(absence_setup, login_as):
    org = absence_setup
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 19), but=[org.learner])
    add_leave(org.learner, date(2026, 6, 1), date(2026, 6, 14))
    run_ticks(datetime(2026, 6, 15, 11, 0), datetime(2026, 6, 16, 8, 0))  # 6.15 counted
    with clock.frozen(clock.as_utc(datetime(2026, 6, 16, 8, 30))):
        sick = add_leave(org.learner, date(2026, 6, 15), date(2026, 6, 16), kind="sick")
    case = _case_of(org.learner)
    assert (case.state, case.resolution, case.counted_days) == ("resolved", "leave", [])

    client = login_as("hr")
    with clock.frozen(clock.as_utc(datetime(2026, 6, 17, 9, 0))):
        response = client.post(f"/absence/leave/{sick.id}/cancel", data={"reason": "病假条是伪造的"},
                               follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and f"#{case.id}" in page and "flash-warning" in page
    case = _case_of(org.learner)
    assert (case.state, case.resolution, case.counted_days) == ("resolved", "leave", [])
