"""/api/v1: service of a case's notices (送达) — dispatches, tracking events, public notices (SPEC §4).

Dates are `YYYY-MM-DD` (company-local). Whether and when a notice was served is read from the facts
recorded here by `lms.absence.service`; the case detail (`GET /api/v1/absence/cases/{id}`) shows it
as `dispatches` and `deadline`.
"""

from __future__ import annotations

from flask import abort, g
from flask.views import MethodView
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from lms.absence import service
from lms.absence.models import (
    ADDRESS_SOURCES,
    DISPATCH_METHODS,
    PHOTO_ROLES,
    RETURN_REASONS,
    SIGNERS,
    AbsenceCase,
    Dispatch,
)
from lms.api import Blueprint, JsonBoolean
from lms.api.absence import LocalDateTime, case_or_404
from lms.api.auth import token_required
from lms.api.employees import ErrorResponse
from lms.documents.models import Document, StoredFile
from lms.extensions import db
from lms.ui import api_error

blp = Blueprint("api_service", __name__, url_prefix="/api/v1",
                description="Service of a case's notices (送达): dispatches, tracking, public notice. Tokens with "
                            "role hr or admin.")


class TrackingEventOut(Schema):
    id = fields.Integer()
    status = fields.String(metadata={"description": "in_transit, delivered, refused, returned or returned_to_sender"})
    at = fields.Date(attribute="day")
    signed_by = fields.String(allow_none=True, metadata={"description": "employee, family_member, other or locker"})
    reason = fields.String(allow_none=True)
    source = fields.String(metadata={"description": "page, csv, api, replay, or employee (their read receipt or "
                                                    "reply acknowledged an electronic dispatch)"})
    recorded_at = LocalDateTime()


class PhotoOut(Schema):
    role = fields.String()
    file_id = fields.Integer()
    sha256 = fields.String(attribute="file.sha256")


class DispatchOut(Schema):
    id = fields.Integer()
    case_id = fields.Integer()
    document_id = fields.Integer()
    document_sha256 = fields.String()
    method = fields.String()
    tracking_no = fields.String(allow_none=True)
    dispatched_at = fields.Date(attribute="dispatched_on")
    addressee = fields.String()
    address = fields.String()
    address_source = fields.String()
    confirmed_service_address = fields.Boolean()
    status = fields.String(metadata={"description": "served, pending, awaiting_confirmation (signed by someone "
                                                    "else: HR confirms), awaiting_return (refused, not back at "
                                                    "the sender yet) or failed (returned undelivered)"})
    served_at = fields.Date(allow_none=True)
    basis = fields.String(allow_none=True, metadata={"description": "The rule that served it, with its source."})
    events = fields.List(fields.Nested(TrackingEventOut))
    photos = fields.List(fields.Nested(PhotoOut))


def dispatch_out(dispatch: Dispatch) -> dict:
    answer = service.dispatch_service(dispatch)
    return {**{name: getattr(dispatch, name) for name in (
        "id", "case_id", "document_id", "document_sha256", "method", "tracking_no", "dispatched_on", "addressee",
        "address", "address_source", "confirmed_service_address", "events", "photos")},
        "status": answer.state, "served_at": answer.on,
        "basis": str(service.BASIS[answer.basis]) if answer.basis else None}


def deadline_out(state: service.CaseService) -> dict:
    """The case detail's `deadline`: dates as YYYY-MM-DD, `effective` null while not served."""
    return {"stated": state.stated.isoformat() if state.stated else None,
            "effective": state.effective.isoformat() if state.effective else None,
            "served_at": state.served_on.isoformat() if state.served_on else None,
            "basis": state.basis, "why_not": None if state.effective else state.why_not,
            "next_action": state.next_action, "document_id": state.document.id if state.document else None}


