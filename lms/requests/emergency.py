"""紧急情况报告 (leave.emergency): "I cannot come today", from the app, the API, a reply to an alert, or
the manager's note of a phone call. It pauses the open case for HR exactly as a reply does
(absence.decisions.record_reply) and starts the rule's clock for the follow-up leave request and proof;
a report not followed up in time becomes HR's to-do."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms import clock, evidence, notify
from lms.absence import cases, decisions
from lms.absence.models import AbsenceCase
from lms.extensions import db
from lms.people.access import hr_employee_ids
from lms.people.models import Employee
from lms.requests.models import EmergencyReport
from lms.requests.rules import RequestRefused, rule_value, working_days_after

# How the report reaches the case: the case's reply channel for each way of reporting.
REPLY_CHANNEL = {"app": "inapp", "alert": "inapp", "api": "api", "manager": "manager"}


def report_emergency(employee: Employee, reason: str, channel: str, at: datetime | None = None,
                     actor=None) -> EmergencyReport:
    """Record the report, pause the employee's open case (as a reply), start the follow-up clock."""
    reason = (reason or "").strip()
    now = clock.now()
    at = clock.as_utc(at) if at else now
    if channel not in REPLY_CHANNEL:
        raise RequestRefused(_l("Unknown channel."), field="channel", status=422)
    if not reason:
        raise RequestRefused(_l("Give the reason."), field="reason", status=422)
    if len(reason) > 2000:
        raise RequestRefused(_l("The reason is longer than 2,000 characters."), field="reason", status=422)
    if at > now + timedelta(minutes=5):
        raise RequestRefused(_l("The time of the report is in the future."), field="at", status=422)
    if at < now - timedelta(days=7):
        raise RequestRefused(_l("The time of the report is more than a week ago."), field="at", status=422)
    day = clock.local(at).date()
    proof = rule_value(day, "leave.emergency", "proof_within_working_days")
    report = EmergencyReport(employee_id=employee.id, day=day, reason=reason, reported_at=at, channel=channel,
                             recorded_by=evidence.actor_of(actor), rule_version=proof.version,
                             follow_up_by=working_days_after(employee.id, day, proof.value))
    db.session.add(report)
    db.session.flush()
    evidence.record("requests.emergency_reported", evidence.subject_of("employee", employee.id), {
        "report": report.id, "day": day, "reason": reason, "reported_at": at, "channel": channel,
        "follow_up_by": report.follow_up_by, "rules_version": proof.version}, actor=actor)
    db.session.commit()
    attach_to_open_case(report, actor=actor)
    if employee.manager_id and channel != "manager":
        notify.send(f"requests:emergency:{report.id}", employee.manager_id, "emergency_report",
                    {"employee": employee.name, "reason": reason, "day": day.isoformat()}, ["inapp", "sms"])
    return report


def attach_to_open_case(report: EmergencyReport, actor=None) -> AbsenceCase | None:
    """Pause the employee's open case with the report (the reply path), once."""
    if report.case_id is not None:
        return None
    case = db.session.scalars(select(AbsenceCase).where(AbsenceCase.employee_id == report.employee_id,
                                                        AbsenceCase.state != "resolved")).first()
    if case is None:
        return None
    report.case_id = case.id
    text = str(_l("Emergency report: %(reason)s", reason=report.reason))
    try:
        decisions.record_reply(case, text, REPLY_CHANNEL[report.channel], actor=actor, received_at=report.reported_at)
    except cases.CaseError:
        db.session.rollback()
        return None
    return case


def attach_reports(now: datetime) -> int:
    """Reports made before a case opened (before the first alert): pause the case once it exists."""
    reports = db.session.scalars(select(EmergencyReport).where(EmergencyReport.case_id.is_(None),
                                                               EmergencyReport.day >= (clock.local(now).date()
                                                                                       - timedelta(days=7)))).all()
    return sum(1 for report in reports if attach_to_open_case(report) is not None)


def raise_overdue(now: datetime) -> int:
    """Reports whose follow-up day has ended with no leave request: HR's to-do (and an in-app notice)."""
    from lms.absence.cases import day_end

    due = db.session.scalars(select(EmergencyReport).where(EmergencyReport.followed_up_at.is_(None),
                                                           EmergencyReport.todo_at.is_(None))
                             .options(selectinload(EmergencyReport.employee))).all()
    raised = 0
    for report in due:
        if report.follow_up_by is None or now < day_end(report.follow_up_by):
            continue
        report.todo_at = now
        evidence.record("requests.emergency_not_followed_up", evidence.subject_of("employee", report.employee_id), {
            "report": report.id, "day": report.day, "follow_up_by": report.follow_up_by})
        db.session.commit()
        for hr_id in hr_employee_ids():
            notify.send(f"requests:emergency:{report.id}:overdue", hr_id, "emergency_overdue",
                        {"employee": report.employee.name, "day": report.day.isoformat(),
                         "due": report.follow_up_by.isoformat()}, ["inapp"])
        raised += 1
    return raised


def complete_todo(report: EmergencyReport, actor) -> None:
    report.todo_done_at, report.todo_done_by = clock.now(), evidence.actor_of(actor)
    evidence.record("requests.emergency_todo_done", evidence.subject_of("employee", report.employee_id),
                    {"report": report.id}, actor=actor)
    db.session.commit()


def open_reports(employee_id: int) -> list[EmergencyReport]:
    """The employee's reports still waiting for their leave request (to link a follow-up request)."""
    return list(db.session.scalars(select(EmergencyReport).where(EmergencyReport.employee_id == employee_id,
                                                                 EmergencyReport.followed_up_at.is_(None))
                                   .order_by(EmergencyReport.reported_at)))
