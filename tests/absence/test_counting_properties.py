"""Property-based: whatever the punches, leave, calendar and scheduler timing, counting obeys the rules.

- a day with a punch, a leave day or a non-working (or unknown) day is never counted;
- the count never exceeds the working days elapsed;
- running the scheduler at any set of moments counts the same days as one run at the end.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from lms import clock
from lms.absence import calendar, detection, reconcile
from lms.absence.models import (
    AbsenceCase,
    CalendarOverride,
    CaseDay,
    CaseReply,
    CaseStep,
    CaseTodo,
    Leave,
    Monitoring,
    Punch,
)
from lms.extensions import db

START = date(2026, 9, 21)  # three weeks around National Day 2026, with its 调休 Saturdays
DAYS = 28
SPAN = [START + timedelta(days=n) for n in range(DAYS)]

day_index = st.integers(min_value=0, max_value=DAYS - 1)
situations = st.fixed_dictionaries({
    "punched": st.sets(day_index, max_size=DAYS),
    "late_uploads": st.sets(day_index, max_size=6),  # punches the clock uploads only at the very end
    "leave": st.lists(st.tuples(day_index, st.integers(min_value=0, max_value=4)), max_size=3),
    "overrides": st.dictionaries(day_index, st.booleans(), max_size=4),
    "ticks": st.lists(st.integers(min_value=0, max_value=DAYS * 24 - 1), max_size=12),
})


def _reset(org) -> None:
    for model in (CaseReply, CaseTodo, CaseStep, CaseDay, AbsenceCase, Punch, Leave, CalendarOverride):
        db.session.execute(delete(model))
    db.session.execute(update(Monitoring).values(closed_through=None))
    db.session.commit()


def _set_up(org, situation) -> None:
    for index, is_workday in situation["overrides"].items():
        calendar.set_override(SPAN[index], is_workday, "property test", "test")
    free = set(range(DAYS))
    for first, length in situation["leave"]:
        wanted = set(range(first, min(first + length, DAYS - 1) + 1))
        if wanted <= free:  # leave never overlaps (the leave service refuses it)
            free -= wanted
            db.session.add(Leave(employee_id=org.learner.id, type="personal", starts_on=SPAN[min(wanted)],
                                 ends_on=SPAN[max(wanted)], source="test", created_by="test"))
    for index in situation["punched"] - situation["late_uploads"]:
        _punch(org, index)
    db.session.commit()


def _punch(org, index: int) -> None:
    moment = clock.as_utc(datetime.combine(SPAN[index], datetime.min.time()).replace(hour=9, minute=3))
    db.session.add(Punch(employee_id=org.learner.id, punched_at=moment, work_day=SPAN[index], source="test"))


def _everyone_else_present(org) -> None:
    others = [org.director, org.manager, org.colleague, org.hr_officer, org.outsider]
    for day in SPAN:
        for person in others:
            db.session.add(Punch(employee_id=person.id, punched_at=clock.as_utc(
                datetime.combine(day, datetime.min.time()).replace(hour=8)), work_day=day, source="test"))
    db.session.commit()


def _counted() -> set[date]:
    return set(db.session.scalars(select(CaseDay.day).where(CaseDay.status == "counted")))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(situation=situations)
def test_counting_obeys_the_rules_whatever_happens(absence_setup, situation):
    org = absence_setup
    _reset(org)
    db.session.execute(update(Monitoring).values(started_on=START))
    db.session.commit()
    if not db.session.scalar(select(Punch.id).where(Punch.employee_id == org.director.id).limit(1)):
        _everyone_else_present(org)
    _set_up(org, situation)
    first = clock.as_utc(datetime.combine(START, datetime.min.time()))
    for hour in sorted(situation["ticks"]):
        at = first + timedelta(hours=hour)
        with clock.frozen(at):
            detection.scan(at)
    for index in situation["late_uploads"] & situation["punched"]:
        _punch(org, index)
    db.session.commit()
    reconcile.reconcile([org.learner.id])
    end = first + timedelta(days=DAYS, hours=1)
    with clock.frozen(end):
        detection.scan(end)

    counted = _counted()
    infos = calendar.classify(SPAN)
    punched = {SPAN[i] for i in situation["punched"]}
    on_leave = {day for leave in db.session.scalars(select(Leave)) for day in SPAN
                if leave.starts_on <= day <= leave.ends_on}
    working = {day for day, info in infos.items() if info.is_workday}
    assert not counted & punched
    assert not counted & on_leave
    assert counted <= working
    assert len(counted) <= len(working)
    # Every working day with no punch and no leave is counted, however the ticks fell.
    # (A late punch on or after a case's first day resolves that case; later days open a new one.)
    assert counted == working - punched - on_leave
