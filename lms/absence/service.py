"""Service of documents (送达) and the deadline that follows (SPEC §4, "Service of documents").

Facts are recorded one by one — a dispatch, its tracking events, HR's confirmation of a signature,
a public notice — each an evidence event on the case. Whether and when a notice was served is never
stored: it is read from those facts by the small rules below, each with its basis, so the case page,
the API and the tick all give the same answer.

The deadline: D (stated on the notice) = dispatch date + postal allowance + return period calendar
days (the start day excluded), moved to the next working day; the effective deadline = the later of
D and service date + return period, moved the same way. Not served: no effective deadline.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms import clock, evidence
from lms.absence.cases import CaseError, day_end, subject
from lms.absence.deadlines import DeadlineUnknown, effective_deadline, procedure_values, stated_deadline
from lms.absence.models import (
    ADDRESS_SOURCES,
    DISPATCH_METHODS,
    PHOTO_ROLES,
    RETURN_REASONS,
    SIGNERS,
    TRACKING_SOURCES,
    TRACKING_STATUSES,
    AbsenceCase,
    CaseTodo,
    Dispatch,
    DispatchPhoto,
    PublicNotice,
    TrackingEvent,
)
from lms.absence.reads import read_once
from lms.absence.rules import RulesMissing
from lms.documents.files import described
from lms.documents.models import Document, StoredFile
from lms.extensions import db
from lms.ui import short_date

PUBLIC_NOTICE_DAYS = 30  # 参照 劳办发〔1995〕179号: served 30 days after publication
UNDELIVERABLE = ("no_such_person", "unclear_address", "not_collected", "other")
# The order in which addresses are tried (the service address the employee confirmed first).
ADDRESS_ORDER = ("service_address", "contact_address", "household_address")
SERVICE_TODOS = ("dispatch_notice", "check_tracking", "confirm_signature", "try_another_address", "public_notice")
# The documents served on the employee, and the to-do each service action becomes for each.
SERVED_KINDS = ("return_to_work", "termination", "termination_certificate")
# The certificate (第五十条) is served after the case has resolved with the termination.
SERVED_AFTER_RESOLUTION = ("termination_certificate",)
TODO_OF = {"return_to_work": {action: action for action in SERVICE_TODOS},
           "termination": {"dispatch_notice": "send_termination", "check_tracking": "track_termination",
                           "confirm_signature": "confirm_trm_signature", "try_another_address": "readdress_termination",
                           "public_notice": "publish_termination"},
           "termination_certificate": {"dispatch_notice": "send_certificate", "check_tracking": "track_certificate",
                                       "confirm_signature": "confirm_crt_signature",
                                       "try_another_address": "readdress_certificate",
                                       "public_notice": "publish_certificate"}}

BASIS = {
    "signed_by_employee": _l("Delivered and signed for by the employee: served that day (参照 劳办发〔1995〕179号)."),
    "signed_by_family": _l("Signed for by a family member living with the employee: served that day "
                           "(参照 劳办发〔1995〕179号)."),
    "signature_confirmed": _l("Signed for by someone else or left in a parcel locker; HR confirmed that it "
                              "reached the employee: served on the delivery day."),
    "refused": _l("Refused by the employee: served; the later of the refusal date and the date it was back at "
                  "the sender is the service date."),
    "confirmed_service_address": _l(
        "Returned from the address the employee confirmed in writing for service: the return date is the "
        "service date (参照 最高人民法院《关于进一步加强民事送达工作的若干意见》（法发〔2017〕19号）第八条)."),
    "in_person": _l("Handed over in person and signed for by the employee: served that day."),
    "electronic": _l("Sent electronically and acknowledged by the employee: served that day."),
    "public_notice": _l("Public notice (公告送达): served 30 days after publication (参照 劳办发〔1995〕179号)."),
}
METHOD_LABELS = {"ems": _l("EMS"), "registered_mail": _l("registered mail (挂号信)"), "courier": _l("courier"),
                 "in_person": _l("in person"), "electronic": _l("electronic (in-app message)")}
ADDRESS_LABELS = {"service_address": _l("service address confirmed by the employee"),
                  "contact_address": _l("contact address"), "household_address": _l("household registration address"),
                  "other": _l("other address")}
STATUS_LABELS = {"in_transit": _l("in transit"), "delivered": _l("delivered"), "refused": _l("refused"),
                 "returned": _l("returned"), "returned_to_sender": _l("back at the sender")}
SIGNER_LABELS = {"employee": _l("the employee"), "family_member": _l("a family member living with the employee"),
                 "other": _l("someone else"), "locker": _l("a parcel locker")}
REASON_LABELS = {"no_such_person": _l("no such person"), "unclear_address": _l("unclear address"),
                 "not_collected": _l("not collected"), "refused": _l("refused"), "other": _l("other")}


class ServiceRefused(CaseError):
    """A service fact that cannot be recorded; the message says why."""


# ---------------------------------------------------------------- when is it served: one rule each


@dataclass(frozen=True)
class Served:
    """A dispatch's (or public notice's) answer: `state` served | pending | awaiting_confirmation |
    awaiting_return | failed; `on` the service date once served; `basis` a BASIS key; `day` and
    `reason` the fact the state rests on."""

    state: str
    on: date | None = None
    basis: str | None = None
    day: date | None = None
    reason: str | None = None
    signed_by: str | None = None
    back_on: date | None = None  # a refused letter: the day it was back at the sender


def served_by_delivery(day: date, signed_by: str | None, method: str, signature_confirmed: bool) -> Served:
    """Delivered: signed by the employee (or, on paper, a family member living with them) → served that
    day; signed by anyone else or left in a locker → only once HR confirms."""
    if signed_by == "employee":
        basis = {"in_person": "in_person", "electronic": "electronic"}.get(method, "signed_by_employee")
        return Served("served", day, basis, day, signed_by=signed_by)
    if signed_by == "family_member" and method != "electronic":
        return Served("served", day, "signed_by_family", day, signed_by=signed_by)
    if signature_confirmed:
        return Served("served", day, "signature_confirmed", day, signed_by=signed_by)
    return Served("awaiting_confirmation", None, None, day, signed_by=signed_by)


def served_by_refusal(refused_on: date, back_on: date | None) -> Served:
    """Refused by the employee → served on the later of the refusal date and the date it is back at the
    sender (both kept); until it is back, the service date is not known yet."""
    if back_on is None:
        return Served("awaiting_return", None, None, refused_on, "refused")
    return Served("served", max(refused_on, back_on), "refused", refused_on, "refused", back_on=back_on)


def served_by_return(returned_on: date, reason: str, address_source: str, confirmed_service_address: bool) -> Served:
    """Returned undeliverable → not served, unless it went to the service address the employee confirmed
    in writing: then the return date is the service date (法发〔2017〕19号第八条)."""
    if address_source == "service_address" and confirmed_service_address:
        return Served("served", returned_on, "confirmed_service_address", returned_on, reason)
    return Served("failed", None, None, returned_on, reason)


def served_by_public_notice(published_on: date) -> Served:
    """Public notice → served 30 days after publication."""
    return Served("served", published_on + timedelta(days=PUBLIC_NOTICE_DAYS), "public_notice", published_on)


def dispatch_service(dispatch: Dispatch) -> Served:
    """Whether and when one dispatch served its document, from its tracking events in date order."""
    refused_on = None
    for event in sorted(dispatch.events, key=lambda e: (e.day, e.id or 0)):
        if event.status == "delivered":
            return served_by_delivery(event.day, event.signed_by, dispatch.method,
                                      dispatch.signature_confirmed_at is not None)
        if event.status == "refused":
            refused_on = refused_on or event.day
        elif event.status in ("returned", "returned_to_sender"):
            if refused_on is not None or event.reason == "refused":
                return served_by_refusal(refused_on or event.day, event.day)
            return served_by_return(event.day, event.reason or "other", dispatch.address_source,
                                    dispatch.confirmed_service_address)
    if refused_on is not None:
        return served_by_refusal(refused_on, None)
    return Served("pending")


# ---------------------------------------------------------------- the case's service state


@dataclass
class CaseService:
    """The notice currently in service, whether and when it was served, and the deadlines."""

    document: Document | None = None
    dispatches: list[Dispatch] = field(default_factory=list)  # of the current document
    all_dispatches: list[Dispatch] = field(default_factory=list)  # of every notice of the case
    public_notices: list[PublicNotice] = field(default_factory=list)
    answers: dict[int, Served] = field(default_factory=dict)  # dispatch id → its answer
    served: Served | None = None  # the earliest service of the current document
    stated: date | None = None
    effective: date | None = None
    rule_version: str | None = None
    why_not: str | None = None  # why there is no effective deadline
    next_action: str | None = None  # a SERVICE_TODOS kind
    next_address: str | None = None  # the address source to try next
    failed_sources: list[str] = field(default_factory=list)

    @property
    def served_on(self) -> date | None:
        return self.served.on if self.served else None

    @property
    def basis(self) -> str | None:
        return str(BASIS[self.served.basis]) if self.served and self.served.basis else None


def case_documents(case: AbsenceCase, kind: str = "return_to_work") -> list[Document]:
    return read_once(("documents", case.id, kind), lambda: list(db.session.scalars(
        select(Document).where(Document.case_id == case.id, Document.kind == kind)
        .order_by(Document.issued_at, Document.id))))


def case_dispatches(case: AbsenceCase) -> list[Dispatch]:
    return list(db.session.scalars(select(Dispatch).where(Dispatch.case_id == case.id)
                                   .options(selectinload(Dispatch.events), selectinload(Dispatch.document))
                                   .order_by(Dispatch.dispatched_on, Dispatch.id)))


def case_public_notices(case: AbsenceCase) -> list[PublicNotice]:
    return list(db.session.scalars(select(PublicNotice).where(PublicNotice.case_id == case.id)
                                   .order_by(PublicNotice.published_on, PublicNotice.id)))


def employee_service_address(employee_id: int, dispatched_on: date | None = None):
    """The service address the employee confirmed in writing (self-service; confirmed by `dispatched_on`), or None."""
    from lms.requests.address import service_address  # self-service builds on absence: imported when used

    confirmation = service_address(employee_id)
    if confirmation is None or (dispatched_on and clock.local(confirmation.confirmed_at).date() > dispatched_on):
        return None
    return confirmation


def confirmation_note_of(confirmation) -> str:
    """How a dispatch cites the employee's confirmation (kept in the evidence with the dispatch)."""
    how = "在系统中确认" if confirmation.method == "app" else "书面签字确认（扫描件存档）"
    return (f"员工于 {clock.local(confirmation.confirmed_at).strftime('%Y-%m-%d %H:%M')} {how}送达地址，"
            f"确认文本 SHA-256 {confirmation.text_sha256[:16]}…")


