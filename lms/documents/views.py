"""Issued documents on screen: the PDF as issued, for HR and admins only (each download recorded)."""

from __future__ import annotations

import io

from flask import Blueprint, abort, send_file
from flask_login import current_user

from lms.documents import services
from lms.documents.models import Document
from lms.extensions import db
from lms.people.access import roles_required

bp = Blueprint("documents", __name__, url_prefix="/documents")


@bp.get("/<int:document_id>.pdf")
@roles_required("hr", "admin")
def pdf(document_id: int):
    """The PDF exactly as issued (its SHA-256 is on record); the download is an evidence event."""
    document = db.session.get(Document, document_id)
    if document is None:
        abort(404)
    services.record_download(document, current_user, "page")
    return send_file(io.BytesIO(document.pdf), mimetype="application/pdf", download_name=f"{document.number}.pdf")
