"""An issued document never changes; a correction is a new document naming the one it replaces."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from lms.absence import notices
from lms.documents.models import Document
from lms.documents.services import DocumentError
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db
from tests.documents.conftest import at, pdf_text


def _issue(case, org, **kwargs) -> Document:
    with at(datetime(2026, 6, 18, 10, 0)):
        return notices.issue_return_notice(case, org.users["hr"], dispatch_on=date(2026, 6, 19), **kwargs)


def test_an_issued_document_refuses_changes(seed_case, org):
    document = _issue(seed_case, org)
    document.text = "改过的内容"
    with pytest.raises(DocumentError):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(DatabaseError):  # the database refuses it too, whatever the application does
        db.session.execute(text("UPDATE document SET sha256 = 'x' WHERE id = :id"), {"id": document.id})
    db.session.rollback()


def test_a_correction_is_a_new_document_that_names_the_first(seed_case, org):
    first = _issue(seed_case, org)
    second = _issue(seed_case, org, deadline=date(2026, 6, 30), replaces=first)
    assert second.id != first.id and second.replaces_id == first.id and second.number == "RTW-2026-000002"
    assert second.stated_deadline == date(2026, 6, 30)
    assert f"取代编号为 {first.number}" in pdf_text(second.pdf).replace("\n", "")
    assert db.session.get(Document, first.id).stated_deadline == date(2026, 6, 25)  # unchanged
    events = db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "documents.issued")
                                .order_by(EvidenceEvent.seq)).all()
    assert [e.payload["replaces"] for e in events] == [None, first.number]
    with pytest.raises(notices.NoticeRefused):  # the first one has been corrected already
        _issue(seed_case, org, replaces=first)
