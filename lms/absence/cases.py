"""Absence cases: detection, the staged steps, counting, returns, replies and HR decisions (SPEC §4).

Everything here runs from database state and `clock.now()`:

- `scan(at)` looks at each day from the last closed one to today. On a working day, an employee
  with no punch and no leave by shift start + the first-alert delay gets a case (or the open
  one gets the day) and a message step is queued — unless the day is already over, in which case
  the step is recorded as skipped: a scheduler that was down sends no stale alerts. When a day
  is over its absences are counted and the threshold checked.
- `send_due_steps(at)` sends what is due, each step once (notify's step keys), re-checking at
  send time that the day is still unexplained.
- `reconcile()` applies punches and leave that arrived late: a punched or leave day is never
  counted, and a return resolves the case (after the threshold it goes to HR instead).

Every delay and threshold comes from the rule set in force, never from constants here.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import and_, bindparam, exists, func, or_, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import selectinload

from lms import clock, evidence, jobs, notify
from lms.absence import calendar, schedules
from lms.absence.models import (
    OPEN_STATES,
    REPLY_CHANNELS,
    AbsenceCase,
    CaseDay,
    CaseReply,
    CaseStep,
    CaseTodo,
    Leave,
    Monitoring,
    Punch,
    ShiftAssignment,
)
from lms.bulk import among
from lms.courses.services import current_rule_set
from lms.extensions import db
from lms.people.models import ApiToken, Employee, User
from lms.people.records import InvalidRecords
from lms.ui import external_url

REPLY_LINK_DAYS = 7
# Steps move a case forward; a later step never moves it back.
STATE_AFTER_STEP = {"alert1": "alerted", "alert2": "warned", "reminder": "reminded"}
STATE_ORDER = {state: n for n, state in enumerate(OPEN_STATES)}


class CaseError(ValueError):
    """An action a case cannot take in its state; the message says why."""


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


def subject(case_id: int) -> str:
    return evidence.subject_of("case", case_id)


def day_end(day: date) -> datetime:
    """The UTC instant a local day is over: after it, the day's absence is a fact."""
    return clock.as_utc(datetime.combine(day + timedelta(days=1), time(0)))


def stale_from(due_at: datetime) -> datetime:
    """When a step due at `due_at` comes too late to help anyone: once the local day it falls on is
    over. A late shift's alert, due after midnight, is live that night, not stale at midnight."""
    return day_end(clock.local(due_at).date())


def _insert(model):
    return (pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert)(model)


# ---------------------------------------------------------------- monitoring


def monitoring() -> Monitoring | None:
    return db.session.get(Monitoring, 1)


def start_monitoring(started_on: date, actor=None) -> Monitoring:
    """Switch absence monitoring on from a date; no scan ever looks at a day before it."""
    current = monitoring()
    if current is not None:
        raise CaseError(_l("Monitoring has been on since %(day)s.", day=current.started_on.isoformat()))
    row = Monitoring(id=1, started_on=started_on, started_by=evidence.actor_of(actor), started_at=clock.now())
    db.session.add(row)
    evidence.record("absence.monitoring_started", "absence:monitoring", {"started_on": started_on}, actor=actor)
    db.session.commit()
    return row


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
    reconcile()
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
        inserted = [status for (status,) in _insert_rows(table, step_rows, [table.c.status])]
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


@dataclass(frozen=True)
class _OpenCase:
    """What the scan needs to know of an open case, read in bulk."""

    employee_id: int
    id: int
    state: str
    paused_at: datetime | None
    first_day: date
    alert1_day: date | None  # None: alert 1 not yet queued


def _open_cases_for(employee_ids: list[int]) -> dict[int, _OpenCase]:
    alert1 = select(CaseStep.day).where(CaseStep.case_id == AbsenceCase.id, CaseStep.key == "alert1") \
        .correlate(AbsenceCase).scalar_subquery()
    result = {}
    for condition in among(AbsenceCase.employee_id, employee_ids):
        rows = db.session.execute(select(
            AbsenceCase.employee_id, AbsenceCase.id, AbsenceCase.state, AbsenceCase.paused_at,
            AbsenceCase.first_day, alert1,
        ).where(condition, AbsenceCase.state != "resolved"))
        result.update({row[0]: _OpenCase(*row) for row in rows})
    return result


