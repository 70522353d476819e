"""Question bank versions, exam versions and attempts."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, Numeric, String, Text, UniqueConstraint
from sqlalchemy.ext.associationproxy import association_proxy
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms import clock
from lms.extensions import db
from lms.people.models import Employee
from lms.sqltypes import UTCDateTime


class QuestionBank(db.Model):
    """One immutable version of a bank file (content/exams/banks/<bank>.yaml)."""

    __table_args__ = (UniqueConstraint("slug", "number", name="uq_question_bank_slug_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80))
    number: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    rules_version: Mapped[str] = mapped_column(String(40))
    # Validated question dicts, as in the file. Deferred: grading and certificates need only the
    # hash and rules version, and a start reads the parsed questions from a per-process cache.
    questions: Mapped[list] = mapped_column(JSON, deferred=True)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)


class ExamVersion(db.Model):
    """One immutable version of an exam definition (content/exams/<exam>.yaml)."""

    __table_args__ = (UniqueConstraint("slug", "number", name="uq_exam_version_slug_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), index=True)
    number: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    course_slug: Mapped[str] = mapped_column(String(80))
    bank_id: Mapped[int] = mapped_column(ForeignKey("question_bank.id"))
    draw: Mapped[dict] = mapped_column(JSON)  # clause id → questions drawn
    time_limit_minutes: Mapped[int]
    max_attempts: Mapped[int]
    pass_mark: Mapped[int]
    partial_credit: Mapped[bool]
    is_onboarding: Mapped[bool]
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    bank: Mapped[QuestionBank] = relationship()

    def title(self, locale: str) -> str:
        return self.title_zh if locale == "zh_CN" else self.title_en


class ExamAttempt(db.Model):
    """One sitting: the questions drawn and shuffled for it (frozen), answers as saved, the result."""

    __table_args__ = (
        UniqueConstraint("employee_id", "exam_slug", "number", name="uq_exam_attempt_employee_id_exam_slug_number"),
        Index("ix_exam_attempt_exam_slug_submitted_at", "exam_slug", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), index=True)
    exam_slug: Mapped[str] = mapped_column(String(80))
    exam_version_id: Mapped[int] = mapped_column(ForeignKey("exam_version.id"))
    number: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    slots: Mapped[list] = mapped_column(JSON)  # the answer slots, e.g. ["1", "2", "3.p1", "3.p2"]
    answers: Mapped[dict] = mapped_column(JSON, default=dict)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    is_late: Mapped[bool] = mapped_column(default=False)
    score: Mapped[Decimal | None] = mapped_column(Numeric(5, 1))
    is_passed: Mapped[bool | None]
    results: Mapped[dict | None] = mapped_column(JSON)  # per question: earned, possible, correct
    evidence_seq: Mapped[int | None]

    employee: Mapped[Employee] = relationship()
    exam_version: Mapped[ExamVersion] = relationship()
    stored_paper: Mapped[ExamPaper] = relationship(cascade="all, delete-orphan")
    # The draw, with the answer key (read only on the server, never rendered before submission):
    # `attempt.paper` reads and sets the questions of the attempt's ExamPaper row.
    paper = association_proxy("stored_paper", "questions", creator=lambda questions: ExamPaper(questions=questions))


class ExamPaper(db.Model):
    """The questions drawn for one attempt, shuffled, with the key: written when it starts, never changed.

    Its own table, not a column of the attempt: every autosave rewrites the attempt's row, and SQLite
    rewrites a row whole, so a 60 KB bilingual paper in it made each save write 17 pages instead of one.
    """

    attempt_id: Mapped[int] = mapped_column(ForeignKey("exam_attempt.id"), primary_key=True)
    questions: Mapped[list] = mapped_column(JSON)


class Certificate(db.Model):
    """《培训合格证明》: issued once per passed attempt; kept with its PDF; revoked, never deleted."""

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(40), unique=True)
    verification_code: Mapped[str] = mapped_column(String(24), unique=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), index=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("exam_attempt.id"), unique=True)
    exam_slug: Mapped[str] = mapped_column(String(80))
    exam_title_zh: Mapped[str] = mapped_column(String(200))
    exam_title_en: Mapped[str] = mapped_column(String(200))
    course_versions: Mapped[list] = mapped_column(JSON)  # [{slug, number, sha256, title_zh, title_en}]
    clauses: Mapped[list] = mapped_column(JSON)  # [{id, title_zh, title_en}] and the rules version
    rules_version: Mapped[str | None] = mapped_column(String(40))
    score: Mapped[Decimal] = mapped_column(Numeric(5, 1))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    pdf_sha256: Mapped[str] = mapped_column(String(64))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(100))
    revoked_reason: Mapped[str | None] = mapped_column(String(500))

    employee: Mapped[Employee] = relationship()
    attempt: Mapped[ExamAttempt] = relationship()


class CoachingTask(db.Model):
    """线下辅导: after a failed attempt the direct manager coaches the employee before the make-up."""

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("exam_attempt.id"), unique=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), index=True)
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("employee.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # After this the make-up unlocks anyway and the open task goes to HR.
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    coached_on: Mapped[date | None]
    notes: Mapped[str | None] = mapped_column(Text)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_by: Mapped[str | None] = mapped_column(String(100))
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    attempt: Mapped[ExamAttempt] = relationship()
    employee: Mapped[Employee] = relationship(foreign_keys=[employee_id])
    manager: Mapped[Employee | None] = relationship(foreign_keys=[manager_id])
