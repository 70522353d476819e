"""The scan: who is absent on which day, opening cases, queueing their steps, counting closed days.

`scan(at)` looks at each day from the last closed one to today. On a working day, an employee
with no punch and no leave by shift start + the first-alert delay gets a case (or the open
one gets the day) and a message step is queued — unless the day is already over, in which case
the step is recorded as skipped: a scheduler that was down sends no stale alerts. When a day
is over its absences are counted (with the rule version in force on that day) and the threshold
checked.

Each day is judged under the rule set in force on that day; a day before any is in force is
recorded as `no_rules` and never counted. A day the calendar does not know is recorded as
`unknown` and scanned again once HR enters its year or an override; so is an employee's day the
scan could not judge because their roster month was missing (`ScanGap`), once the roster arrives.
Days that were over before anyone could be told — before monitoring was switched on, or unknown at
the time — are found
*after the fact*: their cases open in state `review`, nothing is sent, and each day counts toward
a threshold only once HR confirms it.

An employee is watched from the first day they actually worked (a punch on or after the hire
date): a new hire who never reports has no labour relationship yet (《劳动合同法》第七条) and is
a 未报到 to-do for HR, not an absence case.

Whether a day is a working day for someone is their shift group's pattern (the national
calendar, fixed weekdays, a group roster) or their own roster that month (`workdays`); a day
the national calendar does not know is left for the revisit, whatever the pattern.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import and_, delete, exists, or_, select, text

from lms import clock, evidence
from lms.absence import calendar, reconcile, schedules, thresholds, workdays
from lms.absence.cases import day_end, monitoring, stale_from, subject
from lms.absence.models import (
    AbsenceCase,
    CaseDay,
    CaseStep,
    CaseTodo,
    Leave,
    Punch,
    ScanDay,
    ScanGap,
    ShiftAssignment,
)
from lms.absence.rules import Rules, rules_by_day
from lms.absence.thresholds import OpenCase
from lms.bulk import among, insert_ignoring_conflicts
from lms.extensions import db
from lms.people.models import Employee

log = logging.getLogger(__name__)

# ---------------------------------------------------------------- the scan


@dataclass
class ScanReport:
    days: list[date] = field(default_factory=list)
    opened: int = 0
    queued: int = 0
    skipped: int = 0
    counted: int = 0
    thresholds: int = 0
    not_reported: int = 0
    unknown_days: list[date] = field(default_factory=list)
    no_rules_days: list[date] = field(default_factory=list)
    revisited_days: list[date] = field(default_factory=list)


def absent_employee_ids(day: date, group_ids: Sequence[int | None], default_included: bool,
                        monitoring_from: date | None = None, among_ids=None) -> list[int]:
    """Employees watched on `day`, in the given shift groups, with no punch and no leave that day
    (given `among_ids`, a SELECT of employee ids: only those).

    Watched: not terminated, and either hired before monitoring began (their work predates our
    records) or having actually worked — a punch on or after the hire date — by `day`.
    """
    has_worked = exists().where(Punch.employee_id == Employee.id, Punch.work_day >= Employee.hire_date,
                                Punch.work_day <= day)
    started = Employee.hire_date < monitoring_from if monitoring_from else False
    watched = and_(Employee.status != "terminated", Employee.hire_date <= day, or_(started, has_worked))
    no_punch = ~exists().where(Punch.employee_id == Employee.id, Punch.work_day == day)
    no_leave = ~exists().where(Leave.employee_id == Employee.id, Leave.starts_on <= day, Leave.ends_on >= day)
    query = select(Employee.id).where(watched, no_punch, no_leave)
    if among_ids is not None:
        query = query.where(Employee.id.in_(among_ids))
    return list(db.session.scalars(_in_groups(query, group_ids, default_included)))


def _in_groups(query, group_ids: Sequence[int | None], default_included: bool):
    """`query` over Employee narrowed to the given shift groups (None: the default group's)."""
    explicit = [g for g in group_ids if g is not None]
    in_group = exists().where(ShiftAssignment.employee_id == Employee.id, ShiftAssignment.shift_group_id.in_(explicit))
    assigned = exists().where(ShiftAssignment.employee_id == Employee.id)
    if default_included:
        return query.where(or_(~assigned, in_group) if explicit else ~assigned)
    if explicit:
        return query.where(in_group)
    return query.where(text("1 = 0"))


def not_reported_ids(day: date, group_ids: Sequence[int | None], default_included: bool,
                     monitoring_from: date) -> list[int]:
    """New hires (hired since monitoring began) due by `day` who never reported — no punch since the
    hire date, no leave on it — and have no 未报到 to-do yet."""
    reported = exists().where(Punch.employee_id == Employee.id, Punch.work_day >= Employee.hire_date)
    on_leave = exists().where(Leave.employee_id == Employee.id, Leave.starts_on <= Employee.hire_date,
                              Leave.ends_on >= Employee.hire_date)
    known = exists().where(CaseTodo.employee_id == Employee.id, CaseTodo.kind == "not_reported")
    query = select(Employee.id).where(Employee.status != "terminated", Employee.hire_date <= day,
                                      Employee.hire_date >= monitoring_from, ~reported, ~on_leave, ~known)
    return list(db.session.scalars(_in_groups(query, group_ids, default_included)))


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
    today = at.astimezone(clock.zone()).date()
    start = max(watch.started_on, (watch.closed_through + timedelta(days=1)) if watch.closed_through else date.min)
    span = [start + timedelta(days=n) for n in range((today - start).days + 1)]
    revisit = list(db.session.scalars(select(ScanDay.day).where(ScanDay.status == "unknown").order_by(ScanDay.day)))
    infos = calendar.classify(span + revisit)
    revisit = [day for day in revisit if infos[day].kind != calendar.UNKNOWN]  # still unknown: still waiting
    rules_of = rules_by_day(span + revisit)
    shifts = schedules.shifts_by_group()
    plans = workdays.plan(revisit + span, infos, shifts)
    for day in revisit + span:
        closed = at >= day_end(day)
        # Over before anyone could be told: before monitoring was switched on, or unknown then.
        after_the_fact = day in revisit or day_end(day) <= watch.started_at
        info, rules = infos[day], rules_of[day]
        report.days.append(day)
        if info.kind == calendar.UNKNOWN:
            status = "unknown"
            report.unknown_days.append(day)
        elif rules is None:
            status = "no_rules"
            if closed:  # said once per day, when the day is recorded, not on every pass through it
                report.no_rules_days.append(day)
        else:
            status = "scanned" if plans[day].watched else "rest"
            if plans[day].watched:  # a working day for some group, or someone's own roster
                _scan_day(day, at, closed, rules, shifts, report, after_the_fact, watch.started_on, plans[day])
            if closed and plans[day].unknown_groups:
                _record_gaps(day, at)
        if day in revisit:
            report.revisited_days.append(day)
        if closed:
            db.session.merge(ScanDay(day=day, status=status, rule_version=rules.version if rules else None,
                                     after_the_fact=after_the_fact, scanned_at=at))
            if not watch.closed_through or day > watch.closed_through:
                watch.closed_through = day
    _revisit_gaps(at, shifts, watch.started_on, report)
    if report.no_rules_days:
        log.warning("absence scan: no rule set with the absence procedure's values is in force on %s; "
                    "those days are not counted", ", ".join(d.isoformat() for d in report.no_rules_days))
    db.session.commit()
    # After the days, not before: a case this scan opened for a day the employee has since come
    # back from (the scheduler was down) resolves now, instead of being opened again next time.
    reconcile.reconcile()
    return report


def _scan_day(day: date, at: datetime, closed: bool, rules: Rules, shifts: dict, report: ScanReport,
              after_the_fact: bool, monitoring_from: date, plan: workdays.DayPlan) -> None:
    groups, default_due = _groups_due(day, at, rules, shifts)
    working, default_working = plan.working(groups)  # the due groups whose members work this day
    if not after_the_fact:
        report.not_reported += _not_reported(day, working, default_working, at, monitoring_from)
    absent = absent_employee_ids(day, working, default_working, monitoring_from)
    if plan.own_rostered:  # their own roster decides, whatever their group's day: one more anti-join
        absent = [e for e in absent if e not in plan.own_rostered]
        absent += absent_employee_ids(day, groups, default_due, monitoring_from, among_ids=workdays.rostered_on(day))
    _take_absent(day, at, closed, rules, shifts, report, after_the_fact, absent)


def _take_absent(day: date, at: datetime, closed: bool, rules: Rules, shifts: dict, report: ScanReport,
                 after_the_fact: bool, absent: list[int]) -> None:
    """The absentees of `day`: their cases (opened in review after the fact), steps, the day counted."""
    if not absent:
        return
    cases = _open_cases_for(absent)
    new_ids = [employee_id for employee_id in absent if employee_id not in cases]
    if new_ids:
        opened = _open_cases(new_ids, day, at, rules, "review" if after_the_fact else "opened")
        report.opened += len(opened)
        cases.update(opened)
        if len(opened) < len(new_ids):  # another scan opened some of them meanwhile: read those
            cases.update(_open_cases_for([e for e in new_ids if e not in opened]))
    if not after_the_fact:
        _queue_steps(day, at, rules, shifts, [cases[e] for e in absent], report)
    if closed:
        _count_day(day, at, [cases[e] for e in absent], rules, report, after_the_fact)


def _record_gaps(day: date, at: datetime) -> None:
    """The employees whose day could not be judged (their roster month is missing), for a later revisit."""
    ids = workdays.unknown_employee_ids(day)
    table = ScanGap.__table__
    insert_ignoring_conflicts(table, [{"employee_id": e, "day": day, "found_at": at} for e in ids],
                              [table.c.employee_id])


def _revisit_gaps(at: datetime, shifts: dict, monitoring_from: date, report: ScanReport) -> None:
    """Gaps whose roster has arrived: scanned as they would have been, after the fact (review cases,
    no messages, days for HR to confirm). Gaps still without a roster wait."""
    gaps = db.session.execute(select(ScanGap.employee_id, ScanGap.day)).all()
    if not gaps:
        return
    days = sorted({day for _e, day in gaps})
    kinds = workdays.kinds_for([e for e, _day in gaps], days[0], days[-1])
    rules_of = rules_by_day(days)
    settled: dict[date, list[int]] = defaultdict(list)
    for employee_id, day in gaps:
        kind = kinds.get(employee_id, {}).get(day)
        if kind is not None and kind.kind != calendar.UNKNOWN:
            settled[day].append(employee_id)
    for day, employee_ids in sorted(settled.items()):
        working = [e for e in employee_ids if kinds[e][day].is_workday]
        if working and rules_of[day] is not None:
            absent = absent_employee_ids(day, list(shifts), True, monitoring_from, among_ids=working)
            _take_absent(day, at, True, rules_of[day], shifts, report, True, absent)
            report.revisited_days.append(day)
        for condition in among(ScanGap.employee_id, employee_ids):
            db.session.execute(delete(ScanGap).where(condition, ScanGap.day == day))


def _queue_steps(day: date, at: datetime, rules: Rules, shifts: dict, cases: list[OpenCase],
                 report: ScanReport) -> None:
    """Alert 1 (or the day's reminder) for each case, due at its shift's start + the first-alert delay."""
    shift_of = _shift_by_employee([c.employee_id for c in cases], shifts)
    due_of = {}  # shift → (its alert time on `day`, stale?): a handful of shifts for thousands of employees
    step_rows = []
    for case in cases:
        if case.paused_at is not None or case.state == "threshold_reached":
            continue  # a reply or HR has the case; after the threshold the notice speaks
        kind = "alert1" if case.alert1_day is None else "reminder"
        if kind == "reminder" and day <= case.alert1_day:
            continue
        shift = shift_of[case.employee_id]
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


def _not_reported(day: date, groups: list[int | None], default_due: bool, at: datetime,
                  monitoring_from: date) -> int:
    """未报到: a 未报到 to-do for each new hire due by now who never came (never an absence case)."""
    ids = not_reported_ids(day, groups, default_due, monitoring_from)
    if not ids:
        return 0
    table = CaseTodo.__table__
    inserted = insert_ignoring_conflicts(table, [{"employee_id": e, "kind": "not_reported", "created_at": at}
                                                 for e in ids], [table.c.employee_id],
                                         index_elements=["employee_id"], index_where=text("kind = 'not_reported'"))
    evidence.record_many((("absence.not_reported", evidence.subject_of("employee", employee_id), {"day": day})
                          for (employee_id,) in inserted), actor="system")
    return len(inserted)


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


def _open_cases(employee_ids: list[int], day: date, at: datetime, rules: Rules, state: str) -> dict[int, OpenCase]:
    """Open a case for each employee that has none open; the new ones by employee id."""
    rows = [{"employee_id": e, "state": state, "first_day": day, "rule_version": rules.version,
             "opened_at": at} for e in employee_ids]
    table = AbsenceCase.__table__
    # The partial unique index's own predicate, as SQL text: a bound literal cannot go in executemany().
    inserted = insert_ignoring_conflicts(table, rows, [table.c.id, table.c.employee_id],
                                         index_elements=["employee_id"], index_where=text("state <> 'resolved'"))
    evidence.record_many((("absence.case_opened", subject(case_id), {
        "employee": evidence.subject_of("employee", employee_id), "first_day": day,
        "rule_version": rules.version, "after_the_fact": state == "review"}) for case_id, employee_id in inserted),
        actor="system")
    if state == "review" and inserted:
        db.session.execute(CaseTodo.__table__.insert(), [
            {"case_id": case_id, "kind": "confirm_days", "created_at": at} for case_id, _employee_id in inserted])
    return {employee_id: OpenCase(employee_id, case_id, state, None, day, None)
            for case_id, employee_id in inserted}


def _count_day(day: date, at: datetime, cases: list[OpenCase], rules: Rules, report: ScanReport,
               after_the_fact: bool) -> None:
    """The day is over and still unexplained: it counts, and may reach the threshold.

    A day found after the fact counts toward no threshold until HR confirms it."""
    rows = [{"case_id": c.id, "day": day, "employee_id": c.employee_id, "status": "counted", "counted_at": at,
             "rule_version": rules.version, "needs_confirmation": after_the_fact} for c in cases]
    table = CaseDay.__table__
    inserted = [case_id for (case_id,) in insert_ignoring_conflicts(table, rows, [table.c.case_id])]
    report.counted += len(inserted)
    if not inserted:
        return
    evidence.record_many((("absence.day_counted", subject(case_id), {
        "day": day, "rule_version": rules.version, "needs_confirmation": after_the_fact}) for case_id in inserted),
        actor="system")
    if after_the_fact:
        return
    new = set(inserted)
    # A paused case (a reply or a return waiting for HR) counts its days but does not escalate:
    # HR's "continue" checks the threshold then (thresholds.threshold_now).
    reached = thresholds.reached(day, [c for c in cases if c.id in new and c.state != "threshold_reached"
                                       and c.paused_at is None], rules)
    thresholds.mark(reached, day, rules)
    report.thresholds += len(reached)
