"""Campaigns, their target rules, each person's assignment and the reminders sent for it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms import clock
from lms.extensions import db
from lms.people.models import Employee
from lms.sqltypes import UTCDateTime

CAMPAIGN_KINDS = ("refresher", "annual")
CAMPAIGN_STATES = ("draft", "running")
ASSIGNMENT_SOURCES = ("campaign", "manager", "hr")
REMINDER_STEPS = ("before", "due", "manager", "hr")


class Campaign(db.Model):
    """A campaign: who gets which course and exam (its rules, in HR's order), from when, by when."""

    __table_args__ = (
        CheckConstraint("kind IN ('refresher', 'annual')", name="kind_known"),
        CheckConstraint("state IN ('draft', 'running')", name="state_known"),
        # A template launches once per period (2026Q4): a second tick, or a second worker, finds it.
        UniqueConstraint("template_slug", "period", name="uq_campaign_template_slug_period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default="draft")
    template_slug: Mapped[str | None] = mapped_column(String(80))
    period: Mapped[str | None] = mapped_column(String(8))  # 2026Q4 or 2026
    launch_on: Mapped[date]
    due_on: Mapped[date]
    min_window_days: Mapped[int] = mapped_column(default=30)  # a late joiner gets at least this long
    remind_days_before: Mapped[int] = mapped_column(default=3)
    grace_days: Mapped[int] = mapped_column(default=5)  # overdue this many days: HR is told
    retest_extra: Mapped[int] = mapped_column(default=1)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    launched_by: Mapped[str | None] = mapped_column(String(100))
    assignments_sha256: Mapped[str | None] = mapped_column(String(64))  # the list as launched
    evidence_seq: Mapped[int | None]

    rules: Mapped[list[CampaignRule]] = relationship(back_populates="campaign", order_by="CampaignRule.position",
                                                     cascade="all, delete-orphan")


class CampaignRule(db.Model):
    """One target rule: any of job family, department, position, tenure band → a course and an exam."""

    __table_args__ = (UniqueConstraint("campaign_id", "position", name="uq_campaign_rule_campaign_id_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    position: Mapped[int]  # 1, 2, …: HR's order; the first match wins
    job_family: Mapped[str | None] = mapped_column(String(32))
    department: Mapped[str | None] = mapped_column(String(120))
    job_position: Mapped[str | None] = mapped_column(String(80))
    tenure_months_min: Mapped[int | None]
    tenure_months_max: Mapped[int | None]
    course_slug: Mapped[str] = mapped_column(String(80))
    exam_slug: Mapped[str] = mapped_column(String(80))

    campaign: Mapped[Campaign] = relationship(back_populates="rules")


class Assignment(db.Model):
    """One person's refresher: a course and an exam by a due date, from a campaign or a manager.

    Never overwritten: every cycle is its own row; completion is the passed attempt that ended it.
    """

    __tablename__ = "refresher_assignment"
    __table_args__ = (
        CheckConstraint("source IN ('campaign', 'manager', 'hr')", name="source_known"),
        UniqueConstraint("campaign_id", "employee_id", name="uq_refresher_assignment_campaign_id_employee_id"),
        Index("ix_refresher_assignment_employee_id_exam_slug", "employee_id", "exam_slug"),
        Index("ix_refresher_assignment_open_due_on", "completed_at", "due_on"),
        # The reminder pass reads only assignments whose next step has come (lms.campaigns.reminders).
        Index("ix_refresher_assignment_next_reminder_on", "next_reminder_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"))
    rule_position: Mapped[int | None]
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"))
    source: Mapped[str] = mapped_column(String(16))
    course_slug: Mapped[str] = mapped_column(String(80))
    exam_slug: Mapped[str] = mapped_column(String(80))
    due_on: Mapped[date]
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    assigned_by: Mapped[str] = mapped_column(String(100))
    remind_days_before: Mapped[int] = mapped_column(default=3)
    grace_days: Mapped[int] = mapped_column(default=5)
    retest_extra: Mapped[int] = mapped_column(default=1)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_attempt_id: Mapped[int | None] = mapped_column(ForeignKey("exam_attempt.id"))
    # The earliest day a step still pending may go out; NULL once every step is sent or stopped.
    next_reminder_on: Mapped[date | None]

    employee: Mapped[Employee] = relationship()
    campaign: Mapped[Campaign | None] = relationship()

    def status(self, today: date) -> str:
        if self.completed_at is not None:
            return "completed"
        return "overdue" if today > self.due_on else "assigned"


class Reminder(db.Model):
    """A reminder or escalation sent for an assignment: once per (assignment, step, recipient)."""

    __tablename__ = "refresher_reminder"
    __table_args__ = (
        CheckConstraint("step IN ('before', 'due', 'manager', 'hr')", name="step_known"),
        UniqueConstraint("assignment_id", "step", "recipient_id",
                         name="uq_refresher_reminder_assignment_id_step_recipient_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("refresher_assignment.id"), index=True)
    step: Mapped[str] = mapped_column(String(16))
    recipient_id: Mapped[int] = mapped_column(ForeignKey("employee.id"))
    recipient_role: Mapped[str] = mapped_column(String(16))  # employee | manager | hr
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