class DispatchIn(Schema):
    document_id = fields.Integer(required=True)
    method = fields.String(required=True, validate=validate.OneOf(DISPATCH_METHODS))
    tracking_no = fields.String(load_default=None, validate=validate.Length(max=60))
    dispatched_at = fields.Date(required=True)
    address_source = fields.String(required=True, validate=validate.OneOf(ADDRESS_SOURCES))
    address = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    addressee = fields.String(required=True, validate=validate.Length(min=1, max=120))
    confirmed_service_address = JsonBoolean(load_default=False, metadata={
        "description": "The employee confirmed this service address in writing (with confirmation_note)."})
    confirmation_note = fields.String(load_default=None, validate=validate.Length(max=500))
    photos = fields.List(fields.Nested(lambda: PhotoIn()), load_default=list, metadata={
        "description": "Photos of the contents and the sealed envelope, uploaded first with POST /api/v1/files."})


class PhotoIn(Schema):
    file_id = fields.Integer(required=True)
    role = fields.String(required=True, validate=validate.OneOf(PHOTO_ROLES))


class EventIn(Schema):
    status = fields.String(required=True, validate=validate.OneOf(
        ("in_transit", "delivered", "refused", "returned", "returned_to_sender")))
    at = fields.Date(required=True, metadata={"description": "The local date it happened."})
    signed_by = fields.String(load_default=None, validate=validate.OneOf(SIGNERS))
    reason = fields.String(load_default=None, validate=validate.OneOf(RETURN_REASONS))
    note = fields.String(load_default=None, validate=validate.Length(max=500))

    @validates_schema
    def _consistent(self, data, **_kwargs):
        if data["status"] == "delivered" and not data.get("signed_by"):
            raise ValidationError(_("Say who signed for the delivery."), "signed_by")
        if data["status"] == "returned" and not data.get("reason"):
            raise ValidationError(_("Give the reason it was returned."), "reason")


class PublicNoticeIn(Schema):
    document_id = fields.Integer(required=True)
    published_at = fields.Date(required=True)
    medium = fields.String(required=True, validate=validate.Length(min=1, max=200))
    scan_file_id = fields.Integer(required=True, metadata={
        "description": "The scan of the publication, uploaded first with POST /api/v1/files."})
    whereabouts_unknown_note = fields.String(load_default=None, validate=validate.Length(max=1000), metadata={
        "description": "HR's record that the whereabouts are unknown (allows a public notice without a failed "
                       "attempt)."})


class PublicNoticeOut(Schema):
    id = fields.Integer()
    document_id = fields.Integer()
    medium = fields.String()
    published_at = fields.Date(attribute="published_on")
    served_at = fields.Function(lambda p: service.served_by_public_notice(p.published_on).on.isoformat())
    scan_file_id = fields.Integer(allow_none=True)
    scan_sha256 = fields.String(allow_none=True)


def _stored_file(file_id: int) -> StoredFile:
    stored = db.session.get(StoredFile, file_id)
    if stored is None:
        abort(404, _("No uploaded file %(id)s.", id=file_id))
    return stored


def _document(case: AbsenceCase, document_id: int) -> Document:
    document = db.session.get(Document, document_id)
    if document is None or document.case_id != case.id:
        abort(404, _("No document %(id)s on this case.", id=document_id))
    return document


