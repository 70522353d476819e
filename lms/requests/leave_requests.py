"""Leave and trip requests: apply (late flag by the rule's notice days, 续假), decide (the direct manager;
their manager when the manager is away or has let the window pass; HR), approval → Leave, reminders.

A pending request never excuses a day: only the Leave that approval creates does (the absence scan
and reconcile read Leave alone). A case opened meanwhile shows the pending request on its page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from lms import clock, evidence, notify
from lms.absence import leave as leave_records
from lms.absence.cases import day_end
from lms.absence.models import LEAVE_TYPES, AbsenceCase, Leave
from lms.extensions import db
from lms.people.models import Employee, User
from lms.people.records import InvalidRecords
from lms.requests.models import AwayMark, EmergencyReport, LeaveRequest, RequestAttachment
from lms.requests.rules import RequestRefused, rule_value, working_days_after
from lms.ui import external_url

# What an employee may apply for as leave (the other types are HR's records: 工伤, detention).
REQUEST_LEAVE_TYPES = ("personal", "sick", "annual", "marriage", "maternity", "bereavement", "time_off_in_lieu",
                       "other")
MAX_DAYS = 366
MAX_ATTACHMENT_BYTES = 10 * 1024 * 1024
ATTACHMENT_TYPES = ("application/pdf", "image/jpeg", "image/png")


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes


def lateness(start: date, submitted_on: date) -> tuple[bool, int, str]:
    """(late?, notice days, rule version): late when fewer than `notice_days` calendar days before the start
    (notice 3: 6.7 for leave from 6.10 is on time, 6.8 is late)."""
    rule = rule_value(submitted_on, "leave.notice", "notice_days")
    return (start - submitted_on).days < rule.value, rule.value, rule.version


def _actor_name(user: User | None) -> str:
    if user is None:
        return "system"
    if user.employee is not None:
        return f"{user.employee.name} ({user.employee.employee_no})"
    return user.username


def _check_dates(kind: str, type_: str, start: date | None, end: date | None, reason: str) -> None:
    if kind == "leave" and type_ not in REQUEST_LEAVE_TYPES:
        raise RequestRefused(_l("Unknown leave type; use one of %(values)s.", values=", ".join(REQUEST_LEAVE_TYPES)),
                             field="type", status=422)
    if start is None:
        raise RequestRefused(_l("Give the first day (YYYY-MM-DD)."), field="start", status=422)
    if end is None:
        raise RequestRefused(_l("Give the last day (YYYY-MM-DD)."), field="end", status=422)
    if end < start:
        raise RequestRefused(_l("The last day is before the first."), field="end", status=422)
    if (end - start).days + 1 > MAX_DAYS:
        raise RequestRefused(_l("More than %(n)s days; apply in parts.", n=MAX_DAYS), field="end", status=422)
    if not 1900 < start.year < 2100:
        raise RequestRefused(_l("The first day is not a plausible date."), field="start", status=422)
    if not reason:
        raise RequestRefused(_l("Give the reason."), field="reason", status=422)
    if len(reason) > 2000:
        raise RequestRefused(_l("The reason is longer than 2,000 characters."), field="reason", status=422)


def _check_attachment(attachment: Attachment) -> None:
    if attachment.content_type not in ATTACHMENT_TYPES:
        raise RequestRefused(_l("%(name)s: attach a PDF, JPEG or PNG file.", name=attachment.filename),
                             field="attachments", status=422)
    if not attachment.data or len(attachment.data) > MAX_ATTACHMENT_BYTES:
        raise RequestRefused(_l("%(name)s is empty or larger than 10 MB.", name=attachment.filename),
                             field="attachments", status=422)


def _overlapping(employee_id: int, start: date, end: date) -> tuple[Leave | None, LeaveRequest | None]:
    leave = db.session.scalars(select(Leave).where(Leave.employee_id == employee_id, Leave.starts_on <= end,
                                                   Leave.ends_on >= start)).first()
    pending = db.session.scalars(select(LeaveRequest).where(
        LeaveRequest.employee_id == employee_id, LeaveRequest.state == "pending",
        LeaveRequest.starts_on <= end, LeaveRequest.ends_on >= start)).first()
    return leave, pending


def submit_request(employee: Employee, *, kind: str = "leave", type: str | None = None, start: date | None,
                   end: date | None, reason: str, attachments: Sequence[Attachment] = (),
                   extends_leave_id: int | None = None, emergency_report_id: int | None = None,
                   actor=None) -> LeaveRequest:
    """Apply for leave (or a trip); raises RequestRefused naming what is wrong. Tells the manager(s)."""
    reason = (reason or "").strip()
    type_ = "business_trip" if kind == "trip" else (type or "")
    if kind not in ("leave", "trip"):
        raise RequestRefused(_l("Unknown request kind."), field="kind", status=422)
    _check_dates(kind, type_, start, end, reason)
    for attachment in attachments:
        _check_attachment(attachment)
    now = clock.now()
    today = clock.local(now).date()
    if extends_leave_id is not None:
        extended = db.session.get(Leave, extends_leave_id)
        if extended is None or extended.employee_id != employee.id:
            raise RequestRefused(_l("No such leave to extend."), field="extends", status=404)
        if now >= day_end(extended.ends_on):
            raise RequestRefused(_l("An extension (续假) must be applied for before the leave ends (%(day)s).",
                                    day=extended.ends_on.isoformat()), field="extends")
        if (start - extended.ends_on).days != 1:
            raise RequestRefused(_l("An extension starts the day after the leave ends (%(day)s).",
                                    day=extended.ends_on.isoformat()), field="start", status=422)
    leave, pending = _overlapping(employee.id, start, end)
    if leave is not None:
        raise RequestRefused(_l("Overlaps approved leave from %(start)s to %(end)s.", start=leave.starts_on.isoformat(),
                                end=leave.ends_on.isoformat()), field="start")
    if pending is not None:
        raise RequestRefused(_l("Overlaps your pending request from %(start)s to %(end)s.",
                                start=pending.starts_on.isoformat(), end=pending.ends_on.isoformat()), field="start")
    late, notice_days, version = lateness(start, today)
    if kind == "trip":
        late = False  # the notice clause is about leave; a trip is the company's own arrangement
    request = LeaveRequest(employee_id=employee.id, kind=kind, type=type_, starts_on=start, ends_on=end,
                           reason=reason, state="pending", is_late=late, notice_days=notice_days,
                           rule_version=version, extends_leave_id=extends_leave_id,
                           emergency_report_id=emergency_report_id, submitted_at=now,
                           submitted_by=evidence.actor_of(actor))
    db.session.add(request)
    db.session.flush()
    files = []
    for attachment in attachments:
        digest = hashlib.sha256(attachment.data).hexdigest()
        db.session.add(RequestAttachment(request_id=request.id, filename=attachment.filename[:200],
                                         content_type=attachment.content_type, sha256=digest,
                                         size=len(attachment.data), data=attachment.data, uploaded_at=now))
        files.append({"filename": attachment.filename, "sha256": digest, "size": len(attachment.data)})
    # The follow-up of an emergency report: the one named, or any open report on a day this request covers.
    reports = db.session.scalars(select(EmergencyReport).where(
        EmergencyReport.employee_id == employee.id, EmergencyReport.followed_up_at.is_(None),
        or_(EmergencyReport.id == emergency_report_id,
            EmergencyReport.day.between(start, end)))).all() if kind == "leave" else []
    for report in reports:
        report.followed_up_at = now
    if reports and request.emergency_report_id is None:
        request.emergency_report_id = reports[0].id
    evidence.record("requests.leave_requested", evidence.subject_of("employee", employee.id), {
        "request": request.id, "kind": kind, "type": type_, "starts_on": start, "ends_on": end, "reason": reason,
        "late": late, "notice_days": notice_days, "rules_version": version, "extends_leave": extends_leave_id,
        "emergency_report": request.emergency_report_id, "attachments": files}, actor=actor)
    db.session.commit()
    _tell_deciders(request, "leave_request", key="new")
    return request


# ---------------------------------------------------------------- who decides


def is_away(employee_id: int, day: date) -> bool:
    """Marked away, or on approved leave (a trip included), on `day`."""
    marked = db.session.scalar(select(AwayMark.id).where(AwayMark.employee_id == employee_id,
                                                         AwayMark.starts_on <= day, AwayMark.ends_on >= day))
    on_leave = db.session.scalar(select(Leave.id).where(Leave.employee_id == employee_id, Leave.starts_on <= day,
                                                        Leave.ends_on >= day))
    return marked is not None or on_leave is not None


def window_ends(submitted_at: datetime, employee_id: int) -> datetime:
    """When the direct manager's window (LMS_DECISION_WORKING_DAYS working days) ends: the end of that day."""
    days = current_app.config["LMS_DECISION_WORKING_DAYS"]
    return day_end(working_days_after(employee_id, clock.local(submitted_at).date(), days))


