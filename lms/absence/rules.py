"""The absence procedure's numbers, read from the rule sets (never constants in code).

Each day is judged under the rule set in force *on that day*: the newest whose `effective_from`
has come by then (SPEC §4). A day before any rule set is in force has no rules and is never
counted; neither is a day whose rule set lacks the procedure's values.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lms import clock
from lms.courses.models import RuleSet
from lms.extensions import db


class RulesMissing(RuntimeError):
    """No rule set in force on a day gives the absence procedure's values: nothing is scheduled for it."""


@dataclass(frozen=True)
class Rules:
    """The absence procedure's numbers, as one rule set states them."""

    version: str
    first_alert_after: timedelta
    second_alert_after: timedelta
    consecutive_days: int
    days_per_month: int
    count_warned_days: bool = False  # days answered by a written warning count again toward the month
    postal_allowance_days: int | None = None  # a notice's deadline: dispatch + these + the return period
    return_period_days: int | None = None
    rule_set_id: int | None = None  # the row it was read from
    # The row itself, with its clauses loaded: held here so that the session keeps it (its identity map only
    # holds weak references) and a caller needing the clauses' texts reads them without a second query.
    rule_set: RuleSet | None = field(default=None, compare=False, repr=False)


def _parse(rule_set: RuleSet) -> Rules | None:
    values = {clause.clause_id: clause.values or {} for clause in rule_set.clauses}
    procedure, threshold = values.get("unreachable.procedure", {}), values.get("absence.threshold", {})
    try:
        return Rules(rule_set.version, timedelta(hours=procedure["first_alert_after_hours"]),
                     timedelta(hours=procedure["second_alert_after_hours"]),
                     int(threshold["consecutive_working_days"]), int(threshold["days_per_calendar_month"]),
                     bool(threshold.get("count_warned_days", False)),
                     _optional_int(procedure.get("postal_allowance_days")),
                     _optional_int(procedure.get("return_period_days")), rule_set.id, rule_set)
    except (KeyError, TypeError, ValueError):
        return None


def _optional_int(value) -> int | None:
    return int(value) if value is not None else None


def rules_by_day(days: Iterable[date]) -> dict[date, Rules | None]:
    """The rules in force on each day (None: no usable rule set yet); one query however many days."""
    days = sorted(set(days))
    if not days:
        return {}
    rule_sets = db.session.scalars(select(RuleSet).where(RuleSet.effective_from <= days[-1])
                                   .options(joinedload(RuleSet.clauses))  # with their clauses: a few sets
                                   .order_by(RuleSet.effective_from, RuleSet.adopted_on, RuleSet.id)).unique().all()
    parsed = [(rule_set.effective_from, _parse(rule_set)) for rule_set in rule_sets]
    result = {}
    for day in days:
        in_force = [rules for effective_from, rules in parsed if effective_from <= day]
        result[day] = in_force[-1] if in_force else None
    return result


def rules_on(day: date) -> Rules:
    """The rules in force on `day`; raises RulesMissing if none is (or it lacks the procedure's values)."""
    rules = rules_by_day([day])[day]
    if rules is None:
        raise RulesMissing(f"no rule set with the absence procedure's values is in force on {day.isoformat()}")
    return rules


def rules_in_force() -> Rules:
    """The rules in force today."""
    return rules_on(clock.today())
