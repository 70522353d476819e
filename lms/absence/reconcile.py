"""Punches and leave that arrive late: a punched or leave day is never counted, and a return ends
the alerts (before the threshold the case resolves; after it HR decides).

`reconcile()` is the one entry point: leave, punches and the scan call it after saving facts.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import selectinload

from lms import clock, evidence
from lms.absence import thresholds
from lms.absence.cases import resolve, subject
from lms.absence.models import (
    AbsenceCase,
    CaseDay,
    CaseTodo,
    Leave,
    Punch,
)
from lms.bulk import among
from lms.extensions import db

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
            thresholds.threshold_now(case, now)
        db.session.expire(case)  # the threshold is marked in bulk, behind the session's back


def cases_left_without_leave(employee_id: int) -> list[int]:
    """Resolved cases with days that only a since-cancelled leave explained: HR should look again."""
    return sorted({case.id for _day, case in _days_left_without_leave([employee_id]) if case.state == "resolved"})


def _reconcile_case(case: AbsenceCase, punches: list, leaves: list[Leave], actor) -> None:
    punched_days = {work_day for work_day, _at in punches if work_day >= case.first_day}
    uncounted = []
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
        uncounted.append(case_day)
        evidence.record("absence.day_uncounted", subject(case.id), {"day": case_day.day, "because": new_status},
                        actor=actor)
    for case_day in uncounted:
        if thresholds.withdraw_if_not_held(case, case_day.day, case_day.status, actor):
            break
    returned = _return(case, punches)
    if returned is not None:
        if case.state != "threshold_reached":
            # Nobody decided on these days: they count toward the month only once HR confirms them.
            for case_day in case.days:
                if case_day.status == "counted" and case_day.confirmed_at is None:
                    case_day.needs_confirmation = True
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


def _return(case: AbsenceCase, punches: list):
    """When the employee came back: the first punch on or after the case's last day that is newer than
    HR's last decision (a decision holds until a newer fact arrives). A punch for a day between
    counted days is no return: it un-counts that day and the episode goes on."""
    last_day = max((d.day for d in case.days), default=case.first_day)
    return next((at for work_day, at in punches
                 if work_day >= last_day and (case.decided_at is None or at > case.decided_at)), None)
