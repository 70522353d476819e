"""Sending each logical message once, delivering it per channel, and recording every step.

send() renders the message in the recipient's language and inserts it under a unique
(step_key, recipient): a second send of the same step — a retried job, a second tick —
inserts nothing and sends nothing. E-mail and SMS then leave through jobs that claim the
delivery, record the attempt, hand the message over with the step's idempotency key, and
record the outcome; failures retry with backoff until the last try, then wait for HR.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app, render_template
from flask_babel import force_locale
from sqlalchemy import event, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, joinedload, make_transient_to_detached
from sqlalchemy.orm.attributes import set_committed_value

from lms import clock, evidence, jobs
from lms.extensions import db
from lms.notify.channels import DeliveryError, Outgoing, send_email, send_sms, sms_text
from lms.notify.models import CHANNELS, Delivery, Message
from lms.people.access import hr_employee_ids
from lms.people.models import Employee, User

BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1))
LEASE = timedelta(minutes=5)  # a claimed delivery not finished by then is taken again (crash)


def _insert_ignoring_duplicates(model, values: dict, **related):
    """INSERT … ON CONFLICT DO NOTHING; the new row as an object in the session, or None if the row existed
    (the unique constraint decides). The object is made from `values` and the id the INSERT returns, not
    read back; `related` are objects it refers to (recipient=…, message=…), set as they are."""
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    table = model.__table__
    # RETURNING, not rowcount: psycopg reports rowcount -1 for a statement that returns rows.
    new_id = db.session.execute(insert(table).values(**values).on_conflict_do_nothing().returning(table.c.id)) \
        .scalar()
    if new_id is None:
        return None
    row = model(id=new_id, **values)
    make_transient_to_detached(row)  # as if loaded: persistent once added, with nothing to write
    db.session.add(row)
    for name, value in related.items():
        set_committed_value(row, name, value)
    return row


def idempotency_key(step_key: str, recipient_id: int, channel: str) -> str:
    """The same logical message on the same channel always gets the same key."""
    return hashlib.sha256(f"{step_key}|{recipient_id}|{channel}".encode()).hexdigest()[:40]


def recipient_locale(employee: Employee) -> str:
    locale = db.session.scalar(select(User.locale).where(User.employee_id == employee.id))
    return locale or current_app.config["LMS_LOCALE"]


def render(template: str, context: dict, locale: str) -> tuple[str, str]:
    """(subject, body) of notify/<template>.txt in `locale`: the first line is the subject."""
    with force_locale(locale):
        text = render_template(f"notify/{template}.txt", **context).strip()
    subject, _sep, body = text.partition("\n")
    return subject.strip(), body.strip()


def _address(employee: Employee, channel: str) -> str | None:
    return {"inapp": f"inbox:{employee.id}", "email": employee.email, "sms": employee.mobile}[channel]


@dataclass(frozen=True)
class Draft:
    """A message rendered in its recipient's language, not yet written: send_draft() writes it."""

    step_key: str
    recipient: Employee
    template: str
    locale: str
    subject: str
    body: str
    channels: list[str]
    evidence_subject: str


def draft(step_key: str, recipient: Employee | int, template: str, context: dict, channels: Iterable[str],
          *, evidence_subject: str | None = None) -> Draft:
    """What send() would write, read and rendered but not written: a caller that writes several things at
    once prepares its messages first, and holds its locks for the writes alone."""
    channels = list(dict.fromkeys(channels))
    unknown = set(channels) - set(CHANNELS)
    if unknown or not channels:
        raise ValueError(f"channels must be a non-empty subset of {CHANNELS}, not {channels}")
    employee = recipient if isinstance(recipient, Employee) else db.session.get(Employee, recipient)
    locale = recipient_locale(employee)
    subject, body = render(template, context, locale)
    return Draft(step_key, employee, template, locale, subject, body, channels,
                 evidence_subject or evidence.subject_of("employee", employee.id))


def send(step_key: str, recipient: Employee | int, template: str, context: dict, channels: Iterable[str],
         *, evidence_subject: str | None = None, actor=None, commit: bool = True) -> Message:
    """Send a logical message once per (step_key, recipient), on each of `channels`.

    Returns the message; if this step was sent before, returns that one and does nothing.
    Commits: the message and its in-app delivery are durable before any job runs. With commit=False
    it writes in the caller's transaction instead (the message stands or falls with what caused it),
    and the caller, once it has committed, calls hand_off_written() for the e-mails and SMS.
    """
    return send_draft(draft(step_key, recipient, template, context, channels, evidence_subject=evidence_subject),
                      actor=actor, commit=commit)


