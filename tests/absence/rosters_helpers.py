"""Helpers of the roster and working-day pattern tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from lms import clock
from lms.absence.models import AbsenceCase, Punch
from lms.extensions import db


def punch_daily(employee, start: date, end: date, but=(), at=(8, 55)) -> None:
    """A morning punch for one employee every day from start to end, except the dates in `but`."""
    day = start
    while day <= end:
        if day not in but:
            moment = datetime.combine(day, datetime.min.time()).replace(hour=at[0], minute=at[1])
            db.session.add(Punch(employee_id=employee.id, punched_at=clock.as_utc(moment), work_day=day, source="test"))
        day += timedelta(days=1)
    db.session.commit()


def cases_of(employee) -> list[AbsenceCase]:
    db.session.expire_all()
    return list(db.session.scalars(select(AbsenceCase).where(AbsenceCase.employee_id == employee.id)
                                   .order_by(AbsenceCase.id)))


def step_times(case: AbsenceCase) -> list[tuple[str, str, str]]:
    """(key, status, due local "MM-DD HH:MM") of the case's steps, by due time."""
    return [(s.key, s.status, clock.local(s.due_at).strftime("%m-%d %H:%M"))
            for s in sorted(case.steps, key=lambda s: (s.due_at, s.key))]
