"""Rule sets, immutable course versions, enrolments, progress, attestations, discussion."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms import clock
from lms.extensions import db
from lms.people.models import Employee
from lms.sqltypes import UTCDateTime

COURSE_KINDS = ("handbook", "scenario", "case")
DISCUSSED_KINDS = ("scenario", "case")


class RuleSet(db.Model):
    """One adopted version of the company rules (content/rules/<version>.yaml). Never changed."""

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[str] = mapped_column(String(40), unique=True)
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    adopted_on: Mapped[date]
    effective_from: Mapped[date]
    procedure_zh: Mapped[str] = mapped_column(Text)
    procedure_en: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    clauses: Mapped[list[RuleClause]] = relationship(back_populates="rule_set", order_by="RuleClause.position")


class RuleClause(db.Model):
    __table_args__ = (UniqueConstraint("rule_set_id", "clause_id", name="uq_rule_clause_rule_set_id_clause_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_set_id: Mapped[int] = mapped_column(ForeignKey("rule_set.id"))
    position: Mapped[int]
    clause_id: Mapped[str] = mapped_column(String(80))
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    text_zh: Mapped[str] = mapped_column(Text)
    text_en: Mapped[str] = mapped_column(Text)
    basis_zh: Mapped[str | None] = mapped_column(Text)
    basis_en: Mapped[str | None] = mapped_column(Text)
    values: Mapped[dict] = mapped_column(JSON, default=dict)

    rule_set: Mapped[RuleSet] = relationship(back_populates="clauses")


class Course(db.Model):
    """A course's identity; its content lives in its versions."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    versions: Mapped[list[CourseVersion]] = relationship(back_populates="course", order_by="CourseVersion.number")


class CourseVersion(db.Model):
    """One immutable version of a course, kept forever because certificates cite it."""

    __table_args__ = (UniqueConstraint("course_id", "number", name="uq_course_version_course_id_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    number: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    summary_zh: Mapped[str] = mapped_column(Text, default="")
    summary_en: Mapped[str] = mapped_column(Text, default="")
    audience: Mapped[list] = mapped_column(JSON, default=list)
    rule_set_id: Mapped[int | None] = mapped_column(ForeignKey("rule_set.id"))
    source_path: Mapped[str] = mapped_column(String(300))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    course: Mapped[Course] = relationship(back_populates="versions")
    rule_set: Mapped[RuleSet | None] = relationship()
    chapters: Mapped[list[Chapter]] = relationship(back_populates="course_version", order_by="Chapter.position")

    def title(self, locale: str) -> str:
        return self.title_zh if locale == "zh_CN" else self.title_en


class Chapter(db.Model):
    """A chapter of one course version, with its Markdown and the sanitised HTML shown."""

    __table_args__ = (UniqueConstraint("course_version_id", "key", name="uq_chapter_course_version_id_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    course_version_id: Mapped[int] = mapped_column(ForeignKey("course_version.id"))
    position: Mapped[int]
    key: Mapped[str] = mapped_column(String(80))
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    markdown_zh: Mapped[str] = mapped_column(Text)
    markdown_en: Mapped[str] = mapped_column(Text)
    html_zh: Mapped[str] = mapped_column(Text)
    html_en: Mapped[str] = mapped_column(Text)
    rule_ids: Mapped[list] = mapped_column(JSON, default=list)
    # Identity of the chapter's content across course versions: a new attestation is asked
    # for exactly when this changes.
    sha256: Mapped[str] = mapped_column(String(64), index=True)

    course_version: Mapped[CourseVersion] = relationship(back_populates="chapters")

    def title(self, locale: str) -> str:
        return self.title_zh if locale == "zh_CN" else self.title_en

    def html(self, locale: str) -> str:
        return self.html_zh if locale == "zh_CN" else self.html_en


class Enrollment(db.Model):
    __table_args__ = (UniqueConstraint("employee_id", "course_id", name="uq_enrollment_employee_id_course_id"),
                      Index("ix_enrollment_course_id_completed_at", "course_id", "completed_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"), index=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"))
    source: Mapped[str] = mapped_column(String(16))  # onboarding | manager | hr
    assigned_by: Mapped[str] = mapped_column(String(100))
    due_on: Mapped[date | None]
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    completed_version_id: Mapped[int | None] = mapped_column(ForeignKey("course_version.id"))

    employee: Mapped[Employee] = relationship()
    course: Mapped[Course] = relationship()


class ChapterProgress(db.Model):
    __table_args__ = (
        UniqueConstraint("enrollment_id", "chapter_key", name="uq_chapter_progress_enrollment_id_chapter_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrollment_id: Mapped[int] = mapped_column(ForeignKey("enrollment.id"))
    chapter_key: Mapped[str] = mapped_column(String(80))
    first_opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seconds_spent: Mapped[int] = mapped_column(default=0)


class Attestation(db.Model):
    """知悉确认: the employee confirmed reading a chapter version; the evidence event is the proof."""

    __table_args__ = (Index("ix_attestation_employee_id_chapter_sha256", "employee_id", "chapter_sha256"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"))
    chapter_id: Mapped[int] = mapped_column(ForeignKey("chapter.id"))
    chapter_sha256: Mapped[str] = mapped_column(String(64))
    displayed_sha256: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(8))
    ip: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))
    attested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    evidence_seq: Mapped[int]

    chapter: Mapped[Chapter] = relationship()
    employee: Mapped[Employee] = relationship()


class Post(db.Model):
    """A discussion post under a scenario or case course; HR hides, never deletes."""

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(ForeignKey("course.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("employee.id"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("post.id"))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_by: Mapped[str | None] = mapped_column(String(100))
    hidden_reason: Mapped[str | None] = mapped_column(Text)

    author: Mapped[Employee] = relationship()