def _insert_rows(table, rows: list[dict], returning: list, **conflict) -> list:
    """INSERT … ON CONFLICT DO NOTHING RETURNING for many rows (all with the same keys).

    On PostgreSQL one statement binds one array per column and inserts from unnest(): parsing
    and binding thousands of VALUES tuples costs several times more than inserting the rows.
    Elsewhere an executemany, which SQLAlchemy sends as multi-row VALUES compiled once.
    """
    if not rows:
        return []
    if db.engine.dialect.name != "postgresql":
        return db.session.execute(_insert(table).on_conflict_do_nothing(**conflict).returning(*returning),
                                  rows).all()
    names = list(rows[0])
    arrays = [bindparam(f"rows_{name}", [row[name] for row in rows], type_=ARRAY(table.c[name].type))
              for name in names]
    source = func.unnest(*arrays).table_valued(*names).render_derived()
    statement = pg_insert(table).from_select(names, select(*(source.c[name] for name in names)))
    return db.session.execute(statement.on_conflict_do_nothing(**conflict).returning(*returning)).all()


def _open_cases(employee_ids: list[int], day: date, at: datetime, rules: Rules) -> dict[int, _OpenCase]:
    """Open a case for each employee that has none open; the new ones by employee id."""
    rows = [{"employee_id": e, "state": "opened", "first_day": day, "rule_version": rules.version,
             "opened_at": at} for e in employee_ids]
    table = AbsenceCase.__table__
    # The partial unique index's own predicate, as SQL text: a bound literal cannot go in executemany().
    inserted = _insert_rows(table, rows, [table.c.id, table.c.employee_id], index_elements=["employee_id"],
                            index_where=text("state <> 'resolved'"))
    evidence.record_many((("absence.case_opened", subject(case_id), {
        "employee": evidence.subject_of("employee", employee_id), "first_day": day,
        "rule_version": rules.version}) for case_id, employee_id in inserted), actor="system")
    return {employee_id: _OpenCase(employee_id, case_id, "opened", None, day, None)
            for case_id, employee_id in inserted}


def _count_day(day: date, at: datetime, cases: list[_OpenCase], rules: Rules, report: ScanReport) -> None:
    """The day is over and still unexplained: it counts, and may reach the threshold."""
    rows = [{"case_id": c.id, "day": day, "employee_id": c.employee_id, "status": "counted", "counted_at": at}
            for c in cases]
    table = CaseDay.__table__
    inserted = [case_id for (case_id,) in _insert_rows(table, rows, [table.c.case_id])]
    report.counted += len(inserted)
    if not inserted:
        return
    evidence.record_many((("absence.day_counted", subject(case_id), {"day": day}) for case_id in inserted),
                         actor="system")
    new = set(inserted)
    # A paused case (a reply or a return waiting for HR) counts its days but does not escalate:
    # HR's "continue" checks the threshold then (_threshold_now).
    reached = _threshold_reached(day, [c for c in cases if c.id in new and c.state != "threshold_reached"
                                       and c.paused_at is None], rules)
    _mark_thresholds(reached, day, rules)
    report.thresholds += len(reached)


def _threshold_reached(day: date, cases: list[_OpenCase], rules: Rules) -> list[tuple[int, str, list[date]]]:
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


