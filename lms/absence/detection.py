"""The scan: who is absent on which day, opening cases, queueing their steps, counting closed days.

`scan(at)` looks at each day from the last closed one to today. On a working day, an employee
with no punch and no leave by shift start + the first-alert delay gets a case (or the open
one gets the day) and a message step is queued — unless the day is already over, in which case
the step is recorded as skipped: a scheduler that was down sends no stale alerts. When a day
is over its absences are counted and the threshold checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, exists, or_, select, text

from lms import clock, evidence
from lms.absence import calendar, reconcile, schedules, thresholds
from lms.absence.cases import day_end, monitoring, stale_from, subject
from lms.absence.models import (
    AbsenceCase,
    CaseDay,
    CaseStep,
    Leave,
    Punch,
    ShiftAssignment,
)
from lms.absence.rules import Rules, rules_in_force
from lms.absence.thresholds import OpenCase
from lms.bulk import among, insert_ignoring_conflicts
from lms.extensions import db
from lms.people.models import Employee

# ---------------------------------------------------------------- the scan


@dataclass
class ScanReport:
    days: list[date] = field(default_factory=list)
    opened: int = 0
    queued: int = 0
    skipped: int = 0
    counted: int = 0
    thresholds: int = 0
    unknown_days: list[date] = field(default_factory=list)


def absent_employee_ids(day: date, group_ids: Sequence[int | None], default_included: bool) -> list[int]:
    """Employees watched on `day`, in the given shift groups, with no punch and no leave that day."""
    watched = and_(Employee.status != "terminated", Employee.hire_date <= day)
    no_punch = ~exists().where(Punch.employee_id == Employee.id, Punch.work_day == day)
    no_leave = ~exists().where(Leave.employee_id == Employee.id, Leave.starts_on <= day, Leave.ends_on >= day)
    query = select(Employee.id).where(watched, no_punch, no_leave)
    explicit = [g for g in group_ids if g is not None]
    in_group = exists().where(ShiftAssignment.employee_id == Employee.id, ShiftAssignment.shift_group_id.in_(explicit))
    assigned = exists().where(ShiftAssignment.employee_id == Employee.id)
    if default_included:
        query = query.where(or_(~assigned, in_group) if explicit else ~assigned)
    elif explicit:
        query = query.where(in_group)
    else:
        return []
    return list(db.session.scalars(query))


def _groups_due(day: date, at: datetime, rules: Rules, shifts: dict) -> tuple[list[int | None], bool]:
    """Shift groups whose first alert on `day` is due by `at`; and whether the default group is one."""
    default = shifts[None]
    # Once the day is over every group is due, even a late shift whose alert time falls after midnight.
    over = at >= day_end(day)
    due = [gid for gid, shift in shifts.items() if over or shift.start_on(day) + rules.first_alert_after <= at]
    # Employees without an assignment follow the default group; an explicit default group is
    # also a group of its own for those assigned to it.
    return due, (None in due) or (default.group_id is not None and default.group_id in due)


def scan(at: datetime | None = None) -> ScanReport:
    """Detect absences up to `at`, open cases, queue their message steps, count closed days."""
    at = at or clock.now()
    report = ScanReport()
    watch = monitoring()
    if watch is None:
        return report
    rules = rules_in_force()
    today = at.astimezone(clock.zone()).date()
    start = max(watch.started_on, (watch.closed_through + timedelta(days=1)) if watch.closed_through else date.min)
    if start > today:
        return report
    span = [start + timedelta(days=n) for n in range((today - start).days + 1)]
    infos = calendar.classify(span)
    shifts = schedules.shifts_by_group()
    for day in span:
        closed = at >= day_end(day)
        info = infos[day]
        report.days.append(day)
        if info.kind == calendar.UNKNOWN:
            report.unknown_days.append(day)
        elif info.is_workday:
            _scan_day(day, at, closed, rules, shifts, report)
        if closed:
            watch.closed_through = day
    db.session.commit()
    # After the days, not before: a case this scan opened for a day the employee has since come
    # back from (the scheduler was down) resolves now, instead of being opened again next time.
    reconcile.reconcile()
    return report


def _scan_day(day: date, at: datetime, closed: bool, rules: Rules, shifts: dict, report: ScanReport) -> None:
    groups, default_due = _groups_due(day, at, rules, shifts)
    absent = absent_employee_ids(day, groups, default_due)
    if not absent:
        return
    cases = _open_cases_for(absent)
    new_ids = [employee_id for employee_id in absent if employee_id not in cases]
    if new_ids:
        opened = _open_cases(new_ids, day, at, rules)
        report.opened += len(opened)
        cases.update(opened)
        if len(opened) < len(new_ids):  # another scan opened some of them meanwhile: read those
            cases.update(_open_cases_for([e for e in new_ids if e not in opened]))
    shift_of = _shift_by_employee(absent, shifts)
    due_of = {}  # shift → (its alert time on `day`, stale?): a handful of shifts for thousands of employees
    step_rows = []
    for employee_id in absent:
        case = cases[employee_id]
        if case.paused_at is not None or case.state == "threshold_reached":
            continue  # a reply or HR has the case; after the threshold the notice speaks
        kind = "alert1" if case.alert1_day is None else "reminder"
        if kind == "reminder" and day <= case.alert1_day:
            continue
        shift = shift_of[employee_id]
        if shift not in due_of:
            due = shift.start_on(day) + rules.first_alert_after
            due_of[shift] = (due, at >= stale_from(due))
        due_at, stale = due_of[shift]
        step_rows.append({
            "case_id": case.id, "key": "alert1" if kind == "alert1" else f"reminder:{day.isoformat()}",
            "kind": kind, "day": day, "due_at": due_at,
            "status": "skipped" if stale else "queued",
            "done_at": at if stale else None, "skip_reason": "day_closed" if stale else None,
        })
    if step_rows:
        table = CaseStep.__table__
        inserted = [status for (status,) in insert_ignoring_conflicts(table, step_rows, [table.c.status])]
        report.queued += sum(1 for status in inserted if status == "queued")
        report.skipped += sum(1 for status in inserted if status == "skipped")
    if closed:
        _count_day(day, at, [cases[e] for e in absent], rules, report)


def _shift_by_employee(employee_ids: list[int], shifts: dict) -> dict[int, schedules.Shift]:
    assigned = {}
    for condition in among(ShiftAssignment.employee_id, employee_ids):
        assigned.update(db.session.execute(select(ShiftAssignment.employee_id, ShiftAssignment.shift_group_id)
                                           .where(condition)).all())
    return {e: shifts.get(assigned.get(e), shifts[None]) for e in employee_ids}


def _open_cases_for(employee_ids: list[int]) -> dict[int, OpenCase]:
    alert1 = select(CaseStep.day).where(CaseStep.case_id == AbsenceCase.id, CaseStep.key == "alert1") \
        .correlate(AbsenceCase).scalar_subquery()
    result = {}
    for condition in among(AbsenceCase.employee_id, employee_ids):
        rows = db.session.execute(select(
            AbsenceCase.employee_id, AbsenceCase.id, AbsenceCase.state, AbsenceCase.paused_at,
            AbsenceCase.first_day, alert1,
        ).where(condition, AbsenceCase.state != "resolved"))
        result.update({row[0]: OpenCase(*row) for row in rows})
    return result


def _open_cases(employee_ids: list[int], day: date, at: datetime, rules: Rules) -> dict[int, OpenCase]:
    """Open a case for each employee that has none open; the new ones by employee id."""
    rows = [{"employee_id": e, "state": "opened", "first_day": day, "rule_version": rules.version,
             "opened_at": at} for e in employee_ids]
    table = AbsenceCase.__table__
    # The partial unique index's own predicate, as SQL text: a bound literal cannot go in executemany().
    inserted = insert_ignoring_conflicts(table, rows, [table.c.id, table.c.employee_id], index_elements=["employee_id"],
                            index_where=text("state <> 'resolved'"))
    evidence.record_many((("absence.case_opened", subject(case_id), {
        "employee": evidence.subject_of("employee", employee_id), "first_day": day,
        "rule_version": rules.version}) for case_id, employee_id in inserted), actor="system")
    return {employee_id: OpenCase(employee_id, case_id, "opened", None, day, None)
            for case_id, employee_id in inserted}


def _count_day(day: date, at: datetime, cases: list[OpenCase], rules: Rules, report: ScanReport) -> None:
    """The day is over and still unexplained: it counts, and may reach the threshold."""
    rows = [{"case_id": c.id, "day": day, "employee_id": c.employee_id, "status": "counted", "counted_at": at}
            for c in cases]
    table = CaseDay.__table__
    inserted = [case_id for (case_id,) in insert_ignoring_conflicts(table, rows, [table.c.case_id])]
    report.counted += len(inserted)
    if not inserted:
        return
    evidence.record_many((("absence.day_counted", subject(case_id), {"day": day}) for case_id in inserted),
                         actor="system")
    new = set(inserted)
    # A paused case (a reply or a return waiting for HR) counts its days but does not escalate:
    # HR's "continue" checks the threshold then (_threshold_now).
    reached = thresholds.reached(day, [c for c in cases if c.id in new and c.state != "threshold_reached"
                                       and c.paused_at is None], rules)
    thresholds.mark(reached, day, rules)
    report.thresholds += len(reached)
