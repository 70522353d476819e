"""Uploaded files kept as evidence: photos of what was sent, scans of a publication or a signed receipt.

`store()` checks what the bytes are (their signature, not the name or the browser's word), keeps them
with their SHA-256, and never changes or deletes them. The fact a file supports (a dispatch, a public
notice) records the hash in its own evidence event; this module records nothing by itself.
"""

from __future__ import annotations

import hashlib

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import event

from lms import clock, evidence
from lms.documents.models import StoredFile
from lms.extensions import db

# The first bytes of each kind we accept.
SIGNATURES = ((b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG\r\n\x1a\n", "image/png"), (b"%PDF-", "application/pdf"))


class FileRefused(ValueError):
    """An upload that cannot be kept; the message says why."""


@event.listens_for(StoredFile, "before_update")
def _refuse_update(_mapper, _connection, target) -> None:
    raise FileRefused(f"stored file {target.id} is evidence and never changes")


def content_type_of(data: bytes) -> str | None:
    return next((kind for signature, kind in SIGNATURES if data.startswith(signature)), None)


def store(data: bytes, filename: str, actor, what: str | None = None) -> StoredFile:
    """Keep an uploaded JPEG, PNG or PDF (in the caller's transaction); FileRefused names the problem.
    `what` names the file in messages ("the envelope photo")."""
    what = what or _l("the file")
    if not data:
        raise FileRefused(_l("%(what)s is empty.", what=what))
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if limit and len(data) > limit:
        raise FileRefused(_l("%(what)s is larger than %(mb)s MB.", what=what, mb=limit // (1024 * 1024)))
    content_type = content_type_of(data)
    if content_type is None:
        raise FileRefused(_l("%(what)s is not a JPEG, PNG or PDF file.", what=what))
    stored = StoredFile(sha256=hashlib.sha256(data).hexdigest(), filename=(filename or "upload")[-200:],
                        content_type=content_type, size=len(data), data=data, uploaded_by=evidence.actor_of(actor),
                        uploaded_at=clock.now())
    db.session.add(stored)
    db.session.flush()
    return stored


def described(stored: StoredFile) -> dict:
    """How a fact's evidence event names the file it rests on."""
    return {"file": stored.id, "filename": stored.filename, "content_type": stored.content_type,
            "size": stored.size, "sha256": stored.sha256}
