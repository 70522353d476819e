"""Sending the staged steps (alert 1, alert 2, daily reminders), each once, re-checked at send time."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import exists, select, update

from lms import clock, evidence, jobs, notify
from lms.absence import schedules
from lms.absence.cases import STATE_AFTER_STEP, STATE_ORDER, stale_from, step_key, subject
from lms.absence.decisions import reply_url
from lms.absence.models import (
    AbsenceCase,
    CaseStep,
    CaseTodo,
    Leave,
    Punch,
)
from lms.absence.rules import rules_on
from lms.extensions import db
from lms.people.access import hr_employee_ids
from lms.ui import external_url

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
    rules = rules_on(step.day)  # the message and the second alert's delay follow the day's rules
    employee = case.employee
    context = {"employee_name": employee.name, "day": step.day, "case_id": case.id,
               "shift_start": schedules.shift_for(employee.id).starts_at.strftime("%H:%M"),
               "rule_version": rules.version, "reply_url": reply_url(case),
               "case_url": external_url("absence.case_page", case_id=case.id)}
    template = f"absence_{step.kind}"
    notify.send(step_key(case.id, step.key, "employee"), employee, template, context, ("sms", "inapp"),
                evidence_subject=subject(case.id))
    copy = {**context, "step": step.kind}
    if employee.manager_id:
        notify.send(step_key(case.id, step.key, "manager"), employee.manager_id, "absence_copy", copy, ("inapp",),
                    evidence_subject=subject(case.id))
    for hr_id in hr_employee_ids(exclude=employee.id):
        notify.send(step_key(case.id, step.key, "hr"), hr_id, "absence_copy", copy, ("inapp",),
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