def escalated(submitted_at: datetime, employee: Employee, now: datetime | None = None) -> bool:
    """May the manager's manager decide: the direct manager is away today, or the window has passed."""
    now = now or clock.now()
    if employee.manager_id is None:
        return False
    if is_away(employee.manager_id, clock.local(now).date()):
        return True
    try:
        return now >= window_ends(submitted_at, employee.manager_id)
    except RequestRefused:
        return False


def may_decide(user: User, employee: Employee, submitted_at: datetime) -> bool:
    """HR; the direct manager; the manager's manager when escalated. Nobody decides their own request."""
    if user.employee_id == employee.id:
        return False
    if user.role == "hr":
        return True
    if user.employee_id is None or user.role not in ("manager", "hr", "admin"):
        return False
    if user.employee_id == employee.manager_id:
        return True
    manager = employee.manager
    return (manager is not None and manager.manager_id == user.employee_id
            and escalated(submitted_at, employee))


def request_for_decider(user: User, request_id: int) -> LeaveRequest | None:
    """The request if `user` may decide it now, else None (the API's 404)."""
    request = db.session.get(LeaveRequest, request_id)
    if request is None or not may_decide(user, request.employee, request.submitted_at):
        return None
    return request


def request_for_viewer(user: User, request_id: int) -> LeaveRequest | None:
    """The request if `user` is its employee, may decide it, or is the manager above (to read it)."""
    request = db.session.get(LeaveRequest, request_id)
    if request is None:
        return None
    from lms.people.access import can_see_employee
    return request if can_see_employee(user, request.employee_id) else None