def _mark_thresholds(reached: list[tuple[int, str, list[date]]], day: date, rules: Rules,
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


# ---------------------------------------------------------------- sending


def send_due_steps(at: datetime | None = None) -> int:
    """Send (through jobs) every queued step due by `at`; returns how many were handed on."""
    at = at or clock.now()
    due = list(db.session.scalars(select(CaseStep.id).where(CaseStep.status == "queued", CaseStep.due_at <= at)
                                  .order_by(CaseStep.due_at, CaseStep.id)))
    for step_id in due:
        jobs.enqueue(send_step, step_id)
    return len(due)


def _present_on(employee_id: int, day: date) -> str | None:
    """Why a day is no longer unexplained: 'punched', 'leave', or None."""
    if db.session.scalar(select(exists().where(Punch.employee_id == employee_id, Punch.work_day == day))):
        return "punched"
    if db.session.scalar(select(exists().where(Leave.employee_id == employee_id, Leave.starts_on <= day,
                                               Leave.ends_on >= day))):
        return "leave"
    return None


def _skip_reason(step: CaseStep, case: AbsenceCase, now: datetime) -> str | None:
    if not case.is_open:
        return "case_resolved"
    if case.paused_at is not None:
        return "paused"
    if step.kind == "reminder" and case.state == "threshold_reached":
        return "threshold_reached"
    if step.kind == "alert2" and case.replies:
        return "replied"
    present = _present_on(case.employee_id, step.day)
    if present:
        return present
    if now >= stale_from(step.due_at):
        return "day_closed"
    return None


def send_step(step_id: int) -> str:
    """Send one step to the employee, the manager and HR, once; or record why it was skipped."""
    step = db.session.get(CaseStep, step_id)
    if step is None or step.status != "queued":
        return "done"
    case, now = step.case, clock.now()
    reason = _skip_reason(step, case, now)
    if reason:
        claimed = db.session.execute(update(CaseStep).where(CaseStep.id == step.id, CaseStep.status == "queued")
                                     .values(status="skipped", skip_reason=reason, done_at=now)).rowcount
        if claimed:
            evidence.record("absence.step_skipped", subject(case.id), {"step": step.key, "reason": reason})
        db.session.commit()
        return "skipped"
    rules = rules_in_force()
    employee = case.employee
    context = {"employee_name": employee.name, "day": step.day, "case_id": case.id,
               "shift_start": schedules.shift_for(employee.id).starts_at.strftime("%H:%M"),
               "rule_version": case.rule_version, "reply_url": reply_url(case),
               "case_url": external_url("absence.case_page", case_id=case.id)}
    template = f"absence_{step.kind}"
    notify.send(_step_key(case.id, step.key, "employee"), employee, template, context, ("sms", "inapp"),
                evidence_subject=subject(case.id))
    copy = {**context, "step": step.kind}
    if employee.manager_id:
        notify.send(_step_key(case.id, step.key, "manager"), employee.manager_id, "absence_copy", copy, ("inapp",),
                    evidence_subject=subject(case.id))
    for hr_id in hr_employee_ids(exclude=employee.id):
        notify.send(_step_key(case.id, step.key, "hr"), hr_id, "absence_copy", copy, ("inapp",),
                    evidence_subject=subject(case.id))
    step = db.session.get(CaseStep, step_id)
    claimed = db.session.execute(update(CaseStep).where(CaseStep.id == step.id, CaseStep.status == "queued")
                                 .values(status="sent", done_at=now)).rowcount
    if claimed:
        case = db.session.get(AbsenceCase, step.case_id)
        _advance(case, STATE_AFTER_STEP[step.kind])
        if step.kind == "alert1":
            db.session.add(CaseStep(case_id=case.id, key="alert2", kind="alert2", day=step.day,
                                    due_at=now + rules.second_alert_after, status="queued"))
        if step.kind == "alert2":
            db.session.add(CaseTodo(case_id=case.id, kind="call_employee", created_at=now))
        evidence.record("absence.step_sent", subject(case.id), {"step": step.key, "day": step.day})
    db.session.commit()
    return "sent"


def _advance(case: AbsenceCase, state: str) -> None:
    if case.is_open and STATE_ORDER[state] > STATE_ORDER[case.state]:
        case.state = state


def _step_key(case_id: int, key: str, role: str) -> str:
    return f"absence:{case_id}:{key}:{role}"


def parse_step_key(step_key: str) -> tuple[str, str] | None:
    """(step, recipient role) of an absence message's step key, else None."""
    parts = step_key.split(":")
    if len(parts) < 4 or parts[0] != "absence":
        return None
    return ":".join(parts[2:-1]), parts[-1]


def hr_employee_ids(exclude: int | None = None) -> list[int]:
    """HR officers with an employee record (the inbox belongs to an employee)."""
    return [e for e in db.session.scalars(select(User.employee_id).where(
        User.role == "hr", User.is_enabled.is_(True), User.employee_id.is_not(None))) if e != exclude]


# ---------------------------------------------------------------- returns and leave that arrive late


def reconcile(employee_ids: Iterable[int] | None = None, actor=None) -> None:
    """Bring open cases in line with punches and leave now on record (all open cases if None).

    A counted day with a punch or leave stops counting. A punch on or after the case's first
    day is a return: before the threshold the case resolves; after it HR decides. A case whose
    days are all covered by leave resolves as leave. Called after punches or leave are saved;
    the scan calls it too, so nothing depends on the caller remembering.
    """
    # Only the cases something could have changed: a punch since their first day (now or earlier),
    # or leave reaching into them. Usually none, so a scan over thousands of open cases stays cheap.
    returned = exists().where(Punch.employee_id == AbsenceCase.employee_id, Punch.work_day >= AbsenceCase.first_day,
                              Punch.punched_at <= clock.now())
    covered = exists().where(Leave.employee_id == AbsenceCase.employee_id, Leave.ends_on >= AbsenceCase.first_day)
    query = select(AbsenceCase).where(AbsenceCase.state != "resolved", or_(returned, covered)) \
        .options(selectinload(AbsenceCase.days))
    if employee_ids is None:
        cases = db.session.scalars(query).all()
    else:
        ids = list(set(employee_ids))
        if not ids:
            return
        _uncount_closed_cases(ids, actor)
        _recount_days_left_without_leave(ids, actor)
        cases = [c for condition in among(AbsenceCase.employee_id, ids)
                 for c in db.session.scalars(query.where(condition))]
    if not cases:
        db.session.commit()
        return
    ids = [c.employee_id for c in cases]
    earliest = min(c.first_day for c in cases)
    punches = defaultdict(list)
    leaves = defaultdict(list)
    for condition in among(Punch.employee_id, ids):
        for employee_id, work_day, punched_at in db.session.execute(select(
                Punch.employee_id, Punch.work_day, Punch.punched_at).where(
                condition, Punch.work_day >= earliest, Punch.punched_at <= clock.now()).order_by(Punch.punched_at)):
            punches[employee_id].append((work_day, punched_at))
    for condition in among(Leave.employee_id, ids):
        for leave in db.session.scalars(select(Leave).where(condition, Leave.ends_on >= earliest)):
            leaves[leave.employee_id].append(leave)
    for case in cases:
        _reconcile_case(case, punches[case.employee_id], leaves[case.employee_id], actor)
    db.session.commit()


def _uncount_closed_cases(employee_ids: list[int], actor) -> None:
    """A punch or leave that arrives after its case was resolved still un-counts that day."""
    punched = exists().where(Punch.employee_id == CaseDay.employee_id, Punch.work_day == CaseDay.day,
                             Punch.punched_at <= clock.now())
    on_leave = exists().where(Leave.employee_id == CaseDay.employee_id, Leave.starts_on <= CaseDay.day,
                              Leave.ends_on >= CaseDay.day)
    for condition in among(CaseDay.employee_id, employee_ids):
        rows = db.session.execute(select(CaseDay, punched.label("punched")).join(AbsenceCase).where(
            condition, CaseDay.status == "counted", AbsenceCase.state == "resolved", or_(punched, on_leave))).all()
        for case_day, was_punched in rows:
            case_day.status = "punched" if was_punched else "leave"
            evidence.record("absence.day_uncounted", subject(case_day.case_id),
                            {"day": case_day.day, "because": case_day.status}, actor=actor)


def _days_left_without_leave(employee_ids: list[int]):
    """Case days un-counted for leave that is no longer on record (it was cancelled), and not punched."""
    on_leave = exists().where(Leave.employee_id == CaseDay.employee_id, Leave.starts_on <= CaseDay.day,
                              Leave.ends_on >= CaseDay.day)
    punched = exists().where(Punch.employee_id == CaseDay.employee_id, Punch.work_day == CaseDay.day,
                             Punch.punched_at <= clock.now())
    for condition in among(CaseDay.employee_id, employee_ids):
        yield from db.session.execute(select(CaseDay, AbsenceCase).join(AbsenceCase).where(
            condition, CaseDay.status == "leave", ~on_leave, ~punched)).all()


def _recount_days_left_without_leave(employee_ids: list[int], actor) -> None:
    """On an open case, a day un-counted for leave that was then cancelled counts again, and may
    reach the threshold. A resolved case stays as HR or the leave left it (see cases_left_without_leave)."""
    now, recounted = clock.now(), {}
    for case_day, case in _days_left_without_leave(employee_ids):
        if case.state == "resolved":
            continue
        case_day.status = "counted"
        evidence.record("absence.day_recounted", subject(case.id), {"day": case_day.day, "because": "leave_cancelled"},
                        actor=actor)
        recounted[case.id] = case
    for case in recounted.values():
        if case.paused_at is None:
            _threshold_now(case, now)
        db.session.expire(case)  # the threshold is marked in bulk, behind the session's back


def cases_left_without_leave(employee_id: int) -> list[int]:
    """Resolved cases with days that only a since-cancelled leave explained: HR should look again."""
    return sorted({case.id for _day, case in _days_left_without_leave([employee_id]) if case.state == "resolved"})


def _reconcile_case(case: AbsenceCase, punches: list, leaves: list[Leave], actor) -> None:
    punched_days = {work_day for work_day, _at in punches if work_day >= case.first_day}
    for case_day in case.days:
        if case_day.status != "counted":
            continue
        if case_day.day in punched_days:
            new_status = "punched"
        elif any(leave.starts_on <= case_day.day <= leave.ends_on for leave in leaves):
            new_status = "leave"
        else:
            continue
        case_day.status = new_status
        evidence.record("absence.day_uncounted", subject(case.id), {"day": case_day.day, "because": new_status},
                        actor=actor)
    returned = next((at for work_day, at in punches if work_day >= case.first_day), None)
    if returned is not None:
        if case.state != "threshold_reached":
            resolve(case, "returned", actor=actor, at=returned, commit=False)
        elif case.paused_at is None:
            case.paused_at = returned
            db.session.add(CaseTodo(case_id=case.id, kind="decide_return", created_at=clock.now()))
            evidence.record("absence.returned_after_threshold", subject(case.id), {"punched_at": returned},
                            actor=actor)
        return
    covered = any(leave.starts_on <= case.first_day <= leave.ends_on for leave in leaves)
    if covered and case.state != "threshold_reached" and not case.counted_days:
        resolve(case, "leave", actor=actor, commit=False)


def resolve(case: AbsenceCase, resolution: str, actor=None, at: datetime | None = None, commit: bool = True) -> None:
    """Close the case: queued steps are skipped, open to-dos done."""
    if not case.is_open:
        raise CaseError(_l("This case is already resolved."))
    now = clock.now()
    case.state, case.resolution, case.resolved_at, case.paused_at = "resolved", resolution, at or now, None
    db.session.execute(update(CaseStep).where(CaseStep.case_id == case.id, CaseStep.status == "queued").values(
        status="skipped", skip_reason="case_resolved", done_at=now))
    db.session.execute(update(CaseTodo).where(CaseTodo.case_id == case.id, CaseTodo.done_at.is_(None)).values(
        done_at=now, done_by=evidence.actor_of(actor)))
    evidence.record("absence.case_resolved", subject(case.id), {"resolution": resolution, "at": at or now},
                    actor=actor)
    if commit:
        db.session.commit()


# ---------------------------------------------------------------- replies and HR decisions


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="absence-reply")


