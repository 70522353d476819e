"""Whether a case's counted days reach the threshold: 3 consecutive working days or 5 in a month.

Consecutive means working days (劳社厅函〔1998〕5号): rest days neither count nor break the run.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select, update

from lms import evidence
from lms.absence import calendar
from lms.absence.cases import day_end, subject
from lms.absence.models import (
    AbsenceCase,
    CaseDay,
    CaseStep,
    CaseTodo,
)
from lms.absence.rules import Rules, rules_in_force
from lms.bulk import among
from lms.extensions import db


@dataclass(frozen=True)
class OpenCase:
    """What the scan needs to know of an open case, read in bulk."""

    employee_id: int
    id: int
    state: str
    paused_at: datetime | None
    first_day: date
    alert1_day: date | None  # None: alert 1 not yet queued


def reached(day: date, cases: list[OpenCase], rules: Rules) -> list[tuple[int, str, list[date]]]:
    """(case id, criterion, counted days) for the cases whose count reaches a threshold on `day`."""
    if not cases:
        return []
    earliest = min(min(c.first_day for c in cases), day.replace(day=1))
    counted = defaultdict(set)
    for condition in among(CaseDay.employee_id, [c.employee_id for c in cases]):
        for employee_id, counted_day in db.session.execute(select(CaseDay.employee_id, CaseDay.day).where(
                condition, CaseDay.status == "counted", CaseDay.day >= earliest)):
            counted[employee_id].add(counted_day)
    infos = calendar.classify(earliest + timedelta(days=n) for n in range((day - earliest).days + 1))
    reached = []
    for case in cases:
        days = counted[case.employee_id]
        run = consecutive_run(day, days, infos, case.first_day)
        in_month = sorted(d for d in days if (d.year, d.month) == (day.year, day.month))
        if len(run) >= rules.consecutive_days:
            reached.append((case.id, "consecutive", run))
        elif len(in_month) >= rules.days_per_month:
            reached.append((case.id, "month", in_month))
    return reached


def consecutive_run(day: date, counted: set[date], infos: dict, since: date) -> list[date]:
    """The counted working days in an unbroken run ending on `day` (劳社厅函〔1998〕5号).

    Rest days neither count nor break the run; a working day not counted breaks it, and so does
    a day the calendar does not know — it might have been a working day the employee was not absent.
    """
    run, current = [], day
    while current >= since:
        info = infos.get(current)
        if info is None or info.kind == calendar.UNKNOWN:
            break
        if info.is_workday:
            if current not in counted:
                break
            run.append(current)
        current -= timedelta(days=1)
    return sorted(run)


def mark(reached: list[tuple[int, str, list[date]]], day: date, rules: Rules,
                     at: datetime | None = None) -> None:
    """The cases whose count reached a threshold on `day` (marked at the day's end, or `at`): state,
    HR's to-do, evidence; in bulk."""
    if not reached:
        return
    at, ids = at or day_end(day), [case_id for case_id, _criterion, _days in reached]
    for condition in among(AbsenceCase.id, ids):
        db.session.execute(update(AbsenceCase).where(condition)
                           .values(state="threshold_reached", threshold_reached_at=at)
                           .execution_options(synchronize_session=False))
    for condition in among(CaseStep.case_id, ids):
        db.session.execute(update(CaseStep).where(condition, CaseStep.status == "queued").values(
            status="skipped", skip_reason="threshold_reached", done_at=at).execution_options(synchronize_session=False))
    db.session.execute(CaseTodo.__table__.insert(), [
        {"case_id": case_id, "kind": "prepare_return_notice", "created_at": at} for case_id in ids])
    evidence.record_many((("absence.threshold_reached", subject(case_id), {
        "criterion": criterion, "counted_days": counted, "rule_version": rules.version, "clause": "absence.threshold",
        "limit": rules.consecutive_days if criterion == "consecutive" else rules.days_per_month,
    }) for case_id, criterion, counted in reached), actor="system")


def threshold_now(case: AbsenceCase, now: datetime) -> None:
    """Outside the daily count (HR continued a paused case, a cancelled leave's days count again):
    if the counted days reach the threshold, it is reached now."""
    counted = [d.day for d in case.days if d.status == "counted"]
    if case.state == "threshold_reached" or not counted:
        return
    db.session.flush()
    last = max(counted)
    waiting = OpenCase(case.employee_id, case.id, case.state, None, case.first_day, None)
    rules = rules_in_force()
    mark(reached(last, [waiting], rules), last, rules, at=now)