def send_draft(drafted: Draft, *, actor=None, commit: bool = True) -> Message:
    """send() for a message drafted before (see send for `commit`)."""
    step_key, employee = drafted.step_key, drafted.recipient
    message = _insert_ignoring_duplicates(Message, {
        "step_key": step_key, "recipient_id": employee.id, "template": drafted.template, "locale": drafted.locale,
        "subject": drafted.subject, "body": drafted.body, "evidence_subject": drafted.evidence_subject,
        "created_at": clock.now(),
    }, recipient=employee)
    if message is None:  # sent before: that message, nothing more
        message = db.session.scalars(
            select(Message).where(Message.step_key == step_key, Message.recipient_id == employee.id)
        ).one()
        if commit:
            db.session.commit()
        return message
    evidence.record("notify.message_created", drafted.evidence_subject, {
        "message_id": message.id, "step_key": step_key, "template": drafted.template, "locale": drafted.locale,
        "recipient": employee.employee_no, "subject": drafted.subject, "text": drafted.body,
        "channels": drafted.channels}, actor=actor)
    outgoing = db.session.info.setdefault(_WRITTEN, [])
    for channel in drafted.channels:
        address = _address(employee, channel)
        # The inbox is our own database: an in-app delivery is sent as it is written. One without an
        # address has failed as it is written.
        in_inbox = channel == "inapp" and address is not None
        missing = None if address is not None else \
            f"employee {employee.employee_no} has no {'e-mail address' if channel == 'email' else 'mobile number'}"
        # The message is new, so are its deliveries. Every column is given: the object is made from them.
        delivery = _insert_ignoring_duplicates(Delivery, {
            "message_id": message.id, "channel": channel, "address": address,
            "status": "failed" if missing else "sent" if in_inbox else "pending",
            "sent_at": clock.now() if in_inbox else None, "last_error": missing,
            "attempts": 0, "idempotency_key": idempotency_key(step_key, employee.id, channel),
            "next_attempt_at": None, "provider_message_id": None, "delivered_at": None, "read_at": None,
        }, message=message)
        if delivery is None:
            continue
        if missing:
            _record_gave_up(delivery, missing)
        elif in_inbox:
            _record_sent(delivery, provider_message_id=None)
        else:
            outgoing.append(delivery.id)
    if commit:
        db.session.commit()
        hand_off_written()
    return message


# session.info key: the e-mail and SMS deliveries written by send(commit=False), to hand off after the commit.
_WRITTEN = "notify_written_deliveries"


def hand_off_written() -> None:
    """Hand the e-mail and SMS deliveries that send(commit=False) wrote to their jobs: after the commit.
    (One whose hand-off is lost is found by the tick: due_deliveries.)"""
    for delivery_id in db.session.info.pop(_WRITTEN, []):
        jobs.hand_off(deliver, delivery_id)


@event.listens_for(Session, "after_rollback")
def _forget_written(session) -> None:
    session.info.pop(_WRITTEN, None)  # rolled back: there is nothing to deliver


def _payload(delivery: Delivery, **extra) -> dict:
    message = delivery.message
    return {"message_id": message.id, "delivery_id": delivery.id, "step_key": message.step_key,
            "channel": delivery.channel, "address": delivery.address, "recipient": message.recipient.employee_no,
            "idempotency_key": delivery.idempotency_key, **extra}


def _text_for(delivery: Delivery) -> str:
    message = delivery.message
    return sms_text(message.subject, message.body) if delivery.channel == "sms" else message.body


def _mark_sent(delivery: Delivery, provider_message_id: str | None) -> None:
    delivery.status, delivery.sent_at = "sent", clock.now()
    delivery.provider_message_id = provider_message_id
    delivery.next_attempt_at = None
    _record_sent(delivery, provider_message_id)


def _record_sent(delivery: Delivery, provider_message_id: str | None) -> None:
    evidence.record("notify.sent", delivery.message.evidence_subject, _payload(
        delivery, subject=delivery.message.subject, text=_text_for(delivery), attempt=delivery.attempts,
        provider_message_id=provider_message_id))


def _give_up(delivery: Delivery, reason: str) -> None:
    delivery.status, delivery.last_error, delivery.next_attempt_at = "failed", reason, None
    _record_gave_up(delivery, reason)


def _record_gave_up(delivery: Delivery, reason: str) -> None:
    evidence.record("notify.gave_up", delivery.message.evidence_subject,
                    _payload(delivery, reason=reason, attempts=delivery.attempts))


def _claim(delivery_id: int, now: datetime) -> bool:
    """Take the delivery for one attempt; False if it is done, or another worker holds it."""
    claimable = or_(
        (Delivery.status == "pending") & (or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now)),
        (Delivery.status == "sending") & (Delivery.next_attempt_at <= now),
    )
    result = db.session.execute(
        update(Delivery).where(Delivery.id == delivery_id, claimable)
        .values(status="sending", attempts=Delivery.attempts + 1, next_attempt_at=now + LEASE)
    )
    return result.rowcount == 1