def reply_token(case: AbsenceCase) -> str:
    return _serializer().dumps([case.id, case.employee_id])  # a list keeps the SMS link short


def reply_url(case: AbsenceCase) -> str:
    """The signed link in the SMS: no login needed, valid for REPLY_LINK_DAYS days, this case only."""
    return external_url("absence.reply_by_link", token=reply_token(case))


def case_for_token(token: str) -> AbsenceCase | None:
    """The case a reply link is for, or None if the link is forged, expired or the case is gone."""
    try:
        data = _serializer().loads(token, max_age=REPLY_LINK_DAYS * 86400)
    except BadSignature:
        return None
    if not (isinstance(data, list) and len(data) == 2 and all(isinstance(n, int) for n in data)):
        return None
    case = db.session.get(AbsenceCase, data[0])
    return case if case is not None and case.employee_id == data[1] else None


def record_reply(case: AbsenceCase, text: str, channel: str, actor=None, received_at: datetime | None = None
                 ) -> CaseReply:
    """The employee explained (or HR heard it on the phone): escalation pauses and HR decides."""
    text = (text or "").strip()
    now = clock.now()
    received_at = clock.as_utc(received_at) if received_at else now
    if channel not in REPLY_CHANNELS:
        raise CaseError(_l("Unknown reply channel “%(channel)s”.", channel=channel))
    if not text:
        raise CaseError(_l("The reply is empty."))
    if len(text) > 2000:
        raise CaseError(_l("The reply is longer than 2,000 characters."))
    if received_at > now + timedelta(minutes=5):
        raise CaseError(_l("The reply's time is in the future."))
    if not case.is_open:
        raise CaseError(_l("This case is already resolved."))
    reply = CaseReply(case_id=case.id, channel=channel, text=text, received_at=received_at,
                      recorded_by=evidence.actor_of(actor))
    db.session.add(reply)
    case.paused_at = case.paused_at or received_at
    if not any(t.kind == "decide_reply" and t.done_at is None for t in case.todos):
        db.session.add(CaseTodo(case_id=case.id, kind="decide_reply", created_at=now))
    db.session.flush()
    evidence.record("absence.reply_received", subject(case.id), {
        "reply_id": reply.id, "channel": channel, "text": text, "received_at": received_at}, actor=actor)
    db.session.commit()
    return reply


