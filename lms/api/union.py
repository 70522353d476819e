"""/api/v1: the union procedure before a termination (《劳动合同法》第四十三条) — the notice given to the
union, its opinion, the company's reply; the case detail shows them as `union` with the gate.

Times are ISO 8601 (without an offset: company time). Tokens with role hr or admin.
"""

from __future__ import annotations

from flask import abort, current_app, g
from flask.views import MethodView
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate

from lms.absence import union
from lms.absence.models import UNION_OPINIONS, AbsenceCase
from lms.api import Blueprint
from lms.api.absence import LocalDateTime, case_or_404
from lms.api.auth import token_required
from lms.api.documents import DocumentOut, document_out
from lms.api.employees import ErrorResponse
from lms.documents.models import StoredFile
from lms.extensions import db
from lms.ui import api_error

blp = Blueprint("api_union", __name__, url_prefix="/api/v1",
                description="The union procedure before a termination (《劳动合同法》第四十三条). Tokens with role hr "
                            "or admin.")


class UnionNoticeIn(Schema):
    notified_at = LocalDateTime(required=True)
    union = fields.String(required=True, validate=validate.Length(min=1, max=200))
    receipt_signed_by = fields.String(required=True, validate=validate.Length(min=1, max=120))
    receipt_file_id = fields.Integer(load_default=None, metadata={
        "description": "The signed receipt's scan, uploaded first with POST /api/v1/files."})


class UnionOpinionIn(Schema):
    at = LocalDateTime(required=True)
    opinion = fields.String(required=True, validate=validate.OneOf(UNION_OPINIONS))
    text = fields.String(load_default=None, validate=validate.Length(max=5000))


class UnionReplyIn(Schema):
    at = LocalDateTime(required=True)
    text = fields.String(required=True, validate=validate.Length(min=1, max=5000))


class UnionRecordOut(Schema):
    id = fields.Integer()
    kind = fields.String(metadata={"description": "notice, opinion or reply"})
    at = LocalDateTime()
    union = fields.String(attribute="union_name", allow_none=True)
    receipt_signed_by = fields.String(allow_none=True)
    receipt_sha256 = fields.String(attribute="file.sha256", allow_none=True)
    opinion = fields.String(allow_none=True)
    text = fields.String(allow_none=True)


class UnionGateOut(Schema):
    holds = fields.Boolean(metadata={"description": "Whether the union gate allows confirming the termination."})
    basis = fields.String(allow_none=True)
    reasons = fields.List(fields.String(), metadata={"description": "What is missing, each naming 第四十三条."})
    possible_from = LocalDateTime(allow_none=True)


class UnionOut(Schema):
    records = fields.List(fields.Nested(UnionRecordOut))
    gate = fields.Nested(UnionGateOut)


def union_out(case: AbsenceCase) -> dict:
    """The union records and the gate now (dump with UnionOut)."""
    return {"records": union.records(case), "gate": union.gate(case)}


def _respond(case: AbsenceCase, action):
    try:
        action()
    except union.UnionRefused as exc:
        return api_error(409, str(exc))
    return union_out(case)


class UnionLetterIn(Schema):
    union = fields.String(required=True, validate=validate.Length(min=1, max=200))


@blp.route("/absence/cases/<int:case_id>/union-letter")
class Letter(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.arguments(UnionLetterIn())
    @blp.response(201, DocumentOut)
    @blp.alt_response(404, schema=ErrorResponse)
    @blp.alt_response(409, schema=ErrorResponse, description="The effective deadline has not passed, a reply "
                                                               "awaits HR, or the case is resolved.")
    @blp.alt_response(422, schema=ErrorResponse)
    def post(self, data: dict, case_id: int):
        """Issue the written notice to the union (the reasons, the facts, the rule, the intended termination),
        to print and hand over; then record its receipt with union-notice."""
        from lms.absence import termination

        case = case_or_404(case_id)
        try:
            return document_out(termination.issue_union_letter(case, g.api_token, data["union"]))
        except union.UnionRefused as exc:
            return api_error(409, str(exc))


@blp.route("/absence/cases/<int:case_id>/union-notice")
class Notice(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.arguments(UnionNoticeIn())
    @blp.response(201, UnionOut)
    @blp.alt_response(404, schema=ErrorResponse)
    @blp.alt_response(409, schema=ErrorResponse, description="The effective deadline has not passed, a reply "
                                                               "awaits HR, or the case is resolved.")
    @blp.alt_response(422, schema=ErrorResponse)
    def post(self, data: dict, case_id: int):
        """Record the written notice of the reasons given to the union, and who signed its receipt."""
        case = case_or_404(case_id)
        receipt = None
        if data["receipt_file_id"] is not None:
            receipt = db.session.get(StoredFile, data["receipt_file_id"])
            if receipt is None:
                abort(404, _("No uploaded file %(id)s.", id=data["receipt_file_id"]))
        return _respond(case, lambda: union.record_notice(
            case, at=data["notified_at"], union_name=data["union"], receipt_signed_by=data["receipt_signed_by"],
            receipt=receipt, actor=g.api_token))


@blp.route("/absence/cases/<int:case_id>/union-opinion")
class Opinion(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.arguments(UnionOpinionIn())
    @blp.response(201, UnionOut)
    @blp.alt_response(404, schema=ErrorResponse)
    @blp.alt_response(409, schema=ErrorResponse, description="No notice to the union before that time, or an "
                                                               "objection without its text.")
    @blp.alt_response(422, schema=ErrorResponse)
    def post(self, data: dict, case_id: int):
        """Record the union's opinion: no_objection, or objection with its text."""
        case = case_or_404(case_id)
        return _respond(case, lambda: union.record_opinion(case, at=data["at"], opinion=data["opinion"],
                                                           text=data["text"], actor=g.api_token))


@blp.route("/absence/cases/<int:case_id>/union-reply")
class Reply(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.arguments(UnionReplyIn())
    @blp.response(201, UnionOut)
    @blp.alt_response(404, schema=ErrorResponse)
    @blp.alt_response(409, schema=ErrorResponse, description="The union has not objected.")
    @blp.alt_response(422, schema=ErrorResponse)
    def post(self, data: dict, case_id: int):
        """Record the company's written reply to the union's objection."""
        case = case_or_404(case_id)
        return _respond(case, lambda: union.record_reply(case, at=data["at"], text=data["text"], actor=g.api_token))


class NoUnionIn(Schema):
    note = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    file_id = fields.Integer(load_default=None, metadata={"description": "The evidence's scan (POST /api/v1/files)."})


class NoUnionOut(Schema):
    recorded_at = LocalDateTime()
    note = fields.String()
    notify_instead = fields.Function(lambda _r: current_app.config["LMS_UNION_ALTERNATIVE"])


@blp.route("/company/no-union")
class NoUnion(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.arguments(NoUnionIn())
    @blp.response(201, NoUnionOut)
    @blp.alt_response(409, schema=ErrorResponse, description="Already on record.")
    @blp.alt_response(422, schema=ErrorResponse)
    def post(self, data: dict):
        """Record once that the company has no union; the union gate then asks for the notice to the body the
        settings name (LMS_UNION_ALTERNATIVE)."""
        stored = None
        if data["file_id"] is not None:
            stored = db.session.get(StoredFile, data["file_id"])
            if stored is None:
                abort(404, _("No uploaded file %(id)s.", id=data["file_id"]))
        try:
            return union.record_no_union(data["note"], stored, g.api_token)
        except union.UnionRefused as exc:
            return api_error(409, str(exc))
