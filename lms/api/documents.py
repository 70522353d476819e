"""/api/v1: issuing a case's notice, and issued documents with their PDFs (tokens with role hr or admin)."""

from __future__ import annotations

import io

from flask import abort, g, request, send_file
from flask.views import MethodView
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate

from lms import clock
from lms.absence import cases, notices
from lms.absence.models import AbsenceCase
from lms.api import Blueprint
from lms.api.auth import token_required
from lms.api.employees import ErrorResponse
from lms.documents import files, services
from lms.documents.models import Document
from lms.extensions import db
from lms.ui import api_error

blp = Blueprint("api_documents", __name__, url_prefix="/api/v1",
                description="Notices and other issued documents (SPEC §4). Tokens with role hr or admin.")


class NoticeIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(["return_to_work"]))
    dispatch_on = fields.Date(load_default=None, metadata={
        "description": "The planned dispatch date the deadline is computed from (default: the next working day)."})
    deadline = fields.Date(load_default=None, metadata={
        "description": "A later deadline than the rules' earliest (dispatch + postal allowance + return period, "
                       "moved to a working day); an earlier one is refused with 422."})
    replaces = fields.Integer(load_default=None, metadata={"description": "The id of the document this corrects."})


class DocumentOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    number = fields.String(metadata={"example": "RTW-2026-000001"})
    state = fields.String(metadata={"description": "Always issued: an issued document never changes."})
    employee = fields.String(metadata={"description": "The employee's number."})
    case_id = fields.Integer(allow_none=True)
    sha256 = fields.String(metadata={"description": "SHA-256 of the PDF as issued."})
    pdf_url = fields.String()
    stated_deadline = fields.String(allow_none=True, metadata={"description": "YYYY-MM-DD"})
    issued_at = fields.String(metadata={"description": "ISO-8601 with the company's offset."})
    template = fields.Dict(metadata={"description": "slug, version and sha256 of the template version used."})
    replaces = fields.Integer(allow_none=True, metadata={"description": "The id of the document this corrects."})
    replaced_by = fields.Integer(allow_none=True)


def document_out(document: Document) -> dict:
    """The document as the API shows it (the case detail's `documents` too)."""
    newer = services.replaced_by(document)
    return {"id": document.id, "kind": document.kind, "number": document.number, "state": "issued",
            "employee": document.employee.employee_no, "case_id": document.case_id, "sha256": document.sha256,
            "pdf_url": f"/api/v1/documents/{document.id}.pdf",
            "stated_deadline": document.stated_deadline.isoformat() if document.stated_deadline else None,
            "issued_at": document.issued_at.astimezone(clock.zone()).isoformat(),
            "template": {"slug": document.template_slug, "version": document.template_version,
                         "sha256": document.template_sha256},
            "replaces": document.replaces_id, "replaced_by": newer.id if newer else None}


def _document_or_404(document_id: int) -> Document:
    document = db.session.get(Document, document_id)
    if document is None:
        abort(404, _("No document %(id)s.", id=document_id))
    return document


@blp.route("/absence/cases/<int:case_id>/notices")
class Notices(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.arguments(NoticeIn())
    @blp.response(201, DocumentOut)
    @blp.alt_response(404, schema=ErrorResponse)
    @blp.alt_response(409, schema=ErrorResponse, description="A precondition fails (the threshold does not hold, a "
                                                             "reply awaits HR, a day without rules); the reason.")
    @blp.alt_response(422, schema=ErrorResponse, description="A deadline earlier than the rules allow, a dispatch "
                                                             "date in the past.")
    def post(self, data: dict, case_id: int):
        """Issue the case's return-to-work notice (限期返岗通知书) as its draft states it."""
        case = db.session.get(AbsenceCase, case_id)
        if case is None:
            return api_error(404, _("No absence case %(id)s.", id=case_id))
        replaces = None
        if data["replaces"] is not None:
            replaces = db.session.get(Document, data["replaces"])
            if replaces is None:
                return api_error(422, _("No document %(id)s.", id=data["replaces"]), field="replaces")
        try:
            document = notices.issue_return_notice(case, g.api_token, dispatch_on=data["dispatch_on"],
                                                   deadline=data["deadline"], replaces=replaces)
        except notices.DeadlineTooEarly as exc:
            db.session.rollback()
            return api_error(422, str(exc), field="deadline")
        except cases.CaseError as exc:
            db.session.rollback()
            return api_error(409, str(exc))
        return document_out(document)


@blp.route("/documents/<int:document_id>")
class DocumentDetail(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.response(200, DocumentOut)
    @blp.alt_response(404, schema=ErrorResponse)
    def get(self, document_id: int):
        """One issued document: number, hash, the template version, the deadline it states."""
        return document_out(_document_or_404(document_id))


@blp.route("/documents/<int:document_id>.pdf")
class DocumentPdf(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.doc(responses={"200": {"description": "The PDF as issued.",
                                "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}})
    @blp.alt_response(404, schema=ErrorResponse)
    def get(self, document_id: int):
        """The PDF exactly as issued; the download is recorded as evidence."""
        document = _document_or_404(document_id)
        services.record_download(document, g.api_token, "api")
        return send_file(io.BytesIO(document.pdf), mimetype="application/pdf", download_name=f"{document.number}.pdf")


class StoredFileOut(Schema):
    id = fields.Integer()
    sha256 = fields.String()
    filename = fields.String()
    content_type = fields.String(metadata={"description": "image/jpeg, image/png or application/pdf"})
    size = fields.Integer()


@blp.route("/files")
class Files(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.response(201, StoredFileOut)
    @blp.alt_response(422, schema=ErrorResponse, description="No file, an empty one, or not a JPEG, PNG or PDF.")
    def post(self):
        """Upload a photo or scan (multipart/form-data, field `file`) to cite in a fact: a dispatch's photos
        (`photos`), a public notice's scan (`scan_file_id`). Kept with its SHA-256, never changed."""
        upload = request.files.get("file")
        if upload is None:
            return api_error(422, _("Send the file as multipart/form-data in the field “file”."), field="file")
        try:
            stored = files.store(upload.read(), upload.filename, g.api_token)
        except files.FileRefused as exc:
            return api_error(422, str(exc), field="file")
        db.session.commit()
        return stored
