"""Document templates sync with the content: a changed file is a new immutable version, with its SHA-256."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from lms.absence import notices
from lms.courses.content import ContentError
from lms.documents.models import DocumentTemplate
from lms.extensions import db
from tests.absence.conftest import switch_on
from tests.documents.conftest import at, pdf_text, reach_threshold


def _versions(slug: str = "return-to-work"):
    return db.session.scalars(select(DocumentTemplate).where(DocumentTemplate.slug == slug)
                              .order_by(DocumentTemplate.number)).all()


def test_a_changed_template_is_a_new_version_and_the_old_one_is_kept(app, org, content):
    switch_on(content)
    [first] = _versions()
    assert first.slug == "return-to-work" and first.kind == "return_to_work" and len(first.sha256) == 64
    content.sync()
    assert len(_versions()) == 1  # unchanged: no new version
    zh = content.root / "documents" / "return-to-work" / "zh.md"
    zh.write_text(zh.read_text(encoding="utf-8").replace("特此通知。", "特此通知，请予配合。"), encoding="utf-8")
    content.sync()
    old, new = _versions()
    assert (old.number, new.number) == (1, 2) and old.sha256 != new.sha256 and "请予配合" not in old.body_zh
    case = reach_threshold(org)
    with at(datetime(2026, 6, 18, 10, 0)):
        document = notices.issue_return_notice(case, org.users["hr"], dispatch_on=date(2026, 6, 19))
    assert document.template_version == 2 and document.template_sha256 == new.sha256
    assert "请予配合" in pdf_text(document.pdf)


def test_a_broken_template_is_refused_with_its_line_and_nothing_is_saved(app, content):
    content.write("documents/return-to-work/en.md", "---\nkind: return_to_work\ntitle: Notice\n---\n{% if %}\n")
    with pytest.raises(ContentError) as refused:
        content.sync()
    assert "documents/return-to-work/en.md:5" in str(refused.value)
    assert _versions() == []


def test_the_english_version_renders_the_same_facts(app, org, content):
    from lms.documents import services

    switch_on(content)
    case = reach_threshold(org)
    with at(datetime(2026, 6, 18, 10, 0)):
        facts = notices.draft(case, org.users["hr"], dispatch_on=date(2026, 6, 19)).facts
    template = services.current_template("return_to_work")
    title, text = services.render_text(template, {**facts, "company": "Example Ltd", "number": "RTW-2026-000009",
                                                  "issued_on": "2026-06-18", "replaces": None}, "en")
    assert title == "Notice to Return to Work by a Deadline"
    assert "Return to work by 2026-06-25" in text and "2026-06-15" in text and "Article 39(2)" in text
    assert "automatically" not in text
