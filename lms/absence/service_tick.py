"""The service tick (`absence.service`, every 15 minutes): electronic notices the employee acknowledged are
served, each notice's service to-dos kept current, and `deadline_passed` recorded once an effective
deadline's day has ended (with HR's to-do to notify the union). The rules it applies are in `service`."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms import clock, evidence
from lms.absence.cases import day_end, step_key, subject
from lms.absence.models import AbsenceCase, CaseTodo, Dispatch
from lms.absence.service import case_documents, case_service, dispatch_service, record_tracking, sync_todos
from lms.documents.models import Document
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db

# Replies that come from the employee's own hands (the reply link, the in-app reply), not from a call.
ACKNOWLEDGING_CHANNELS = ("link", "inapp")


def acknowledgement_day(dispatch: Dispatch) -> tuple[date, str] | None:
    """When the employee acknowledged an electronic dispatch, and how: the notice's in-app message read in
    their own session (the inbox shows each person only their own messages), or a reply of their own on
    the case; the earliest, never before the dispatch day. None while neither happened."""
    from lms.absence.models import CaseReply
    from lms.notify.models import Delivery, Message

    case = dispatch.case
    key = step_key(case.id, f"notice:{dispatch.document.number}", "employee")
    read = db.session.scalar(select(Delivery.read_at).join(Delivery.message).where(
        Message.step_key == key, Message.recipient_id == case.employee_id, Delivery.channel == "inapp",
        Delivery.read_at.is_not(None)))
    replied = db.session.scalar(select(CaseReply.received_at).where(
        CaseReply.case_id == case.id, CaseReply.channel.in_(ACKNOWLEDGING_CHANNELS),
        CaseReply.received_at >= clock.as_utc(datetime.combine(dispatch.dispatched_on, datetime.min.time())))
        .order_by(CaseReply.received_at).limit(1))
    seen = [(clock.local(moment).date(), how) for moment, how in ((read, "read"), (replied, "reply")) if moment]
    if not seen:
        return None
    day, how = min(seen)
    return max(day, dispatch.dispatched_on), how


def acknowledge_electronic(now: datetime) -> int:
    """Record, for each electronic dispatch not yet settled, the employee's acknowledgement once it exists:
    a `delivered` tracking event signed by the employee (source `employee`), which serves the notice that
    day (SPEC §4). Returns how many were recorded."""
    pending = db.session.scalars(select(Dispatch).join(AbsenceCase, AbsenceCase.id == Dispatch.case_id)
                                 .where(Dispatch.method == "electronic", AbsenceCase.state != "resolved")
                                 .options(selectinload(Dispatch.events), selectinload(Dispatch.document))
                                 .order_by(Dispatch.id)).all()
    recorded = 0
    for dispatch in pending:
        if dispatch_service(dispatch).state != "pending":
            continue
        found = acknowledgement_day(dispatch)
        if found is None or found[0] > clock.local(now).date():
            continue
        day, how = found
        note = _("Read in the employee's own inbox") if how == "read" else _("The employee replied")
        record_tracking(dispatch, status="delivered", day=day, signed_by="employee", note=note, source="employee",
                        actor="system", commit=False)
        recorded += 1
    db.session.commit()
    return recorded


def _passed_already(case_id: int, document_id: int, effective: date) -> bool:
    events = db.session.scalars(select(EvidenceEvent).where(
        body_field("subject") == subject(case_id), body_field("kind") == "absence.deadline_passed"))
    return any(e.payload.get("document") == document_id and e.payload.get("effective") == effective.isoformat()
               for e in events)


def mark_deadlines_passed(now: datetime) -> int:
    """Record `deadline_passed` once for each open case whose effective deadline's day has ended, with HR's
    to-do to notify the union (the first step towards a termination, 第四十三条); keep each case's service
    to-dos current (the return notice's and the termination notice's)."""
    case_ids = set(db.session.scalars(select(Document.case_id).join(AbsenceCase, AbsenceCase.id == Document.case_id)
                                      .where(AbsenceCase.state != "resolved")))
    marked = 0
    for case_id in sorted(case_ids):
        case = db.session.get(AbsenceCase, case_id)
        service = case_service(case)
        sync_todos(case, service)
        if case_documents(case, "termination"):
            sync_todos(case, kind="termination")
        if service.effective and day_end(service.effective) <= now and not _passed_already(
                case.id, service.document.id, service.effective):
            evidence.record("absence.deadline_passed", subject(case.id), {
                "document": service.document.id, "number": service.document.number, "effective": service.effective,
                "served_on": service.served_on, "stated": service.stated})
            if case.paused_at is None:
                db.session.add(CaseTodo(case_id=case.id, kind="notify_union", created_at=now))
            marked += 1
    db.session.commit()
    return marked
