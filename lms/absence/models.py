"""Absence data: the calendar's overrides, schedules, punches, leave, monitoring and cases."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms import clock
from lms.documents.models import Document, StoredFile
from lms.extensions import db
from lms.people.models import Employee
from lms.sqltypes import UTCDateTime


class CalendarOverride(db.Model):
    """One date declared a working day or a rest day (a 调休 day, a company holiday, a correction)."""

    day: Mapped[date] = mapped_column(primary_key=True)
    is_workday: Mapped[bool]
    name: Mapped[str] = mapped_column(String(80))
    set_by: Mapped[str] = mapped_column(String(100))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CalendarYear(db.Model):
    """A year HR entered from the State Council notice: its other dates follow Monday–Friday."""

    year: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(200))  # e.g. 国办发明电〔2026〕X号
    entered_by: Mapped[str] = mapped_column(String(100))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)


# ---------------------------------------------------------------- inputs: schedules, punches, leave


class ShiftGroup(db.Model):
    """A working-hours schedule shared by a group of employees (local time, Asia/Shanghai).

    The group marked default applies to everyone without an assignment; with none marked, the
    built-in standard day 09:00–18:00 does (`schedules.default_shift`). Shifts end on the day they start.
    Which days are working days is the group's `pattern` (`workdays`): the national calendar, fixed
    weekdays (`weekdays`, ISO digits "12345" = Monday–Friday; national holidays off if
    `observes_holidays`), or a roster entered per month (`RosterMonth`).
    """

    __table_args__ = (CheckConstraint("ends_at > starts_at", name="ends_after_start"),
                      CheckConstraint("pattern IN ('calendar', 'weekly', 'roster')", name="pattern_known"),
                      Index("uq_shift_group_one_default", "is_default", unique=True,
                            sqlite_where=text("is_default"), postgresql_where=text("is_default")))

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    starts_at: Mapped[time]
    ends_at: Mapped[time]
    is_default: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    pattern: Mapped[str] = mapped_column(String(8), default="calendar", server_default="calendar")
    weekdays: Mapped[str] = mapped_column(String(7), default="12345", server_default="12345")
    observes_holidays: Mapped[bool] = mapped_column(default=True, server_default=text("true"))


class ShiftAssignment(db.Model):
    """Which shift group an employee works in (absent: the default group)."""

    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), primary_key=True)
    shift_group_id: Mapped[int] = mapped_column(ForeignKey("shift_group.id"), index=True)
    assigned_by: Mapped[str] = mapped_column(String(100))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    shift_group: Mapped[ShiftGroup] = relationship()


class RosterMonth(db.Model):
    """The working dates of one month for one employee (overriding their group's pattern that month)
    or for a roster group (its members without their own). Its days are `RosterDay` rows."""

    __table_args__ = (CheckConstraint("(employee_id IS NULL) <> (shift_group_id IS NULL)", name="one_target"),
                      UniqueConstraint("employee_id", "month", name="uq_roster_month_employee_id_month"),
                      UniqueConstraint("shift_group_id", "month", name="uq_roster_month_shift_group_id_month"),
                      Index("ix_roster_month_month", "month"))

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employee.id"))
    shift_group_id: Mapped[int | None] = mapped_column(ForeignKey("shift_group.id"))
    month: Mapped[date]  # the first day of the month
    source: Mapped[str] = mapped_column(String(40))  # page, csv, xlsx, api:<token name>, replay
    saved_by: Mapped[str] = mapped_column(String(100))
    saved_at: Mapped[datetime] = mapped_column(UTCDateTime)


class RosterDay(db.Model):
    """A working date of a roster month; the month's other dates are rest days."""

    __table_args__ = (Index("ix_roster_day_day", "day"),)

    roster_id: Mapped[int] = mapped_column(ForeignKey("roster_month.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)


class Punch(db.Model):
    """One clock-in/out from a time clock or an integration; the same punch twice is stored once."""

    __table_args__ = (UniqueConstraint("employee_id", "punched_at", name="uq_punch_employee_id_punched_at"),
                      Index("ix_punch_work_day_employee_id", "work_day", "employee_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"))
    punched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    work_day: Mapped[date]  # the local (Asia/Shanghai) date of punched_at: the day it proves presence on
    source: Mapped[str] = mapped_column(String(40))  # csv:generic, csv:dingtalk, api:<token name>
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


# business_trip 出差/外出, time_off_in_lieu 调休, work_injury 工伤, detention 限制人身自由 (never 旷工:
# 劳部发〔1995〕309号第二十八条) join the leave proper: on each of them the employee is not absent without cause.
LEAVE_TYPES = ("personal", "sick", "annual", "marriage", "maternity", "bereavement", "other",
               "business_trip", "time_off_in_lieu", "work_injury", "detention")


class Leave(db.Model):
    """Approved leave, whole days from starts_on to ends_on inclusive."""

    __table_args__ = (CheckConstraint("ends_on >= starts_on", name="ends_after_start"),
                      CheckConstraint(f"type IN ({', '.join(repr(kind) for kind in LEAVE_TYPES)})",
                                      name="type_known"),
                      Index("ix_leave_employee_id_starts_on", "employee_id", "starts_on"))

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"))
    type: Mapped[str] = mapped_column(String(16))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    approved_by: Mapped[str | None] = mapped_column(String(100))
    note: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(40))  # page, csv, api:<token name>, case:<id>
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    employee: Mapped[Employee] = relationship()


class Monitoring(db.Model):
    """Absence monitoring switched on (one row): no scan ever looks at a day before `started_on`.

    `closed_through` is the last day whose absences are all counted; the next scan starts after it.
    A start before the day it was switched on was confirmed as such, with the reason given.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    started_on: Mapped[date]
    started_by: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    is_past_confirmed: Mapped[bool] = mapped_column(default=False, server_default=false())
    past_reason: Mapped[str | None] = mapped_column(String(500))
    closed_through: Mapped[date | None]


SCAN_DAY_STATUSES = ("scanned", "rest", "unknown", "no_rules")


class ScanDay(db.Model):
    """What the scan made of one monitored day, once the day was over.

    `unknown` (the calendar did not know the day) and `no_rules` (no rule set was in force on it)
    are never counted; an unknown day is scanned again once HR enters its year or an override.
    """

    __table_args__ = (CheckConstraint("status IN ('scanned', 'rest', 'unknown', 'no_rules')", name="status_known"),
                      Index("ix_scan_day_status", "status"))

    day: Mapped[date] = mapped_column(primary_key=True)
    status: Mapped[str] = mapped_column(String(10))
    rule_version: Mapped[str | None] = mapped_column(String(40))  # the rule set in force on the day
    after_the_fact: Mapped[bool] = mapped_column(default=False)  # closed before it was scanned as a live day
    scanned_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ScanGap(db.Model):
    """An employee on a day the scan could not judge because their roster for that month was missing.

    Scanned again, after the fact, once the roster arrives (never counted as 旷工 before: never guessed).
    """

    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    found_at: Mapped[datetime] = mapped_column(UTCDateTime)


# ---------------------------------------------------------------- cases

# review (found after the fact: nothing sent, HR confirms its days) → opened (detected, alert 1 queued) →
# alerted → warned (alert 2) → reminded → threshold_reached (back to the step state if withdrawn);
# any → resolved.
CASE_STATES = ("review", "opened", "alerted", "warned", "reminded", "threshold_reached", "resolved")
OPEN_STATES = CASE_STATES[:-1]


class AbsenceCase(db.Model):
    """One episode of unexplained absence of one employee, from the first missed working day."""

    __table_args__ = (
        CheckConstraint("state IN ('review', 'opened', 'alerted', 'warned', 'reminded', 'threshold_reached', "
                        "'resolved')",
                        name="state_known"),
        # At most one open case per employee: two scans at once cannot open two.
        Index("uq_absence_case_open_employee", "employee_id", unique=True,
              sqlite_where=text("state <> 'resolved'"), postgresql_where=text("state <> 'resolved'")),
        Index("ix_absence_case_employee_id", "employee_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"))
    state: Mapped[str] = mapped_column(String(20), default="opened")
    first_day: Mapped[date]
    rule_version: Mapped[str | None] = mapped_column(String(40))  # the rule set in force when opened
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    threshold_reached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a reply or a return awaits HR
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # HR's last decision: older facts are answered
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str | None] = mapped_column(String(20))  # returned | excused | leave | warned

    employee: Mapped[Employee] = relationship()
    days: Mapped[list[CaseDay]] = relationship(order_by="CaseDay.day", back_populates="case")
    steps: Mapped[list[CaseStep]] = relationship(order_by="CaseStep.due_at", back_populates="case")
    replies: Mapped[list[CaseReply]] = relationship(order_by="CaseReply.received_at", back_populates="case")
    todos: Mapped[list[CaseTodo]] = relationship(order_by="CaseTodo.created_at", back_populates="case")

    @property
    def is_open(self) -> bool:
        return self.state != "resolved"

    @property
    def counted_days(self) -> list[date]:
        return [d.day for d in self.days if d.status == "counted"]

    @property
    def days_to_confirm(self) -> list[date]:
        """Counted days found after the fact (or left by a case that resolved by itself) that HR has
        not yet confirmed as 旷工: they count toward no threshold until HR does."""
        return [d.day for d in self.days if d.status == "counted" and d.needs_confirmation and d.confirmed_at is None]


class CaseDay(db.Model):
    """A working day of the case: counted as 旷工, or no longer (excused by HR, covered by leave, a punch).

    A day found after the fact (monitoring switched on for past days, a day the calendar did not
    know, a case that resolved by itself) needs HR's confirmation before it counts toward a threshold.
    """

    __table_args__ = (CheckConstraint("status IN ('counted', 'excused', 'leave', 'punched')", name="status_known"),
                      Index("ix_case_day_employee_id_day", "employee_id", "day"))

    case_id: Mapped[int] = mapped_column(ForeignKey("absence_case.id"), primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"))  # for the per-month count
    status: Mapped[str] = mapped_column(String(10), default="counted")
    counted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    rule_version: Mapped[str | None] = mapped_column(String(40))  # the rule set in force on that day
    needs_confirmation: Mapped[bool] = mapped_column(default=False)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by: Mapped[str | None] = mapped_column(String(100))

    case: Mapped[AbsenceCase] = relationship(back_populates="days")


STEP_KINDS = ("alert1", "alert2", "reminder")


class CaseStep(db.Model):
    """A message step of a case, queued with the moment it is due; sent or skipped (with why) once."""

    __table_args__ = (UniqueConstraint("case_id", "key", name="uq_case_step_case_id_key"),
                      CheckConstraint("status IN ('queued', 'sent', 'skipped')", name="status_known"),
                      Index("ix_case_step_status_due_at", "status", "due_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("absence_case.id"))
    key: Mapped[str] = mapped_column(String(40))  # alert1 | alert2 | reminder:YYYY-MM-DD
    kind: Mapped[str] = mapped_column(String(10))
    day: Mapped[date]  # the working day the step is about
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    skip_reason: Mapped[str | None] = mapped_column(String(40))

    case: Mapped[AbsenceCase] = relationship(back_populates="steps")


REPLY_CHANNELS = ("link", "inapp", "phone", "api", "manager")


class CaseReply(db.Model):
    """What the employee said (or HR, or the manager, heard on the phone); HR decides on it."""

    __table_args__ = (CheckConstraint("channel IN ('link', 'inapp', 'phone', 'api', 'manager')", name="channel_known"),
                      Index("ix_case_reply_case_id", "case_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("absence_case.id"))
    channel: Mapped[str] = mapped_column(String(8))
    text: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(100))
    decision: Mapped[str | None] = mapped_column(String(10))  # accepted | continued
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(100))

    case: Mapped[AbsenceCase] = relationship(back_populates="replies")


TODO_KINDS = ("call_employee", "decide_reply", "decide_return", "prepare_return_notice", "threshold_withdrawn",
              "confirm_days", "not_reported", "dispatch_notice", "check_tracking", "confirm_signature",
              "try_another_address", "public_notice", "notify_union", "send_termination", "track_termination",
              "confirm_trm_signature", "readdress_termination", "publish_termination", "send_certificate",
              "transfer_file", "transfer_insurance", "track_certificate", "confirm_crt_signature",
              "readdress_certificate", "publish_certificate", "file_si_stop", "register_si")


class CaseTodo(db.Model):
    """Something HR must do on a case (or, for a new hire who never reported, about an employee);
    done once, by someone, at a time."""

    __table_args__ = (UniqueConstraint("case_id", "kind", "created_at", name="uq_case_todo_case_id_kind_created_at"),
                      # One 未报到 to-do per new hire, however many scans see them.
                      Index("uq_case_todo_not_reported", "employee_id", unique=True,
                            sqlite_where=text("kind = 'not_reported'"), postgresql_where=text("kind = 'not_reported'")),
                      CheckConstraint("case_id IS NOT NULL OR employee_id IS NOT NULL", name="about_something"),
                      Index("ix_case_todo_done_at", "done_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("absence_case.id"), index=True)
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employee.id"))  # a to-do about no case
    kind: Mapped[str] = mapped_column(String(24))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    due_on: Mapped[date | None]  # the day it must be done by (a notice's planned dispatch date), if any
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[str | None] = mapped_column(String(100))

    case: Mapped[AbsenceCase | None] = relationship(back_populates="todos")
    employee: Mapped[Employee | None] = relationship()


# ---------------------------------------------------------------- service of documents (送达)

DISPATCH_METHODS = ("ems", "registered_mail", "courier", "in_person", "electronic")
ADDRESS_SOURCES = ("service_address", "contact_address", "household_address", "other")
TRACKING_STATUSES = ("in_transit", "delivered", "refused", "returned", "returned_to_sender")
SIGNERS = ("employee", "family_member", "other", "locker")
RETURN_REASONS = ("no_such_person", "unclear_address", "not_collected", "refused", "other")
TRACKING_SOURCES = ("page", "csv", "api", "replay", "employee")  # employee: their read receipt or reply


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(value) for value in values)})"


class Dispatch(db.Model):
    """One sending of an issued document to the employee: how, where to (and where that address came
    from), when. Its tracking events decide whether and when the document was served (`service`)."""

    __table_args__ = (CheckConstraint(_one_of("method", DISPATCH_METHODS), name="method_known"),
                      CheckConstraint(_one_of("address_source", ADDRESS_SOURCES), name="address_source_known"),
                      Index("ix_dispatch_case_id", "case_id"),
                      Index("ix_dispatch_document_id", "document_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("absence_case.id"))
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"))
    document_sha256: Mapped[str] = mapped_column(String(64))  # the PDF sent, as printed on the dispatch record
    method: Mapped[str] = mapped_column(String(16))
    tracking_no: Mapped[str | None] = mapped_column(String(60))
    dispatched_on: Mapped[date]
    addressee: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(Text)
    address_source: Mapped[str] = mapped_column(String(20))
    # The employee confirmed this address for service in writing (HR records the signed confirmation).
    confirmed_service_address: Mapped[bool] = mapped_column(default=False, server_default=false())
    confirmation_note: Mapped[str | None] = mapped_column(String(500))
    # A signature by someone else, or a parcel locker, counts only once HR confirms it.
    signature_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    signature_confirmed_by: Mapped[str | None] = mapped_column(String(100))
    signature_note: Mapped[str | None] = mapped_column(String(500))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    case: Mapped[AbsenceCase] = relationship()
    document: Mapped[Document] = relationship()
    photos: Mapped[list[DispatchPhoto]] = relationship(order_by=lambda: DispatchPhoto.id, back_populates="dispatch")
    events: Mapped[list[TrackingEvent]] = relationship(order_by=lambda: (TrackingEvent.day, TrackingEvent.id),
                                                       back_populates="dispatch")


PHOTO_ROLES = ("contents", "envelope")


class DispatchPhoto(db.Model):
    """A photo of what was sent (the notice in the envelope) or of the sealed envelope, for a dispatch."""

    __table_args__ = (CheckConstraint(_one_of("role", PHOTO_ROLES), name="role_known"),
                      Index("ix_dispatch_photo_dispatch_id", "dispatch_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    dispatch_id: Mapped[int] = mapped_column(ForeignKey("dispatch.id"))
    file_id: Mapped[int] = mapped_column(ForeignKey("stored_file.id"))
    role: Mapped[str] = mapped_column(String(10))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    dispatch: Mapped[Dispatch] = relationship(back_populates="photos")
    file: Mapped[StoredFile] = relationship()


class TrackingEvent(db.Model):
    """What the carrier (or HR, or the employee's acknowledgement) says happened to a dispatch on a day."""

    __table_args__ = (CheckConstraint(_one_of("status", TRACKING_STATUSES), name="status_known"),
                      CheckConstraint(f"signed_by IS NULL OR {_one_of('signed_by', SIGNERS)}", name="signer_known"),
                      CheckConstraint(f"reason IS NULL OR {_one_of('reason', RETURN_REASONS)}", name="reason_known"),
                      CheckConstraint(_one_of("source", TRACKING_SOURCES), name="source_known"),
                      Index("ix_tracking_event_dispatch_id", "dispatch_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    dispatch_id: Mapped[int] = mapped_column(ForeignKey("dispatch.id"))
    status: Mapped[str] = mapped_column(String(20))
    day: Mapped[date]  # the local date it happened
    signed_by: Mapped[str | None] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(8))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    dispatch: Mapped[Dispatch] = relationship(back_populates="events")


class PublicNotice(db.Model):
    """公告送达: the document published in a newspaper or the company's official channel; served 30 days
    after publication (参照 劳办发〔1995〕179号). Accepted only after a failed attempt or with HR's note
    that the whereabouts are unknown."""

    __table_args__ = (Index("ix_public_notice_case_id", "case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("absence_case.id"))
    document_id: Mapped[int] = mapped_column(ForeignKey("document.id"))
    medium: Mapped[str] = mapped_column(String(200))
    published_on: Mapped[date]
    scan_sha256: Mapped[str | None] = mapped_column(String(64))
    scan_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))  # the publication's scan
    whereabouts_unknown_note: Mapped[str | None] = mapped_column(String(1000))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    document: Mapped[Document] = relationship()
    scan: Mapped[StoredFile | None] = relationship()


UNION_RECORD_KINDS = ("notice", "opinion", "reply")
UNION_OPINIONS = ("no_objection", "objection")


class UnionRecord(db.Model):
    """One fact of the union procedure before a unilateral termination (《劳动合同法》第四十三条):
    the written notice given to the union (`notice`: when, to which union, who signed the receipt, the
    receipt's scan), the union's `opinion` (no objection, or an objection with its text), and the
    company's written `reply` to an objection. Facts only; `union.gate()` reads them."""

    __table_args__ = (CheckConstraint(_one_of("kind", UNION_RECORD_KINDS), name="kind_known"),
                      CheckConstraint(f"opinion IS NULL OR {_one_of('opinion', UNION_OPINIONS)}",
                                      name="opinion_known"),
                      Index("ix_union_record_case_id", "case_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("absence_case.id"))
    kind: Mapped[str] = mapped_column(String(8))
    at: Mapped[datetime] = mapped_column(UTCDateTime)  # when it happened (not when it was recorded)
    union_name: Mapped[str | None] = mapped_column(String(200))  # notice: the union notified
    receipt_signed_by: Mapped[str | None] = mapped_column(String(120))  # notice: who signed the receipt
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))  # the receipt's or letter's scan
    opinion: Mapped[str | None] = mapped_column(String(12))
    text: Mapped[str | None] = mapped_column(Text)  # the objection, or the company's reply
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    file: Mapped[StoredFile | None] = relationship()


class NoUnionRecord(db.Model):
    """HR's record, once for the company, that it has no labour union (with its evidence, e.g. the search of
    the union registration): the union gate then asks for the notice to the body the settings name
    (LMS_UNION_ALTERNATIVE: the employees' representatives or the regional union)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    note: Mapped[str] = mapped_column(Text)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