DECISIONS = ("accept", "warn", "continue")
REPLY_DECISIONS = {"accept": "accepted", "warn": "warned", "continue": "continued"}


def decide(case: AbsenceCase, decision: str, actor, note: str = "", leave_type: str | None = None) -> None:
    """HR's answer to a reply or a return (SPEC §4): accept, warn, or continue the procedure.

    Accepting resolves the case: its counted days become approved leave of `leave_type` (one
    leave record per run of days), or, without a type, excused absence. Warning resolves it too,
    but the days stay counted (they are unpaid, and on the record) and the employee is sent a
    written warning naming them.
    """
    if decision not in DECISIONS:
        raise CaseError(_l("Decide “accept”, “warn” or “continue”."))
    if not case.is_open:
        raise CaseError(_l("This case is already resolved."))
    if case.paused_at is None:
        raise CaseError(_l("Nothing is waiting for a decision on this case."))
    counted = [d for d in case.days if d.status == "counted"]
    if decision == "warn" and not counted:
        raise CaseError(_l("No day is counted as absence without leave: there is nothing to warn about."))
    if decision == "accept" and leave_type and counted:
        _record_as_leave(case, [d.day for d in counted], leave_type, actor, note)
        db.session.refresh(case)
    now, actor_ref = clock.now(), evidence.actor_of(actor)
    for reply in case.replies:
        if reply.decision is None:
            reply.decision = REPLY_DECISIONS[decision]
            reply.decided_at, reply.decided_by = now, actor_ref
    for todo in case.todos:
        if todo.kind in ("decide_reply", "decide_return") and todo.done_at is None:
            todo.done_at, todo.done_by = now, actor_ref
    evidence.record("absence.decided", subject(case.id), {
        "decision": decision, "leave_type": leave_type if decision == "accept" else None,
        "note": note.strip()[:1000]}, actor=actor)
    if decision == "accept":
        excused = [d for d in case.days if d.status == "counted"]
        for case_day in excused:
            case_day.status = "excused"
        if excused:
            evidence.record("absence.days_excused", subject(case.id), {"days": [d.day for d in excused]},
                            actor=actor)
        if case.is_open:
            resolve(case, "leave" if leave_type else "excused", actor=actor, commit=False)
    elif decision == "warn":
        resolve(case, "warned", actor=actor, commit=False)
        db.session.commit()
        notify.send(_step_key(case.id, "warning", "employee"), case.employee_id, "absence_warning", {
            "employee_name": case.employee.name, "days": [d.day.isoformat() for d in counted],
            "rule_version": case.rule_version, "note": note.strip()}, ("inapp", "sms"),
            evidence_subject=subject(case.id), actor=actor)
    else:
        case.paused_at = None
        _threshold_now(case, now)  # the days counted while it was paused
    db.session.commit()


