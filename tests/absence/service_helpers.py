"""Fixtures for service of documents: a case at its threshold and Document rows made directly
(the notice's own issuing lives elsewhere: these tests do not depend on it)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

from lms import clock
from lms.absence.models import AbsenceCase
from lms.documents.models import Document
from lms.extensions import db

_numbers = iter(range(1, 1_000_000))


def make_document(case: AbsenceCase, issued: date, *, stated_deadline: date | None = None,
                  replaces: Document | None = None) -> Document:
    pdf = b"%PDF-1.4 dummy notice " + str(issued).encode() + str(next(_numbers)).encode()
    document = Document(kind="return_to_work", number=f"RTW-{issued.year}-{next(_numbers):06d}",
                        employee_id=case.employee_id, case_id=case.id, template_slug="return_to_work",
                        template_version=1, template_sha256="0" * 64, locale="zh_CN", facts={}, text="限期返岗通知书",
                        stated_deadline=stated_deadline, pdf=pdf, sha256=hashlib.sha256(pdf).hexdigest(),
                        issued_at=clock.as_utc(datetime.combine(issued, datetime.min.time()).replace(hour=10)),
                        issued_by="test", replaces_id=replaces.id if replaces else None)
    db.session.add(document)
    db.session.commit()
    return document


def at(day: date, hour: int = 18):
    """The clock on a day (events are recorded the evening they happen)."""
    return clock.frozen(datetime.combine(day, datetime.min.time()).replace(hour=hour))
