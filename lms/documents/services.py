"""Documents: template versions from content/, numbering, issuing (render, hash, evidence), reading.

`issue()` is the only writer of `Document` and only inserts: an issued document never changes
(the ORM refuses an update, and so does a database trigger). A correction is a new document whose
`replaces_id` names the one it corrects.
"""

from __future__ import annotations

import hashlib
from datetime import date
from functools import lru_cache

from flask import current_app
from sqlalchemy import event, select, update
from sqlalchemy.exc import IntegrityError

from lms import clock, evidence
from lms.documents.content import ParsedTemplate, cn_date, environment
from lms.documents.models import NUMBER_PREFIXES, Document, DocumentCounter, DocumentTemplate
from lms.documents.render import render_notice
from lms.extensions import db

# The template each kind is rendered from (a folder under content/documents/).
TEMPLATE_SLUGS = {"return_to_work": "return-to-work"}


class DocumentError(ValueError):
    """A document that cannot be issued as asked; the message says why."""


class TemplateMissing(DocumentError):
    """No version of the kind's template has been synced (`flask content sync`)."""


@event.listens_for(Document, "before_update")
def _refuse_update(_mapper, _connection, target) -> None:
    raise DocumentError(f"document {target.number} was issued and never changes; issue a correction instead")


# ---------------------------------------------------------------- templates


def save_templates(parsed: list[ParsedTemplate], actor=None) -> list[str]:
    """A new immutable version of each template whose content changed (in the sync's transaction)."""
    lines = []
    for template in parsed:
        latest = db.session.scalars(select(DocumentTemplate).where(DocumentTemplate.slug == template.slug)
                                    .order_by(DocumentTemplate.number.desc()).limit(1)).first()
        if latest and latest.sha256 == template.sha256:
            lines.append(f"document {template.slug}: unchanged (version {latest.number})")
            continue
        version = DocumentTemplate(
            slug=template.slug, kind=template.kind, number=(latest.number + 1) if latest else 1,
            sha256=template.sha256, title_zh=template.title["zh"], title_en=template.title["en"],
            body_zh=template.body["zh"], body_en=template.body["en"], source_path=template.path,
            loaded_at=clock.now())
        db.session.add(version)
        db.session.flush()
        evidence.record("documents.template_loaded", f"document_template:{template.slug}", {
            "slug": template.slug, "kind": template.kind, "version": version.number, "sha256": template.sha256},
            actor=actor)
        lines.append(f"document {template.slug}: new version {version.number} (sha256 {template.sha256[:12]})")
    return lines


def current_template(kind: str) -> DocumentTemplate:
    """The newest version of the kind's template; TemplateMissing if none was synced."""
    slug = TEMPLATE_SLUGS.get(kind, kind.replace("_", "-"))
    template = db.session.scalars(select(DocumentTemplate).where(DocumentTemplate.slug == slug)
                                  .order_by(DocumentTemplate.number.desc()).limit(1)).first()
    if template is None:
        raise TemplateMissing(f"no template content/documents/{slug}/ has been synced (flask content sync)")
    return template


@lru_cache(maxsize=64)
def _compiled(sha256: str, lang: str, body: str):
    """A template version's body compiled once per process (a version never changes: its SHA-256 names it)."""
    return environment().from_string(body)


def render_text(template: DocumentTemplate, facts: dict, locale: str) -> tuple[str, str]:
    """(title, Markdown body) of the template in `locale` with the facts."""
    lang = "zh" if locale.startswith("zh") else "en"
    compiled = _compiled(template.sha256, lang, getattr(template, f"body_{lang}"))
    return getattr(template, f"title_{lang}"), compiled.render(**facts).strip() + "\n"


def preview(kind: str, facts: dict, locale: str = "zh_CN") -> tuple[str, str]:
    """(title, Markdown text) the kind's current template would state with `facts`, before any number is
    given: the draft HR reads before issuing."""
    template = current_template(kind)
    return render_text(template, {**facts, "number": None, "company": current_app.config["LMS_COMPANY_NAME"],
                                  "issued_on": clock.today().isoformat(), "replaces": None}, locale)


# ---------------------------------------------------------------- numbers