def deliver(delivery_id: int) -> str:
    """One attempt at an e-mail or SMS delivery (a job: safe to run twice). Returns the status."""
    now = clock.now()
    if not _claim(delivery_id, now):
        db.session.rollback()
        return "skipped"
    delivery = db.session.scalars(
        select(Delivery).options(joinedload(Delivery.message).joinedload(Message.recipient))
        .where(Delivery.id == delivery_id)
    ).one()
    # Written down before the hand-off, so a crash leaves a trace and the next try is a retry.
    evidence.record("notify.attempt", delivery.message.evidence_subject,
                    _payload(delivery, attempt=delivery.attempts, retry=delivery.attempts > 1))
    db.session.commit()
    outgoing = Outgoing(address=delivery.address, subject=delivery.message.subject, text=_text_for(delivery),
                        idempotency_key=delivery.idempotency_key)
    try:
        provider_id = send_email(outgoing) if delivery.channel == "email" else send_sms(outgoing)
    except DeliveryError as exc:
        delivery.last_error = exc.reason
        if exc.permanent or delivery.attempts >= current_app.config["LMS_NOTIFY_MAX_ATTEMPTS"]:
            _give_up(delivery, exc.reason)
        else:
            delivery.status = "pending"
            delivery.next_attempt_at = now + BACKOFF[min(delivery.attempts - 1, len(BACKOFF) - 1)]
            evidence.record("notify.failed", delivery.message.evidence_subject, _payload(
                delivery, reason=exc.reason, attempt=delivery.attempts, retry_at=delivery.next_attempt_at))
        db.session.commit()
        return delivery.status
    _mark_sent(delivery, provider_id)
    db.session.commit()
    return delivery.status


def due_deliveries(now: datetime) -> list[int]:
    """Deliveries whose retry time has come, whose claim has expired (a crashed worker), or never tried
    a LEASE after their message was made: their job was lost (Redis stopped, or unreachable at the hand-off)."""
    retry_due = Delivery.next_attempt_at.is_not(None) & (Delivery.next_attempt_at <= now)
    never_tried = ((Delivery.status == "pending") & Delivery.next_attempt_at.is_(None)
                   & (Message.created_at <= now - LEASE))
    return list(db.session.scalars(
        select(Delivery.id).join(Message, Message.id == Delivery.message_id).where(
            Delivery.status.in_(("pending", "sending")), Delivery.channel != "inapp", retry_due | never_tried,
        ).order_by(Delivery.id)
    ))


def retry_now(delivery_id: int, actor) -> None:
    """HR asks for one more try of a failed delivery."""
    delivery = db.session.get(Delivery, delivery_id)
    if delivery is None or delivery.status != "failed" or delivery.channel == "inapp" or not delivery.address:
        raise ValueError("only a failed e-mail or SMS delivery with an address can be retried")
    delivery.status, delivery.next_attempt_at = "pending", None
    delivery.attempts = min(delivery.attempts, current_app.config["LMS_NOTIFY_MAX_ATTEMPTS"] - 1)
    evidence.record("notify.retry_requested", delivery.message.evidence_subject, _payload(delivery), actor=actor)
    db.session.commit()
    jobs.hand_off(deliver, delivery_id)


def mark_read(delivery: Delivery, reader: User) -> None:
    """The recipient opened the in-app message: a read receipt, once, with its time."""
    if delivery.read_at is not None:
        return
    delivery.read_at = clock.now()
    delivery.status = "read"
    evidence.record("notify.read", delivery.message.evidence_subject,
                    _payload(delivery, read_at=delivery.read_at), actor=reader)
    db.session.commit()


RECEIPT_STATUSES = {"delivered": "delivered", "failed": "failed"}


def record_receipt(provider_message_id: str, status: str, at: datetime | None, error: str | None = None) -> bool:
    """A provider's delivery receipt. Returns False for an unknown message id; repeats change nothing."""
    delivery = db.session.scalars(
        select(Delivery).where(Delivery.provider_message_id == provider_message_id)
    ).first()
    if delivery is None:
        return False
    if delivery.status in ("delivered", "failed", "read"):
        return True
    at = at or clock.now()
    if status == "delivered":
        delivery.status, delivery.delivered_at = "delivered", at
        evidence.record("notify.delivered", delivery.message.evidence_subject, _payload(delivery, delivered_at=at))
    else:
        delivery.status, delivery.last_error = "failed", error or "the provider reported a failed delivery"
        evidence.record("notify.delivery_failed", delivery.message.evidence_subject,
                        _payload(delivery, reported_at=at, reason=delivery.last_error))
    db.session.commit()
    return True


def hr_contacts() -> list[Employee]:
    """The HR officers people may write to: those who receive HR's messages."""
    return list(db.session.scalars(select(Employee).where(Employee.id.in_(hr_employee_ids()))
                                   .order_by(Employee.employee_no)))


def message_hr(sender: Employee, text: str, actor) -> int:
    """An employee's message into every HR officer's inbox (one step, so a resent form sends nothing new).
    Returns how many received it."""
    text = text.strip()
    step = "contact-hr:" + hashlib.sha256(f"{sender.id}|{clock.now().isoformat()}|{text}".encode()).hexdigest()[:24]
    recipients = hr_contacts()
    for officer in recipients:
        send(step, officer, "contact_hr", {"name": sender.name, "employee_no": sender.employee_no, "text": text},
             ["inapp"], evidence_subject=evidence.subject_of("employee", sender.id), actor=actor)
    return len(recipients)
