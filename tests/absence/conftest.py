"""Absence fixtures: the rules in force, monitoring on, and a way to run the scheduler hour by hour."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from lms import clock, jobs
from lms.absence import cases, reconcile
from lms.absence.models import Leave, Punch
from lms.extensions import db


def switch_on(content) -> None:
    """Rules synced and monitoring on from 2026-06-01 (the seed's June)."""
    content.sync()
    with clock.frozen(datetime(2026, 5, 31, 12, 0)):
        cases.start_monitoring(date(2026, 6, 1))


@pytest.fixture
def absence_setup(app, org, content):
    """The named people, the rules in force, monitoring on from 2026-06-01."""
    switch_on(content)
    return org


def add_leave(employee, start: date, end: date, kind: str = "personal") -> Leave:
    leave = Leave(employee_id=employee.id, type=kind, starts_on=start, ends_on=end, source="test", created_by="test")
    db.session.add(leave)
    db.session.commit()
    reconcile.reconcile([employee.id])
    return leave


def add_punch(employee, moment: datetime) -> None:
    at = clock.as_utc(moment)
    db.session.add(Punch(employee_id=employee.id, punched_at=at, work_day=moment.date(), source="test"))
    db.session.commit()
    reconcile.reconcile([employee.id])


def everyone_present(org, start: date, end: date, but=()) -> None:
    """Morning punches for the named people except `but`, every day from start to end."""
    people = [org.director, org.manager, org.learner, org.colleague, org.hr_officer, org.outsider]
    day = start
    while day <= end:
        for person in people:
            if person not in but:
                db.session.add(Punch(employee_id=person.id, punched_at=clock.as_utc(datetime.combine(
                    day, datetime.min.time()).replace(hour=8, minute=55)), work_day=day, source="test"))
        day += timedelta(days=1)
    db.session.commit()


def run_ticks(start: datetime, end: datetime, every: timedelta = timedelta(hours=1)) -> None:
    """The scheduler, every `every` from start to end inclusive (local times)."""
    moment = start
    while moment <= end:
        jobs.run_tick(clock.as_utc(moment).isoformat())
        moment += every