# ---------------------------------------------------------------- deciding


def decide_request(request: LeaveRequest, user: User, decision: str, note: str = "", actor=None) -> LeaveRequest:
    """Approve (→ a Leave with approved_by and the request it came from) or reject, with a note."""
    note = (note or "").strip()
    if decision not in ("approve", "reject"):
        raise RequestRefused(_l("Decide approve or reject."), field="decision", status=422)
    if len(note) > 500:
        raise RequestRefused(_l("The note is longer than 500 characters."), field="note", status=422)
    if decision == "reject" and not note:
        raise RequestRefused(_l("Say why the request is rejected."), field="note", status=422)
    if request.state != "pending":
        raise RequestRefused(_l("This request was already decided."), field="decision")
    if not may_decide(user, request.employee, request.submitted_at):
        raise RequestRefused(_l("You may not decide this request."), status=404)
    now = clock.now()
    request.state = "approved" if decision == "approve" else "rejected"
    request.decided_at, request.decided_by, request.decider_id = now, _actor_name(user), user.employee_id
    request.decision_note = note or None
    request_id, employee_id = request.id, request.employee_id
    evidence.record("requests.leave_decided", evidence.subject_of("employee", employee_id), {
        "request": request_id, "decision": decision, "note": note, "decided_by": request.decided_by,
        "escalated": user.employee_id not in (None, request.employee.manager_id) and user.role != "hr"},
        actor=actor or user)
    if decision == "reject":
        db.session.commit()
    else:
        approver = user.employee.employee_no if user.employee else user.username
        try:
            created = leave_records.record_leave(
                request.employee.employee_no, request.type, request.starts_on, request.ends_on,
                approved_by=approver, note=f"{request.reason}"[:500], source=f"request:{request_id}",
                actor=actor or user)
        except InvalidRecords as exc:  # record_leave rolled back the decision with it
            raise RequestRefused("; ".join(str(e.message) for e in exc.errors), field="start") from exc
        request = db.session.get(LeaveRequest, request_id)
        request.leave_id = created.id
        db.session.commit()
    notify.send(f"requests:leave:{request.id}:decided", request.employee_id, "request_decided",
                {"what": str(kind_label(request)), "start": request.starts_on.isoformat(),
                 "end": request.ends_on.isoformat(), "approved": request.state == "approved",
                 "by": request.decided_by, "note": request.decision_note or ""}, ["inapp"], actor=actor or user)
    return request