def _next_address(case: AbsenceCase, failed: list[str]) -> str | None:
    available = {"service_address": employee_service_address(case.employee_id) is not None,
                 "contact_address": bool(case.employee.contact_address),
                 "household_address": bool(case.employee.household_address)}
    return next((source for source in ADDRESS_ORDER if available[source] and source not in failed), None)


def case_service(case: AbsenceCase, kind: str = "return_to_work") -> CaseService:
    """Read the service state of the case's newest notice of `kind` (the return-to-work notice, or the
    termination notice: served the same way, with no deadline of its own) from the recorded facts."""
    return read_once(("service", case.id, kind), lambda: _case_service(case, kind))


def _case_service(case: AbsenceCase, kind: str) -> CaseService:
    documents = case_documents(case, kind)
    all_dispatches = [d for d in case_dispatches(case) if d.document.kind == kind]
    result = CaseService(all_dispatches=all_dispatches)
    result.answers = {d.id: dispatch_service(d) for d in all_dispatches}
    result.failed_sources = [d.address_source for d in all_dispatches if result.answers[d.id].state == "failed"]
    result.next_address = _next_address(case, result.failed_sources)
    if not documents:
        result.why_not = (_("No return-to-work notice has been issued.") if kind == "return_to_work"
                          else _("No termination notice has been issued."))
        return result
    document = result.document = documents[-1]
    result.dispatches = [d for d in all_dispatches if d.document_id == document.id]
    result.public_notices = [p for p in case_public_notices(case) if p.document_id == document.id]
    answers = [(d.dispatched_on, result.answers[d.id]) for d in result.dispatches]
    answers += [(p.published_on, served_by_public_notice(p.published_on)) for p in result.public_notices]
    if not answers:
        result.why_not = _("The notice %(number)s has not been sent yet.", number=document.number)
        result.next_action = "dispatch_notice"
        return result
    first_sent = min(day for day, _answer in answers)
    if kind != "return_to_work":  # served like the return notice; no deadline follows from it
        served = [answer for _day, answer in answers if answer.state == "served"]
        if served:
            result.served = min(served, key=lambda a: a.on)
            return result
        return _not_served(result, answers)
    try:
        values = procedure_values(first_sent)
        result.rule_version = values["version"]
        computed = stated_deadline(first_sent, values)
        result.stated = max(document.stated_deadline, computed) if document.stated_deadline else computed
        served = [answer for _day, answer in answers if answer.state == "served"]
        if served:
            result.served = min(served, key=lambda a: a.on)
            result.effective = effective_deadline(result.stated, result.served.on, values)
            return result
    except (RulesMissing, DeadlineUnknown) as exc:
        result.why_not = str(exc)
        return result
    return _not_served(result, answers)


