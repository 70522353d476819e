"""Fixtures for service of documents: a case at its threshold and Document rows made directly
(the notice's own issuing lives elsewhere: these tests do not depend on it)."""

from __future__ import annotations

import hashlib
import io
from datetime import date, datetime

from PIL import Image, ImageDraw

from lms import clock
from lms.absence.models import AbsenceCase
from lms.documents import files
from lms.documents.models import Document, StoredFile
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


def png(label: str = "scan") -> bytes:
    """A real PNG picture (a photo or a scan as a phone would send it), different per label."""
    image = Image.new("RGB", (120, 60), "white")
    ImageDraw.Draw(image).text((8, 22), label, fill="black")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def a_scan(label: str = "newspaper page") -> StoredFile:
    """An uploaded scan kept in the database (in the test's transaction)."""
    return files.store(png(label), f"{label}.png", "test")
