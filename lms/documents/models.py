"""Issued documents (notices): immutable once issued; a correction is a new document naming the one it replaces."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.people.models import Employee
from lms.sqltypes import UTCDateTime

DOCUMENT_KINDS = ("return_to_work", "termination", "union_notice", "termination_certificate")
# The number's prefix per kind: RTW-2026-000001 (counted per kind and year).
NUMBER_PREFIXES = {"return_to_work": "RTW", "termination": "TRM", "union_notice": "UNN",
                   "termination_certificate": "TRC"}


class Document(db.Model):
    """One issued document: what it says (its facts, its text), its PDF and that PDF's SHA-256.

    Never changed after issue: `lms.documents.services` is the only writer and only inserts, and the
    issue's evidence event carries the PDF's SHA-256, so a change would show. A correction is a new
    document whose `replaces_id` names this one.
    """

    __table_args__ = (CheckConstraint("kind IN ('return_to_work', 'termination', 'union_notice', "
                                      "'termination_certificate')", name="kind_known"),
                      Index("ix_document_case_id", "case_id"),
                      Index("ix_document_employee_id", "employee_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    number: Mapped[str] = mapped_column(String(40), unique=True)  # RTW-2026-000001
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("absence_case.id"))
    template_slug: Mapped[str] = mapped_column(String(80))
    template_version: Mapped[int]
    template_sha256: Mapped[str] = mapped_column(String(64))
    locale: Mapped[str] = mapped_column(String(10))  # the language of the text (zh_CN primary)
    facts: Mapped[dict] = mapped_column(JSON)  # everything the text states, as data (dates ISO)
    text: Mapped[str] = mapped_column(Text)  # the rendered text (Markdown) the PDF shows
    stated_deadline: Mapped[date | None]  # the deadline the notice states (a return-to-work notice)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))  # of the PDF
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    issued_by: Mapped[str] = mapped_column(String(100))
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))

    employee: Mapped[Employee] = relationship()
    replaces: Mapped[Document | None] = relationship(remote_side=[id])


class DocumentTemplate(db.Model):
    """One immutable version of a document template from content/documents/<slug>/ (zh.md, en.md).

    Synced like courses (`flask content sync`): a changed file makes a new version with its SHA-256;
    old versions are kept because issued documents name the version they were rendered from.
    """

    __table_args__ = (UniqueConstraint("slug", "number", name="uq_document_template_slug_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(30))
    number: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64))
    title_zh: Mapped[str] = mapped_column(String(200))
    title_en: Mapped[str] = mapped_column(String(200))
    body_zh: Mapped[str] = mapped_column(Text)  # Jinja + Markdown, front matter removed
    body_en: Mapped[str] = mapped_column(Text)
    source_path: Mapped[str] = mapped_column(String(300))
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DocumentCounter(db.Model):
    """The last number given per kind prefix and year (RTW-2026-…): read and raised under a row lock,
    so two issues at once never share a number and none is skipped."""

    prefix: Mapped[str] = mapped_column(String(8), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last: Mapped[int] = mapped_column(default=0)


STORED_FILE_TYPES = ("image/jpeg", "image/png", "application/pdf")


class StoredFile(db.Model):
    """An uploaded file kept as evidence (a photo of an envelope, the scan of a newspaper page, a signed
    receipt): its bytes, their SHA-256 and where it came from. Never changed or deleted; the fact it
    supports (a dispatch, a public notice) carries its hash in that fact's evidence event."""

    __table_args__ = (CheckConstraint("content_type IN ('image/jpeg', 'image/png', 'application/pdf')",
                                      name="type_known"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int]
    data: Mapped[bytes] = mapped_column(LargeBinary)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