def _not_served(result: CaseService, answers: list[tuple[date, Served]]) -> CaseService:
    """Why the notice is not served yet, and the next service action."""
    states = {answer.state for _day, answer in answers}
    if "awaiting_confirmation" in states:
        result.why_not = _("Signed for by someone other than the employee: it counts only once HR confirms it "
                           "reached the employee.")
        result.next_action = "confirm_signature"
    elif states & {"pending", "awaiting_return"}:
        result.why_not = _("Not served yet: the notice is on its way, or refused and not yet back at the sender.")
        result.next_action = "check_tracking"
    else:
        result.why_not = _("Not served: every dispatch of this notice came back undelivered.")
        result.next_action = "try_another_address" if result.next_address else "public_notice"
    return result


def dispatch_words(answer: Served) -> str:
    """The dispatch's state in words, e.g. 已送达：6月21日本人签收."""
    if answer.state == "served":
        if answer.basis == "refused":
            return _("Served: refused on %(refused)s, back at the sender on %(back)s (service date %(day)s)",
                     refused=short_date(answer.day), back=short_date(answer.back_on), day=short_date(answer.on))
        if answer.basis == "confirmed_service_address":
            return _("Served: returned on %(day)s from the confirmed service address", day=short_date(answer.on))
        return _("Served: %(day)s, signed for by %(signer)s", day=short_date(answer.on),
                 signer=SIGNER_LABELS.get(answer.signed_by or "employee"))
    if answer.state == "awaiting_confirmation":
        return _("Delivered on %(day)s, signed for by %(signer)s: awaiting HR's confirmation",
                 day=short_date(answer.day), signer=SIGNER_LABELS.get(answer.signed_by or "other"))
    if answer.state == "awaiting_return":
        return _("Refused on %(day)s: served once it is back at the sender", day=short_date(answer.day))
    if answer.state == "failed":
        return _("Not served: returned on %(day)s (%(reason)s)", day=short_date(answer.day),
                 reason=REASON_LABELS.get(answer.reason or "other"))
    return _("Not served yet: in transit")


