"""The self-service rules' numbers, read from the rule set in force on a day (never constants in code),
and working days per employee (their shift pattern, the national calendar with 调休)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.absence import workdays
from lms.courses.models import RuleSet
from lms.extensions import db


class RequestRefused(ValueError):
    """A request the rules or the facts do not allow; the message names what is wrong (and `field`)."""

    def __init__(self, message, field: str | None = None, status: int = 409):
        super().__init__(str(message))
        self.message, self.field, self.status = message, field, status


@dataclass(frozen=True)
class RuleValue:
    value: int
    version: str
    clause: str


def rule_value(day: date, clause: str, key: str) -> RuleValue:
    """The value `key` of `clause` in the rule set in force on `day`; RequestRefused when none states it."""
    rule_set = db.session.scalars(select(RuleSet).where(RuleSet.effective_from <= day)
                                  .options(selectinload(RuleSet.clauses))
                                  .order_by(RuleSet.effective_from.desc(), RuleSet.adopted_on.desc(),
                                            RuleSet.id.desc()).limit(1)).first()
    values = {c.clause_id: c.values or {} for c in rule_set.clauses} if rule_set else {}
    try:
        return RuleValue(int(values[clause][key]), rule_set.version, clause)
    except (KeyError, TypeError, ValueError):
        raise RequestRefused(_l("No rule set in force on %(day)s states %(clause)s (%(key)s): HR must load the "
                                "rules first.", day=day.isoformat(), clause=clause, key=key), status=409) from None


MAX_SPAN = 62  # far more than the longest run of rest days (Spring Festival, National Day)


def working_days_after(employee_id: int, day: date, count: int) -> date:
    """The `count`-th working day of the employee after `day` (rest days and holidays skipped, 调休 days
    worked); RequestRefused if the calendar or roster does not know a day on the way."""
    if count <= 0:
        return day
    kinds = workdays.kinds_for([employee_id], day + timedelta(days=1), day + timedelta(days=MAX_SPAN))[employee_id]
    seen = 0
    for current in sorted(kinds):
        info = kinds[current]
        if info.kind == "unknown":
            raise RequestRefused(_l("The working-day calendar does not know %(day)s yet.", day=current.isoformat()))
        if info.kind == "workday":
            seen += 1
            if seen == count:
                return current
    raise RequestRefused(_l("No %(n)s working days within %(span)s days of %(day)s.", n=count, span=MAX_SPAN,
                            day=day.isoformat()))
