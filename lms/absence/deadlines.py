"""The deadlines a return-to-work notice states (SPEC §4 "notice").

The stated deadline D = dispatch date + the rule set's postal allowance + its return period, in
calendar days (the dispatch day itself not counted), moved to the next working day when it falls
on a rest day or holiday; a 调休 working Saturday is a working day and does not move.
"""

from __future__ import annotations

from datetime import date, timedelta

from lms.absence import calendar

PROCEDURE_CLAUSE = "unreachable.procedure"
# How far a deadline may be moved looking for a working day before we give up: the longest run of
# rest days in the national calendar is 8 (Spring Festival, National Day); unknown days stop it.
MAX_MOVE_DAYS = 31


class DeadlineUnknown(ValueError):
    """The calendar does not know the days the deadline would fall on: HR must enter the year first."""


def next_working_day_from(day: date) -> date:
    """`day` if it is a working day, else the first working day after it (per the working-day calendar)."""
    info = calendar.day_info(day)
    if info.is_workday:  # the usual case: one lookup, not a month's
        return day
    span = [day + timedelta(days=n) for n in range(MAX_MOVE_DAYS)]
    for current, info in sorted(calendar.classify(span).items()):
        if info.kind == calendar.UNKNOWN:
            raise DeadlineUnknown(f"the working-day calendar does not know {current.isoformat()}")
        if info.is_workday:
            return current
    raise DeadlineUnknown(f"no working day within {MAX_MOVE_DAYS} days of {day.isoformat()}")


def stated_deadline(dispatch_day: date, rules_values: dict) -> date:
    """D for a notice dispatched on `dispatch_day`; `rules_values` are the `unreachable.procedure`
    clause's values (postal_allowance_days, return_period_days)."""
    days = int(rules_values["postal_allowance_days"]) + int(rules_values["return_period_days"])
    return next_working_day_from(dispatch_day + timedelta(days=days))