def service_words(service: CaseService) -> str:
    """The case's service state in one line, with what to do next when it failed."""
    if service.served is not None:
        if service.served.basis == "public_notice":
            return _("Served: %(day)s, 30 days after the public notice of %(published)s",
                     day=short_date(service.served.on), published=short_date(service.served.day))
        return dispatch_words(service.served)
    failed = [service.answers[d.id] for d in service.dispatches if service.answers[d.id].state == "failed"]
    if service.next_action in ("try_another_address", "public_notice") and failed:
        last = failed[-1]
        then = (_("suggest sending a new notice to the %(address)s", address=ADDRESS_LABELS[service.next_address])
                if service.next_action == "try_another_address" else _("suggest a public notice (公告送达)"))
        return _("Not served: returned on %(day)s (%(reason)s) — %(then)s", day=short_date(last.day),
                 reason=REASON_LABELS.get(last.reason or "other"), then=then)
    return service.why_not or ""


# ---------------------------------------------------------------- recording the facts


def _check_open(case: AbsenceCase, kind: str = "return_to_work") -> None:
    if not case.is_open and kind not in SERVED_AFTER_RESOLUTION:
        raise ServiceRefused(_l("This case is already resolved."))


def record_dispatch(case: AbsenceCase, document: Document, *, method: str, dispatched_on: date, addressee: str,
                    address: str, address_source: str, tracking_no: str | None = None,
                    confirmed_service_address: bool = False, confirmation_note: str | None = None,
                    photos: list[tuple[str, StoredFile]] = (), actor=None, commit: bool = True) -> Dispatch:
    """Record that an issued document of the case was sent, with optional photos ((role, stored file):
    the contents, the sealed envelope); raises ServiceRefused with the reason."""
    _check_open(case, document.kind)
    if document.case_id != case.id:
        raise ServiceRefused(_l("The document %(number)s is not a notice of this case.", number=document.number))
    if method not in DISPATCH_METHODS:
        raise ServiceRefused(_l("Unknown dispatch method."))
    if address_source not in ADDRESS_SOURCES:
        raise ServiceRefused(_l("Unknown address source."))
    if not (addressee or "").strip() or not (address or "").strip():
        raise ServiceRefused(_l("Give the addressee and the address used."))
    if dispatched_on < clock.local(document.issued_at).date():
        raise ServiceRefused(_l("A document cannot be sent before it was issued (%(day)s).",
                                day=clock.local(document.issued_at).date().isoformat()))
    if dispatched_on > clock.today():
        raise ServiceRefused(_l("The dispatch date is in the future."))
    confirmation = (employee_service_address(case.employee_id, dispatched_on) if address_source == "service_address"
                    else None)
    if confirmation is not None and not confirmed_service_address and confirmation.address.split() == address.split():
        # Sent to the address the employee confirmed in the app or on paper: confirmed in writing.
        confirmed_service_address, confirmation_note = True, confirmation_note or confirmation_note_of(confirmation)
    if confirmed_service_address and (address_source != "service_address" or not (confirmation_note or "").strip()):
        raise ServiceRefused(_l("A confirmed service address needs the service address as its source and a note of "
                                "the employee's signed confirmation."))
    if any(role not in PHOTO_ROLES for role, _file in photos):
        raise ServiceRefused(_l("A dispatch photo shows the contents or the sealed envelope."))
    earlier = [d for d in case_dispatches(case) if d.document_id == document.id]
    if any(dispatch_service(d).state == "failed" for d in earlier):
        raise ServiceRefused(_l("A dispatch of %(number)s came back undelivered: issue a new notice (a re-sent notice "
                                "is a new document with a new deadline).", number=document.number))
    before = case_service(case, document.kind)
    dispatch = Dispatch(case_id=case.id, document_id=document.id, document_sha256=document.sha256, method=method,
                        tracking_no=(tracking_no or "").strip() or None, dispatched_on=dispatched_on,
                        addressee=addressee.strip(), address=address.strip(), address_source=address_source,
                        confirmed_service_address=confirmed_service_address,
                        confirmation_note=(confirmation_note or "").strip() or None,
                        recorded_by=evidence.actor_of(actor), recorded_at=clock.now())
    db.session.add(dispatch)
    db.session.flush()
    db.session.add_all(DispatchPhoto(dispatch_id=dispatch.id, file_id=stored.id, role=role,
                                     recorded_by=dispatch.recorded_by, recorded_at=dispatch.recorded_at)
                       for role, stored in photos)
    evidence.record("absence.dispatched", subject(case.id), {
        "dispatch": dispatch.id, "document": document.id, "number": document.number, "sha256": document.sha256,
        "method": method, "tracking_no": dispatch.tracking_no, "dispatched_on": dispatched_on,
        "addressee": dispatch.addressee, "address": dispatch.address, "address_source": address_source,
        "confirmed_service_address": confirmed_service_address, "confirmation_note": dispatch.confirmation_note,
        "photos": [{"role": role, **described(stored)} for role, stored in photos]}, actor=actor)
    _after_change(case, before, actor)
    if commit:
        db.session.commit()
    return dispatch


