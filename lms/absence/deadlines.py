"""The deadlines a return-to-work notice states (SPEC §4 "notice").

The stated deadline D = dispatch date + the rule set's postal allowance + its return period, in
calendar days (the dispatch day itself not counted), moved to the next working day when it falls
on a rest day or holiday; a 调休 working Saturday is a working day and does not move.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask_babel import lazy_gettext as _l

from lms.absence import calendar
from lms.absence.cases import CaseError
from lms.absence.rules import RulesMissing, rules_on

PROCEDURE_CLAUSE = "unreachable.procedure"
# How far a deadline may be moved looking for a working day before we give up: the longest run of
# rest days in the national calendar is 8 (Spring Festival, National Day); unknown days stop it.
MAX_MOVE_DAYS = 31


class DeadlineUnknown(CaseError):
    """The calendar does not know the days the deadline would fall on: HR must enter the year first."""


def next_working_day_from(day: date) -> date:
    """`day` if it is a working day, else the first working day after it (per the working-day calendar)."""
    info = calendar.day_info(day)
    if info.is_workday:  # the usual case: one lookup, not a month's
        return day
    span = [day + timedelta(days=n) for n in range(MAX_MOVE_DAYS)]
    for current, info in sorted(calendar.classify(span).items()):
        if info.kind == calendar.UNKNOWN:
            raise DeadlineUnknown(_l("The calendar does not know %(day)s: enter that year's working days first.",
                                     day=current.isoformat()))
        if info.is_workday:
            return current
    raise DeadlineUnknown(_l("No working day within %(n)s days of %(day)s.", n=MAX_MOVE_DAYS, day=day.isoformat()))


def stated_deadline(dispatch_day: date, rules_values: dict) -> date:
    """D for a notice dispatched on `dispatch_day`; `rules_values` are the `unreachable.procedure`
    clause's values (postal_allowance_days, return_period_days)."""
    days = int(rules_values["postal_allowance_days"]) + int(rules_values["return_period_days"])
    return next_working_day_from(dispatch_day + timedelta(days=days))


def effective_deadline(stated: date, served_on: date, rules_values: dict) -> date:
    """The later of D and the service date + the return period, moved the same way (SPEC §4: the
    employee always has the return period after the notice reaches them)."""
    return max(stated, next_working_day_from(served_on + timedelta(days=int(rules_values["return_period_days"]))))


def procedure_values(day: date) -> dict:
    """The postal allowance and return period of the rule set in force on `day` (and its version);
    raises RulesMissing if that rule set states none."""
    rules = rules_on(day)
    if rules.postal_allowance_days is None or rules.return_period_days is None:
        raise RulesMissing(f"rule set {rules.version} states no postal allowance and return period")
    return {"postal_allowance_days": rules.postal_allowance_days, "return_period_days": rules.return_period_days,
            "version": rules.version}