def next_number(kind: str, year: int) -> str:
    """RTW-2026-000001: per kind prefix and year, without gaps — the counter row is raised by an
    UPDATE (which locks it on every database) that returns the raised value, so concurrent issues queue
    there."""
    prefix = NUMBER_PREFIXES[kind]
    condition = (DocumentCounter.prefix == prefix) & (DocumentCounter.year == year)
    raise_it = (update(DocumentCounter).where(condition).values(last=DocumentCounter.last + 1)
                .returning(DocumentCounter.last).execution_options(synchronize_session=False))
    last = db.session.scalar(raise_it)  # the raised value, from the same statement
    if last is None:
        try:
            with db.session.begin_nested():
                db.session.add(DocumentCounter(prefix=prefix, year=year, last=1))
            last = 1
        except IntegrityError:  # another issue created the row first: raise it as usual
            last = db.session.scalar(raise_it)
    return f"{prefix}-{year}-{last:06d}"


# ---------------------------------------------------------------- issuing


def issue(kind: str, employee, case, facts: dict, actor, replaces: Document | None = None, locale: str = "zh_CN",
          stated_deadline: date | None = None) -> Document:
    """Render the kind's current template with `facts`, make the PDF, number and hash it, record
    `documents.issued`; in the caller's transaction (nothing is committed here)."""
    if replaces is not None:
        if replaces.kind != kind or replaces.employee_id != employee.id:
            raise DocumentError(f"{replaces.number} is not a {kind} document of this employee")
        if db.session.scalar(select(Document.id).where(Document.replaces_id == replaces.id)) is not None:
            raise DocumentError(f"{replaces.number} has already been corrected; correct the newest document")
    template = current_template(kind)
    now = clock.now()
    issued_on = clock.local(now).date()
    number = next_number(kind, issued_on.year)
    company = current_app.config["LMS_COMPANY_NAME"]
    facts = {**facts, "number": number, "company": company, "issued_on": issued_on.isoformat(),
             "replaces": replaces.number if replaces else None}
    title, text = render_text(template, facts, locale)
    pdf = render_notice(title=title, body_markdown=text, company=company, number=number,
                        issued_on=cn_date(issued_on.isoformat()) if locale.startswith("zh") else issued_on.isoformat())
    sha256 = hashlib.sha256(pdf).hexdigest()
    document = Document(kind=kind, number=number, employee_id=employee.id, case_id=case.id if case else None,
                        template_slug=template.slug, template_version=template.number,
                        template_sha256=template.sha256, locale=locale, facts=facts, text=text,
                        stated_deadline=stated_deadline, pdf=pdf, sha256=sha256, issued_at=now,
                        issued_by=evidence.actor_of(actor), replaces_id=replaces.id if replaces else None)
    db.session.add(document)
    db.session.flush()
    subject = evidence.subject_of("case", case.id) if case else evidence.subject_of("employee", employee.id)
    evidence.record("documents.issued", subject, {
        "document_id": document.id, "number": number, "kind": kind, "sha256": sha256,
        "employee": employee.employee_no, "case": case.id if case else None,
        "template": {"slug": template.slug, "version": template.number, "sha256": template.sha256},
        "stated_deadline": stated_deadline, "replaces": replaces.number if replaces else None}, actor=actor)
    return document


# ---------------------------------------------------------------- reading


def documents_of_case(case_id: int) -> list[Document]:
    return list(db.session.scalars(select(Document).where(Document.case_id == case_id).order_by(Document.id)))


def replaced_by(document: Document) -> Document | None:
    return db.session.scalars(select(Document).where(Document.replaces_id == document.id)).first()


def pack_documents(subject: str) -> list:
    """The PDFs of a case's documents for its evidence pack (`case:12` → documents/RTW-2026-000001.pdf)."""
    from lms.evidence.pack import PackDocument

    kind, _sep, identifier = subject.partition(":")
    if kind != "case" or not identifier.isdigit():
        return []
    return [PackDocument(f"documents/{d.number}.pdf", d.pdf, f"{d.number} ({d.kind})")
            for d in documents_of_case(int(identifier))]


def _register_pack_source() -> None:
    from lms.evidence.pack import DOCUMENT_SOURCES

    if pack_documents not in DOCUMENT_SOURCES:
        DOCUMENT_SOURCES.append(pack_documents)


_register_pack_source()


def record_download(document: Document, actor, channel: str) -> None:
    """HR downloaded the PDF: who, when, through which door (the page or the API)."""
    subject = (evidence.subject_of("case", document.case_id) if document.case_id
               else evidence.subject_of("employee", document.employee_id))
    evidence.record("documents.downloaded", subject, {"number": document.number, "sha256": document.sha256,
                                                      "via": channel}, actor=actor)
    db.session.commit()