def add_dispatch_photo(dispatch: Dispatch, role: str, stored: StoredFile, actor=None,
                       commit: bool = True) -> DispatchPhoto:
    """A photo of a dispatch's contents or envelope uploaded after the dispatch was recorded."""
    if role not in PHOTO_ROLES:
        raise ServiceRefused(_l("A dispatch photo shows the contents or the sealed envelope."))
    photo = DispatchPhoto(dispatch_id=dispatch.id, file_id=stored.id, role=role, recorded_by=evidence.actor_of(actor),
                          recorded_at=clock.now())
    db.session.add(photo)
    db.session.flush()
    evidence.record("absence.dispatch_photo", subject(dispatch.case_id), {
        "dispatch": dispatch.id, "tracking_no": dispatch.tracking_no, "role": role, **described(stored)}, actor=actor)
    if commit:
        db.session.commit()
    return photo


def record_tracking(dispatch: Dispatch, *, status: str, day: date, signed_by: str | None = None,
                    reason: str | None = None, note: str | None = None, source: str = "page", actor=None,
                    commit: bool = True) -> TrackingEvent:
    """Record one tracking event of a dispatch; raises ServiceRefused with the reason."""
    case = dispatch.case
    _check_open(case, dispatch.document.kind)
    if status not in TRACKING_STATUSES or source not in TRACKING_SOURCES:
        raise ServiceRefused(_l("Unknown tracking status or source."))
    if status == "delivered" and signed_by not in SIGNERS:
        raise ServiceRefused(_l("Say who signed for the delivery."))
    if status != "delivered" and signed_by:
        raise ServiceRefused(_l("Only a delivery is signed for."))
    if status == "returned" and reason not in RETURN_REASONS:
        raise ServiceRefused(_l("Give the reason it was returned."))
    if status not in ("returned", "returned_to_sender") and reason:
        raise ServiceRefused(_l("Only a return has a reason."))
    if day < dispatch.dispatched_on:
        raise ServiceRefused(_l("The event is dated before the dispatch (%(day)s).",
                                day=dispatch.dispatched_on.isoformat()))
    if day > clock.today():
        raise ServiceRefused(_l("The event date is in the future."))
    was = dispatch_service(dispatch)
    if was.state in ("served", "failed"):
        raise ServiceRefused(_l("This dispatch is settled already (%(state)s): record a new dispatch instead.",
                                state=dispatch_words(was)))
    before = case_service(case, dispatch.document.kind)
    event = TrackingEvent(dispatch_id=dispatch.id, status=status, day=day, signed_by=signed_by or None,
                          reason=reason or None, note=(note or "").strip() or None, source=source,
                          recorded_by=evidence.actor_of(actor), recorded_at=clock.now())
    db.session.add(event)
    db.session.flush()
    db.session.expire(dispatch, ["events"])
    evidence.record("absence.tracking", subject(case.id), {
        "dispatch": dispatch.id, "tracking_no": dispatch.tracking_no, "status": status, "day": day,
        "signed_by": event.signed_by, "reason": event.reason, "note": event.note, "source": source}, actor=actor)
    now = dispatch_service(dispatch)
    if now.state == "failed":
        after = case_service(case, dispatch.document.kind)
        evidence.record("absence.service_failed", subject(case.id), {
            "dispatch": dispatch.id, "document": dispatch.document_id, "returned_on": now.day, "reason": now.reason,
            "address_source": dispatch.address_source, "next_address": after.next_address,
            "next_action": after.next_action}, actor=actor)
    _after_change(case, before, actor)
    if commit:
        db.session.commit()
    return event