@blp.route("/absence/cases/<int:case_id>/dispatches")
class Dispatches(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.arguments(DispatchIn())
    @blp.response(201, DispatchOut)
    @blp.alt_response(404, schema=ErrorResponse)
    @blp.alt_response(409, schema=ErrorResponse, description="The case is resolved, the document came back "
                                                               "undelivered before (issue a new one), a date is "
                                                               "before issue or in the future.")
    @blp.alt_response(422, schema=ErrorResponse)
    def post(self, data: dict, case_id: int):
        """Record that an issued notice of the case was sent: method, tracking number, date, address and its source."""
        case = case_or_404(case_id)
        document = _document(case, data["document_id"])
        try:
            dispatch = service.record_dispatch(
                case, document, method=data["method"], dispatched_on=data["dispatched_at"],
                addressee=data["addressee"], address=data["address"], address_source=data["address_source"],
                tracking_no=data["tracking_no"], confirmed_service_address=data["confirmed_service_address"],
                confirmation_note=data["confirmation_note"], actor=g.api_token,
                photos=[(photo["role"], _stored_file(photo["file_id"])) for photo in data["photos"]])
        except service.ServiceRefused as exc:
            return api_error(409, str(exc))
        return dispatch_out(dispatch)


@blp.route("/dispatches/<int:dispatch_id>")
class OneDispatch(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.response(200, DispatchOut)
    @blp.alt_response(404, schema=ErrorResponse)
    def get(self, dispatch_id: int):
        """One dispatch with its tracking events, whether it served the notice, when, and on what basis."""
        dispatch = db.session.get(Dispatch, dispatch_id)
        if dispatch is None:
            abort(404, _("No dispatch %(id)s.", id=dispatch_id))
        return dispatch_out(dispatch)


@blp.route("/dispatches/<int:dispatch_id>/photos")
class Photos(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.arguments(PhotoIn())
    @blp.response(201, DispatchOut)
    @blp.alt_response(404, schema=ErrorResponse)
    @blp.alt_response(422, schema=ErrorResponse)
    def post(self, data: dict, dispatch_id: int):
        """Add a photo (uploaded first with POST /api/v1/files) to a dispatch recorded earlier."""
        dispatch = db.session.get(Dispatch, dispatch_id)
        if dispatch is None:
            abort(404, _("No dispatch %(id)s.", id=dispatch_id))
        service.add_dispatch_photo(dispatch, data["role"], _stored_file(data["file_id"]), actor=g.api_token)
        db.session.refresh(dispatch)
        return dispatch_out(dispatch)


@blp.route("/dispatches/<int:dispatch_id>/events")
class Events(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.arguments(EventIn())
    @blp.response(201, DispatchOut)
    @blp.alt_response(404, schema=ErrorResponse)
    @blp.alt_response(409, schema=ErrorResponse, description="The dispatch is settled (served or returned), the "
                                                               "date is before the dispatch or in the future.")
    @blp.alt_response(422, schema=ErrorResponse)
    def post(self, data: dict, dispatch_id: int):
        """Record a tracking event (the carrier's, or the employee's acknowledgement); returns the dispatch."""
        dispatch = db.session.get(Dispatch, dispatch_id)
        if dispatch is None:
            abort(404, _("No dispatch %(id)s.", id=dispatch_id))
        try:
            service.record_tracking(dispatch, status=data["status"], day=data["at"], signed_by=data["signed_by"],
                                    reason=data["reason"], note=data["note"], source="api", actor=g.api_token)
        except service.ServiceRefused as exc:
            return api_error(409, str(exc))
        db.session.refresh(dispatch)
        return dispatch_out(dispatch)


@blp.route("/absence/cases/<int:case_id>/public-notices")
class PublicNotices(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.arguments(PublicNoticeIn())
    @blp.response(201, PublicNoticeOut)
    @blp.alt_response(404, schema=ErrorResponse)
    @blp.alt_response(409, schema=ErrorResponse, description="No failed attempt on record and no documented "
                                                               "unknown whereabouts (参照 劳办发〔1995〕179号).")
    @blp.alt_response(422, schema=ErrorResponse)
    def post(self, data: dict, case_id: int):
        """Record a public notice (公告送达); it serves the notice 30 days after publication."""
        case = case_or_404(case_id)
        document = _document(case, data["document_id"])
        try:
            return service.record_public_notice(
                case, document, medium=data["medium"], published_on=data["published_at"],
                scan=_stored_file(data["scan_file_id"]), whereabouts_unknown_note=data["whereabouts_unknown_note"],
                actor=g.api_token)
        except service.ServiceRefused as exc:
            return api_error(409, str(exc))
