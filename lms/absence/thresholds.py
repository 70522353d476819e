"""Whether a case's counted days reach the threshold: 3 consecutive working days or 5 in a month.

Consecutive means working days (劳社厅函〔1998〕5号): rest days neither count nor break the run.
Only days that count toward a threshold are looked at (`countable`): a counted day found after the
fact, or left by a case that resolved by itself, counts once HR has confirmed it; a day answered by
a written warning counts again only if the rule set says so. Each threshold is judged under the
rules in force on the day it is reached.

A threshold that no longer holds — a late punch or leave, or HR's acceptance, un-counted a day —
is withdrawn at once (`withdraw_if_not_held`): the case goes back to its step state, the notice
to-do closes, today's skipped step comes back, and HR is told.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, or_, select, update

from lms import clock, evidence
from lms.absence import calendar, workdays
from lms.absence.cases import STATE_AFTER_STEP, day_end, stale_from, subject
from lms.absence.models import AbsenceCase, CaseDay, CaseStep, CaseTodo
from lms.absence.rules import Rules, rules_by_day
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


def countable(count_warned_days: bool):
    """The condition (over CaseDay joined to its AbsenceCase) for a day that counts toward a threshold."""
    confirmed = or_(CaseDay.needs_confirmation.is_(False), CaseDay.confirmed_at.is_not(None))
    condition = and_(CaseDay.status == "counted", confirmed)
    if count_warned_days:
        return condition
    return and_(condition, or_(AbsenceCase.resolution.is_(None), AbsenceCase.resolution != "warned"))


def _countable_days(employee_ids: list[int], since: date, rules: Rules) -> dict[int, set[date]]:
    counted = defaultdict(set)
    for condition in among(CaseDay.employee_id, employee_ids):
        for employee_id, counted_day in db.session.execute(
                select(CaseDay.employee_id, CaseDay.day).join(AbsenceCase).where(
                    condition, CaseDay.day >= since, countable(rules.count_warned_days))):
            counted[employee_id].add(counted_day)
    return counted


def criterion(day: date, days: set[date], infos: dict, since: date, rules: Rules) -> tuple[str, list[date]] | None:
    """("consecutive" | "month", the days) if the counted `days` reach a threshold on `day`, else None."""
    if day not in days:
        return None
    run = consecutive_run(day, days, infos, since)
    if len(run) >= rules.consecutive_days:
        return "consecutive", run
    in_month = sorted(d for d in days if (d.year, d.month) == (day.year, day.month))
    if len(in_month) >= rules.days_per_month:
        return "month", in_month
    return None


def reached(day: date, cases: list[OpenCase], rules: Rules) -> list[tuple[int, str, list[date]]]:
    """(case id, criterion, counted days) for the cases whose count reaches a threshold on `day`."""
    if not cases:
        return []
    earliest = min(min(c.first_day for c in cases), day.replace(day=1))
    counted = _countable_days([c.employee_id for c in cases], earliest, rules)
    # Each person's own working days (their group's pattern, their roster): a rostered rest day
    # neither counts nor breaks their run.
    kinds = workdays.kinds_for([c.employee_id for c in cases], earliest, day)
    result = []
    for case in cases:
        found = criterion(day, counted[case.employee_id], kinds[case.employee_id], case.first_day, rules)
        if found:
            result.append((case.id, *found))
    return result


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


def holding(case: AbsenceCase) -> tuple[date, str, list[date], Rules] | None:
    """(day, criterion, days, rules) of the latest threshold the case's countable days reach now, or None."""
    own = sorted(d.day for d in case.days if d.status == "counted")
    if not own:
        return None
    rules_of = rules_by_day(own)
    earliest = min(case.first_day, own[0].replace(day=1))
    infos = workdays.kinds_for([case.employee_id], earliest, own[-1])[case.employee_id]
    countable_by_flag: dict[bool, set[date]] = {}
    for day in reversed(own):
        rules = rules_of[day]
        if rules is None:
            continue
        if rules.count_warned_days not in countable_by_flag:
            countable_by_flag[rules.count_warned_days] = _countable_days(
                [case.employee_id], earliest, rules)[case.employee_id]
        found = criterion(day, countable_by_flag[rules.count_warned_days], infos, case.first_day, rules)
        if found:
            return day, *found, rules
    return None


def threshold_now(case: AbsenceCase, now: datetime) -> None:
    """Outside the daily count (HR continued a paused case, a cancelled leave's days count again, HR
    confirmed days): if the countable days reach a threshold, it is reached now."""
    if case.state in ("threshold_reached", "resolved") or case.paused_at is not None:
        return
    db.session.flush()
    found = holding(case)
    if found is None:
        return
    day, criterion_name, days, rules = found
    mark([(case.id, criterion_name, days)], day, rules, at=now)
    db.session.expire(case)  # marked in bulk, behind the session's back


def withdraw_if_not_held(case: AbsenceCase, changed_day: date, because: str, actor) -> bool:
    """After `changed_day` stopped counting: if no threshold holds any more, withdraw it. True if withdrawn.

    The case goes back to the state of its last sent step; the notice to-do closes (no document may
    follow a threshold that does not hold); a step skipped for the threshold that is still live is
    queued again, and the scan queues the next days' reminders as before; HR gets a to-do.
    """
    if case.state != "threshold_reached":
        return False
    db.session.flush()
    if holding(case) is not None:
        return False
    now = clock.now()
    sent = [step for step in case.steps if step.status == "sent"]
    case.state = STATE_AFTER_STEP[max(sent, key=lambda s: s.done_at).kind] if sent else "opened"
    case.threshold_reached_at = None
    for todo in case.todos:
        if todo.kind == "prepare_return_notice" and todo.done_at is None:
            todo.done_at, todo.done_by = now, "system"
    for step in case.steps:
        if step.status == "skipped" and step.skip_reason == "threshold_reached" and now < stale_from(step.due_at):
            step.status, step.skip_reason, step.done_at = "queued", None, None
    db.session.add(CaseTodo(case_id=case.id, kind="threshold_withdrawn", created_at=now))
    evidence.record("absence.threshold_withdrawn", subject(case.id), {
        "day": changed_day, "because": because, "state": case.state,
        "counted_days": [d.day for d in case.days if d.status == "counted"]}, actor=actor)
    return True