def confirm_signature(dispatch: Dispatch, note: str, actor=None, commit: bool = True) -> None:
    """HR confirms that a delivery signed by someone else (or left in a locker) reached the employee."""
    _check_open(dispatch.case, dispatch.document.kind)
    answer = dispatch_service(dispatch)
    if answer.state != "awaiting_confirmation":
        raise ServiceRefused(_l("Nothing to confirm: no delivery signed by someone else awaits confirmation."))
    if not (note or "").strip():
        raise ServiceRefused(_l("Say how you know it reached the employee."))
    before = case_service(dispatch.case, dispatch.document.kind)
    dispatch.signature_confirmed_at, dispatch.signature_confirmed_by = clock.now(), evidence.actor_of(actor)
    dispatch.signature_note = note.strip()
    evidence.record("absence.signature_confirmed", subject(dispatch.case_id), {
        "dispatch": dispatch.id, "delivered_on": answer.day, "signed_by": answer.signed_by, "note": note.strip()},
        actor=actor)
    _after_change(dispatch.case, before, actor)
    if commit:
        db.session.commit()


def can_publish(case: AbsenceCase, whereabouts_unknown_note: str | None = None) -> bool:
    """Public notice only after a failed attempt is on record or HR documents unknown whereabouts."""
    if (whereabouts_unknown_note or "").strip():
        return True
    return any(dispatch_service(d).state == "failed" for d in case_dispatches(case))


