"""Logical messages, their per-channel deliveries, and the SMS outbox."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms import clock
from lms.extensions import db
from lms.people.models import Employee
from lms.sqltypes import UTCDateTime

CHANNELS = ("inapp", "email", "sms")
# pending → sending → sent → delivered → read (in-app: sent → read); failed after the last try.
STATUSES = ("pending", "sending", "sent", "delivered", "read", "failed")


class Message(db.Model):
    """One logical message to one person, rendered once in their language.

    (step_key, recipient) is unique: a retried job or a second tick that sends the same
    step again finds the row and sends nothing.
    """

    __table_args__ = (UniqueConstraint("step_key", "recipient_id", name="uq_message_step_key_recipient"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    step_key: Mapped[str] = mapped_column(String(200))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), index=True)
    template: Mapped[str] = mapped_column(String(80))
    locale: Mapped[str] = mapped_column(String(8))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    # Evidence subject the message belongs to (e.g. "case:5"); the recipient by default.
    evidence_subject: Mapped[str] = mapped_column(String(100), index=True)  # a case page lists its messages
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    recipient: Mapped[Employee] = relationship()
    deliveries: Mapped[list[Delivery]] = relationship(back_populates="message", order_by="Delivery.id")


class Delivery(db.Model):
    """The message on one channel: attempts, outcome and receipts."""

    __table_args__ = (
        UniqueConstraint("message_id", "channel", name="uq_delivery_message_id_channel"),
        CheckConstraint("channel IN ('inapp', 'email', 'sms')", name="channel_known"),
        CheckConstraint(
            "status IN ('pending', 'sending', 'sent', 'delivered', 'read', 'failed')", name="status_known"
        ),
        Index("ix_delivery_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"))
    channel: Mapped[str] = mapped_column(String(8))
    address: Mapped[str | None] = mapped_column(String(254))
    status: Mapped[str] = mapped_column(String(10), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    # The step's idempotency key as the provider sees it (Message-ID, SMS request id).
    idempotency_key: Mapped[str] = mapped_column(String(100), unique=True)
    provider_message_id: Mapped[str | None] = mapped_column(String(200), index=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    message: Mapped[Message] = relationship(back_populates="deliveries")


class SmsOutbox(db.Model):
    """What the default SMS driver would have sent (no provider configured)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[str] = mapped_column(String(100), unique=True)
    mobile: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
