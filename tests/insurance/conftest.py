"""Helpers for the insurance tests: Beijing's rule as HR enters it, absence days, an ending of employment."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from lms import clock
from lms.absence import termination
from lms.absence.models import AbsenceCase, CaseDay
from lms.extensions import db
from lms.insurance import cities

# Rates chosen to be checked by hand: on a base of 8,700.00 the employer pays 1,392.00 + 852.60 + 43.50 + 34.80
# = 2,322.90 and the employee 696.00 + 174.00 + 43.50 = 913.50.
RATES = {"pension": {"employer": "16", "personal": "8"}, "medical": {"employer": "9.8", "personal": "2"},
         "unemployment": {"employer": "0.5", "personal": "0.5"}, "work_injury": {"employer": "0.4"}}


def at(*args):
    return clock.frozen(clock.as_utc(datetime(*args)))


def enter_rule(city: str, actor, **values) -> None:
    with at(2026, 1, 5, 10, 0):
        cities.save_rule(city, {"cutoff_day": 15, "cutoff_inclusive": True, "rates": RATES, "minimum_wage": "2540",
                                "source": "北京市人力资源和社会保障局通知（测试）", "checked_on": date(2026, 1, 5),
                                "valid_from": date(2026, 1, 1), **values}, actor)


@pytest.fixture
def beijing(app, org):
    enter_rule("北京市", org.users["hr"])


@pytest.fixture
def wang(app, org, content):
    """王芳, hired 2024-07-01, works in Beijing on 8,700.00 a month with that base."""
    content.sync()  # the termination certificate's template
    person = org.learner
    person.hire_date, person.work_city = date(2024, 7, 1), "北京"
    person.monthly_wage = person.social_insurance_base = Decimal("8700.00")
    db.session.commit()
    return person


def absent(employee, days: list[date], resolved_on: date | None = None, unconfirmed: bool = False) -> AbsenceCase:
    """A case whose counted 旷工 days are `days` (the detection itself is tested in tests/absence)."""
    case = AbsenceCase(employee_id=employee.id, state="resolved" if resolved_on else "threshold_reached",
                       first_day=days[0], opened_at=clock.as_utc(datetime.combine(days[0], datetime.min.time())),
                       resolved_at=clock.as_utc(datetime.combine(resolved_on, datetime.min.time()))
                       if resolved_on else None, resolution="returned" if resolved_on else None)
    db.session.add(case)
    db.session.flush()
    for day in days:
        db.session.add(CaseDay(case_id=case.id, day=day, employee_id=employee.id, status="counted",
                               counted_at=case.opened_at, needs_confirmation=unconfirmed))
    db.session.commit()
    return case


def end(employee, on: date, kind: str = "resignation"):
    """The employment ends on `on` (recorded the next morning)."""
    with at(on.year, on.month, on.day, 18, 0):
        return termination.record_separation(employee, kind, on, "test")


def days(text: str) -> list[date]:
    """'6.15-6.18, 6.22' in 2026 → the dates."""
    result = []
    for part in text.split(","):
        first, _, last = part.strip().partition("-")
        m1, d1 = map(int, first.split("."))
        m2, d2 = map(int, (last or first).split("."))
        day = date(2026, m1, d1)
        while day <= date(2026, m2, d2):
            result.append(day)
            day = date.fromordinal(day.toordinal() + 1)
    return result