def record_public_notice(case: AbsenceCase, document: Document, *, medium: str, published_on: date,
                         scan: StoredFile | None, whereabouts_unknown_note: str | None = None,
                         actor=None, commit: bool = True) -> PublicNotice:
    """Record a public notice (公告送达) with the scan of the publication; refused without the scan, or
    before a failed attempt or documented unknown whereabouts."""
    _check_open(case, document.kind)
    if document.case_id != case.id:
        raise ServiceRefused(_l("The document %(number)s is not a notice of this case.", number=document.number))
    if not (medium or "").strip():
        raise ServiceRefused(_l("Name the newspaper or channel the notice was published in."))
    if published_on > clock.today():
        raise ServiceRefused(_l("The publication date is in the future."))
    if scan is None:
        raise ServiceRefused(_l("Upload the scan of the publication (the newspaper page or a capture of the "
                                "channel's post)."))
    if not can_publish(case, whereabouts_unknown_note):
        raise ServiceRefused(_l("Public notice is allowed only after a failed attempt to serve the notice is on "
                                "record, or when you document that the employee's whereabouts are unknown "
                                "(参照 劳办发〔1995〕179号)."))
    before = case_service(case, document.kind)
    notice = PublicNotice(case_id=case.id, document_id=document.id, medium=medium.strip(), published_on=published_on,
                          scan_sha256=scan.sha256, scan_file_id=scan.id,
                          whereabouts_unknown_note=(whereabouts_unknown_note or "").strip() or None,
                          recorded_by=evidence.actor_of(actor), recorded_at=clock.now())
    db.session.add(notice)
    db.session.flush()
    evidence.record("absence.public_notice", subject(case.id), {
        "public_notice": notice.id, "document": document.id, "number": document.number, "medium": notice.medium,
        "published_on": published_on, "served_on": published_on + timedelta(days=PUBLIC_NOTICE_DAYS),
        "scan": described(scan), "whereabouts_unknown_note": notice.whereabouts_unknown_note}, actor=actor)
    _after_change(case, before, actor)
    if commit:
        db.session.commit()
    return notice


def _after_change(case: AbsenceCase, before: CaseService, actor) -> None:
    """Record `served` (and, for the return notice, `deadline_set`) when a fact served the notice or changed
    its date; sync to-dos."""
    kind = before.document.kind  # every fact names an issued document of its kind
    after = case_service(case, kind)
    changed = after.served_on is not None and (
        before.served_on != after.served_on or before.document is not after.document
        or before.effective != after.effective)
    if changed:
        payload = {"document": after.document.id, "number": after.document.number, "kind": kind}
        evidence.record("absence.served", subject(case.id), {
            **payload, "served_on": after.served_on, "basis": after.served.basis}, actor=actor)
        if kind == "return_to_work":
            evidence.record("absence.deadline_set", subject(case.id), {
                **payload, "stated": after.stated, "effective": after.effective, "served_on": after.served_on,
                "rule_version": after.rule_version}, actor=actor)
    sync_todos(case, after, kind)


def sync_todos(case: AbsenceCase, service: CaseService | None = None, kind: str = "return_to_work") -> None:
    """One open to-do for the next service action of the notice of `kind` (none once served); others of
    its family are done."""
    service = service or case_service(case, kind)
    now = clock.now()
    todo_of = TODO_OF[kind]
    live = case.is_open or kind in SERVED_AFTER_RESOLUTION
    wanted = todo_of[service.next_action] if live and service.next_action else None
    for todo in case.todos:
        if todo.kind in todo_of.values() and todo.done_at is None and todo.kind != wanted:
            todo.done_at, todo.done_by = now, "system"
    if wanted and not any(t.kind == wanted and t.done_at is None for t in case.todos):
        db.session.add(CaseTodo(case_id=case.id, kind=wanted, created_at=now,
                                due_on=_due_on(service.next_action, service)))


def _due_on(kind: str, service: CaseService) -> date | None:
    """A to-do's day: the notice goes out by the dispatch date its deadline was computed from."""
    if kind == "dispatch_notice" and service.document is not None and service.document.facts.get("dispatch_on"):
        return date.fromisoformat(service.document.facts["dispatch_on"])
    return None


# ---------------------------------------------------------------- the effective deadline


def deadline_has_passed(case: AbsenceCase, now: datetime | None = None) -> tuple[bool, str | None]:
    """Whether the effective deadline's day has ended (the earliest anything about termination may be
    drafted — a later issue's gate); if not, why not."""
    state = case_service(case)
    if state.effective is None:
        return False, state.why_not
    if day_end(state.effective) > (now or clock.now()):
        return False, _("The effective deadline %(day)s has not passed yet.", day=state.effective.isoformat())
    return True, None