def _threshold_now(case: AbsenceCase, now: datetime) -> None:
    """Outside the daily count (HR continued a paused case, a cancelled leave's days count again):
    if the counted days reach the threshold, it is reached now."""
    counted = [d.day for d in case.days if d.status == "counted"]
    if case.state == "threshold_reached" or not counted:
        return
    db.session.flush()
    last = max(counted)
    waiting = _OpenCase(case.employee_id, case.id, case.state, None, case.first_day, None)
    rules = rules_in_force()
    _mark_thresholds(_threshold_reached(last, [waiting], rules), last, rules, at=now)


def _name_of(actor) -> str:
    """Who decided, as a leave record names its approver: the HR officer's name if we know it, or
    the integration's (the API token's) name."""
    if isinstance(actor, User):
        return actor.employee.name if actor.employee else actor.username
    if isinstance(actor, ApiToken):
        return actor.name
    return evidence.actor_of(actor)


def _record_as_leave(case: AbsenceCase, days: list[date], leave_type: str, actor, note: str) -> None:
    """The counted days as approved leave: one record per run of days not split by other leave."""
    from lms.absence import leave  # leave.py calls reconcile() here: import at use, not at load

    existing = db.session.scalars(select(Leave).where(Leave.employee_id == case.employee_id,
                                                      Leave.ends_on >= days[0], Leave.starts_on <= days[-1])).all()
    runs: list[list[date]] = [[days[0]]]
    for day in days[1:]:
        gap = [runs[-1][-1] + timedelta(days=n) for n in range(1, (day - runs[-1][-1]).days)]
        split = any(other.starts_on <= gap_day <= other.ends_on for other in existing for gap_day in gap)
        if split:
            runs.append([day])
        else:
            runs[-1].append(day)
    records = [(n, {"employee_no": case.employee.employee_no, "type": leave_type, "start": run[0], "end": run[-1],
                    "approved_by": _name_of(actor), "note": (note.strip() or f"case {case.id}")[:500]})
               for n, run in enumerate(runs, start=1)]
    try:
        leave.record_leaves(records, source=f"case:{case.id}", actor=actor)
    except InvalidRecords as exc:
        raise CaseError("; ".join(str(error.message) for error in exc.errors)) from exc