def withdraw_request(request: LeaveRequest, user: User) -> None:
    """The employee withdraws a request not yet decided."""
    if request.employee_id != user.employee_id:
        raise RequestRefused(_l("Only the employee may withdraw their request."), status=404)
    if request.state != "pending":
        raise RequestRefused(_l("Only a pending request can be withdrawn."))
    request.state = "withdrawn"
    request.decided_at, request.decided_by = clock.now(), _actor_name(user)
    evidence.record("requests.leave_withdrawn", evidence.subject_of("employee", request.employee_id),
                    {"request": request.id}, actor=user)
    db.session.commit()


def kind_label(request: LeaveRequest) -> str:
    return leave_records.type_label(request.type)


# ---------------------------------------------------------------- telling the deciders, reminders


def deciders(employee: Employee, escalate: bool) -> list[int]:
    """Who is told: the direct manager (unless away), and their manager when escalated."""
    ids = []
    manager = employee.manager
    if manager is not None and not is_away(manager.id, clock.today()):
        ids.append(manager.id)
    if manager is not None and manager.manager_id is not None and (escalate or not ids):
        ids.append(manager.manager_id)
    return ids


def _tell_deciders(request: LeaveRequest, template: str, key: str, escalate: bool = False) -> None:
    employee = request.employee
    context = {"employee": employee.name, "what": str(kind_label(request)), "start": request.starts_on.isoformat(),
               "end": request.ends_on.isoformat(), "late": request.is_late,
               "link": external_url("requests.inbox")}
    for recipient in deciders(employee, escalate or not employee.manager_id):
        notify.send(f"requests:leave:{request.id}:{key}", recipient, template, context, ["inapp", "sms"])


def remind_pending(now: datetime) -> int:
    """A working day after a request was sent without a decision: remind the manager and, from then on,
    their manager (who may now decide). Once per request."""
    pending = db.session.scalars(select(LeaveRequest).where(LeaveRequest.state == "pending",
                                                            LeaveRequest.reminded_at.is_(None))
                                 .options(selectinload(LeaveRequest.employee))).all()
    reminded = 0
    for request in pending:
        if request.employee.manager_id is None:
            continue
        try:
            due = window_ends(request.submitted_at, request.employee.manager_id)
        except RequestRefused:
            continue
        if now < due:
            continue
        request.reminded_at = now
        db.session.commit()
        _tell_deciders(request, "leave_request_reminder", key="reminder", escalate=True)
        reminded += 1
    return reminded


# ---------------------------------------------------------------- reads


def my_requests(employee_id: int) -> list[LeaveRequest]:
    return list(db.session.scalars(select(LeaveRequest).where(LeaveRequest.employee_id == employee_id)
                                   .options(selectinload(LeaveRequest.attachments))
                                   .order_by(LeaveRequest.submitted_at.desc(), LeaveRequest.id.desc())))


def pending_for_case(case: AbsenceCase) -> list[LeaveRequest]:
    """Pending requests of the case's employee on or after its first day: they excuse nothing until
    approved, but HR should know of them."""
    return list(db.session.scalars(select(LeaveRequest).where(
        LeaveRequest.employee_id == case.employee_id, LeaveRequest.state == "pending",
        or_(LeaveRequest.ends_on >= case.first_day)).order_by(LeaveRequest.starts_on)))


def open_leave_for_extension(employee_id: int) -> list[Leave]:
    """Approved leave still running (an extension must be applied for before it ends)."""
    return list(db.session.scalars(select(Leave).where(Leave.employee_id == employee_id,
                                                       Leave.ends_on >= clock.today(),
                                                       Leave.type.in_(LEAVE_TYPES))
                                   .order_by(Leave.starts_on)))
