"""Self-service requests: leave and trips, attachments, emergency reports, punch corrections, managers
marked away, emergency contacts and service-address confirmations."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms import clock
from lms.absence.models import LEAVE_TYPES
from lms.extensions import db
from lms.people.models import Employee
from lms.sqltypes import UTCDateTime

REQUEST_KINDS = ("leave", "trip")  # a trip (出差/外出) is its own kind; approved, it is leave of type business_trip
REQUEST_STATES = ("pending", "approved", "rejected", "withdrawn")
DECISION_STATES = ("pending", "approved", "rejected")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class LeaveRequest(db.Model):
    """An employee's application for leave or a trip; approval creates the Leave (`leave_id`)."""

    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
                      CheckConstraint(_one_of("kind", REQUEST_KINDS), name="kind_known"),
                      CheckConstraint(_one_of("state", REQUEST_STATES), name="state_known"),
                      CheckConstraint(_one_of("type", LEAVE_TYPES), name="type_known"),
                      Index("ix_leave_request_employee_id_starts_on", "employee_id", "starts_on"),
                      Index("ix_leave_request_state", "state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"))
    kind: Mapped[str] = mapped_column(String(8), default="leave")
    type: Mapped[str] = mapped_column(String(16))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    is_late: Mapped[bool] = mapped_column(default=False)
    notice_days: Mapped[int | None]  # the rule's value it was judged by
    rule_version: Mapped[str | None] = mapped_column(String(40))
    extends_leave_id: Mapped[int | None]  # 续假: the approved leave it continues
    emergency_report_id: Mapped[int | None] = mapped_column(ForeignKey("emergency_report.id"))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_by: Mapped[str] = mapped_column(String(100))
    reminded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decider_id: Mapped[int | None] = mapped_column(ForeignKey("employee.id"))
    decision_note: Mapped[str | None] = mapped_column(String(500))
    leave_id: Mapped[int | None]  # the Leave approval created (not a foreign key: cancelling leave deletes it)

    employee: Mapped[Employee] = relationship(foreign_keys=[employee_id])
    attachments: Mapped[list[RequestAttachment]] = relationship(order_by="RequestAttachment.id",
                                                                back_populates="request")


class RequestAttachment(db.Model):
    """A file with a request (a medical certificate…): stored as sent, with its SHA-256."""

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("leave_request.id"), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    request: Mapped[LeaveRequest] = relationship(back_populates="attachments")


REPORT_CHANNELS = ("app", "alert", "api", "manager")


class EmergencyReport(db.Model):
    """紧急情况报告: "I cannot come today" (or the manager's note of a phone call); it pauses the open case
    and starts the clock for the follow-up leave request and proof."""

    __table_args__ = (CheckConstraint(_one_of("channel", REPORT_CHANNELS), name="channel_known"),
                      Index("ix_emergency_report_employee_id_day", "employee_id", "day"))

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"))
    day: Mapped[date]  # the working day it is about (the local date it was reported)
    reason: Mapped[str] = mapped_column(Text)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    channel: Mapped[str] = mapped_column(String(8))
    recorded_by: Mapped[str] = mapped_column(String(100))
    follow_up_by: Mapped[date | None]  # the last day for the leave request and proof (rule's working days)
    rule_version: Mapped[str | None] = mapped_column(String(40))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("absence_case.id"))  # the case it paused
    followed_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    todo_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # not followed up in time: HR's to-do
    todo_done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    todo_done_by: Mapped[str | None] = mapped_column(String(100))

    employee: Mapped[Employee] = relationship()


class PunchCorrection(db.Model):
    """补卡: the employee states when they arrived on a day without a punch; the manager verifies."""

    __table_args__ = (CheckConstraint(_one_of("state", DECISION_STATES), name="state_known"),
                      Index("ix_punch_correction_employee_id_day", "employee_id", "day"))

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"))
    day: Mapped[date]
    arrived_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10), default="pending")
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    submitted_by: Mapped[str] = mapped_column(String(100))
    rule_version: Mapped[str | None] = mapped_column(String(40))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(100))
    decider_id: Mapped[int | None] = mapped_column(ForeignKey("employee.id"))
    decision_note: Mapped[str | None] = mapped_column(String(500))

    employee: Mapped[Employee] = relationship(foreign_keys=[employee_id])


class AwayMark(db.Model):
    """A manager marked away (business trip, leave…): meanwhile their own manager decides their team's requests."""

    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
                      Index("ix_away_mark_employee_id", "employee_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    set_by: Mapped[str] = mapped_column(String(100))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class EmergencyContact(db.Model):
    """The employee's emergency contact (only to check on their safety, never to serve notices)."""

    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    relation: Mapped[str | None] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(20))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


CONFIRMATION_METHODS = ("app", "scan")


class ServiceAddressConfirmation(db.Model):
    """送达地址确认: the address at which the company may serve documents, confirmed by the employee in the
    app (the exact text shown, its hash, time, IP, user agent) or as a signed paper scan. A newer one, or a
    change of address, supersedes it; nothing is deleted."""

    __table_args__ = (CheckConstraint(_one_of("method", CONFIRMATION_METHODS), name="method_known"),
                      Index("ix_service_address_confirmation_employee_id", "employee_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"))
    address: Mapped[str] = mapped_column(Text)
    method: Mapped[str] = mapped_column(String(8))
    text_shown: Mapped[str] = mapped_column(Text)
    text_sha256: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    recorded_by: Mapped[str] = mapped_column(String(100))
    scan_filename: Mapped[str | None] = mapped_column(String(200))
    scan_sha256: Mapped[str | None] = mapped_column(String(64))
    scan: Mapped[bytes | None] = mapped_column(LargeBinary)
    evidence_seq: Mapped[int]
    superseded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    superseded_why: Mapped[str | None] = mapped_column(String(40))  # address_changed | reconfirmed

    employee: Mapped[Employee] = relationship()