def add_note(case: AbsenceCase, text: str, actor) -> None:
    """An HR note on the case: it lives in the evidence log, with who wrote it and when."""
    text = (text or "").strip()
    if not text:
        raise CaseError(_l("The note is empty."))
    evidence.record("absence.note", subject(case.id), {"text": text[:2000]}, actor=actor)
    db.session.commit()


def complete_todo(todo: CaseTodo, actor) -> None:
    if todo.done_at is not None:
        raise CaseError(_l("This to-do is already done."))
    todo.done_at, todo.done_by = clock.now(), evidence.actor_of(actor)
    evidence.record("absence.todo_done", subject(todo.case_id), {"todo": todo.kind}, actor=actor)
    db.session.commit()


# ---------------------------------------------------------------- reading


def cases_for_employee(employee_id: int) -> list[AbsenceCase]:
    return list(db.session.scalars(select(AbsenceCase).where(AbsenceCase.employee_id == employee_id)
                                   .order_by(AbsenceCase.opened_at.desc())))


def open_cases() -> list[AbsenceCase]:
    """Every open case with what its page summary needs, in few queries."""
    return list(db.session.scalars(select(AbsenceCase).where(AbsenceCase.state != "resolved").options(
        selectinload(AbsenceCase.employee), selectinload(AbsenceCase.days), selectinload(AbsenceCase.steps),
        selectinload(AbsenceCase.replies), selectinload(AbsenceCase.todos)).order_by(AbsenceCase.first_day)))


def case_messages(case_ids: Iterable[int]) -> dict[int, list]:
    """Each case's absence messages with their deliveries: {case id: [(message, step, role)]}."""
    from lms.notify.models import Delivery, Message

    subjects = {subject(case_id): case_id for case_id in case_ids}
    result: dict[int, list] = {case_id: [] for case_id in subjects.values()}
    if not subjects:
        return result
    messages = db.session.scalars(select(Message).where(Message.evidence_subject.in_(list(subjects))).options(
        selectinload(Message.deliveries).selectinload(Delivery.message), selectinload(Message.recipient))
        .order_by(Message.created_at, Message.id))
    for message in messages:
        parsed = parse_step_key(message.step_key)
        if parsed:
            result[subjects[message.evidence_subject]].append((message, *parsed))
    return result


def counted_in_month(employee_id: int, month_start: date) -> int:
    next_month = (month_start.replace(day=28) + timedelta(days=4)).replace(day=1)
    return db.session.scalar(select(func.count()).select_from(CaseDay).where(
        CaseDay.employee_id == employee_id, CaseDay.status == "counted",
        CaseDay.day >= month_start, CaseDay.day < next_month))
