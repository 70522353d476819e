"""The absence procedure's numbers, read from the rule set in force (never constants in code)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from lms.courses.services import current_rule_set


class RulesMissing(RuntimeError):
    """No rule set in force gives the absence procedure's values: nothing can be scheduled."""


@dataclass(frozen=True)
class Rules:
    """The absence procedure's numbers, as the rule set in force states them."""

    version: str
    first_alert_after: timedelta
    second_alert_after: timedelta
    consecutive_days: int
    days_per_month: int


def rules_in_force() -> Rules:
    """The procedure's delays and thresholds from the rule set in force (SPEC §4 defaults live there)."""
    rule_set = current_rule_set()
    values = {clause.clause_id: clause.values or {} for clause in (rule_set.clauses if rule_set else [])}
    procedure, threshold = values.get("unreachable.procedure", {}), values.get("absence.threshold", {})
    try:
        return Rules(rule_set.version, timedelta(hours=procedure["first_alert_after_hours"]),
                     timedelta(hours=procedure["second_alert_after_hours"]),
                     int(threshold["consecutive_working_days"]), int(threshold["days_per_calendar_month"]))
    except (AttributeError, KeyError, TypeError) as exc:
        raise RulesMissing("the rule set in force lacks unreachable.procedure or absence.threshold values") from exc
