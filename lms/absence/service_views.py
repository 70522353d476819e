"""Service of a case's notices on the case page: dispatch, tracking events, HR's confirmation of a
signature, public notice. Routes hang on the absence blueprint (`views.bp`); the rules are in `service`."""

from __future__ import annotations

import io

from flask import abort, send_file
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from lms.absence import service
from lms.absence.case_views import _act
from lms.absence.models import Dispatch, DispatchPhoto, PublicNotice
from lms.absence.views import bp
from lms.documents import files
from lms.documents.models import Document, StoredFile
from lms.extensions import db
from lms.forms import DateInput
from lms.people.access import roles_required

_IMAGE = FileAllowed(["jpg", "jpeg", "png", "pdf"], _l("Upload a JPEG, PNG or PDF file."))
PHOTO_LABELS = {"contents": _l("photo of the contents"), "envelope": _l("photo of the sealed envelope")}


def _choices(labels: dict, blank: str | None = None) -> list[SelectChoice]:
    return ([SelectChoice("", blank)] if blank else []) + [SelectChoice(code, label) for code, label in labels.items()]


class DispatchForm(FlaskForm):
    document_id = SelectField(_l("Notice"), coerce=int, validators=[DataRequired()])
    method = SelectField(_l("Method"), choices=_choices(service.METHOD_LABELS))
    tracking_no = StringField(_l("Tracking number"), validators=[Optional(), Length(max=60)])
    dispatched_on = DateInput(_l("Dispatched on"), validators=[DataRequired()])
    addressee = StringField(_l("Addressee"), validators=[DataRequired(), Length(max=120)])
    address_source = SelectField(_l("Address used"), choices=_choices(service.ADDRESS_LABELS))
    address = TextAreaField(_l("Address"), validators=[DataRequired(), Length(max=2000)])
    confirmed_service_address = BooleanField(_l("The employee confirmed this address for service in writing"))
    confirmation_note = StringField(_l("The signed confirmation (document, date)"),
                                    validators=[Optional(), Length(max=500)])
    contents_photo = FileField(_l("Photo of the contents (optional)"), validators=[Optional(), _IMAGE])
    envelope_photo = FileField(_l("Photo of the sealed envelope (optional)"), validators=[Optional(), _IMAGE])


class PhotoForm(FlaskForm):
    role = SelectField(_l("The photo shows"), choices=_choices(PHOTO_LABELS))
    photo = FileField(_l("Photo"), validators=[FileRequired(), _IMAGE])


class TrackingForm(FlaskForm):
    status = SelectField(_l("Event"), choices=_choices(service.STATUS_LABELS))
    day = DateInput(_l("Date"), validators=[DataRequired()])
    signed_by = SelectField(_l("Signed for by (a delivery)"), choices=_choices(service.SIGNER_LABELS, "—"),
                            validate_choice=False)  # checked by service.record_tracking
    reason = SelectField(_l("Reason (a return)"), choices=_choices(service.REASON_LABELS, "—"), validate_choice=False)
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class SignatureForm(FlaskForm):
    note = TextAreaField(_l("How you know it reached the employee"), validators=[DataRequired(), Length(max=500)])


class PublicNoticeForm(FlaskForm):
    document_id = SelectField(_l("Notice"), coerce=int, validators=[DataRequired()])
    medium = StringField(_l("Newspaper or official channel"), validators=[DataRequired(), Length(max=200)])
    published_on = DateInput(_l("Published on"), validators=[DataRequired()])
    scan = FileField(_l("Scan of the publication"), validators=[FileRequired(), _IMAGE])
    whereabouts_unknown_note = TextAreaField(_l("Whereabouts unknown: how you established it (needed when no "
                                                "attempt has failed)"), validators=[Optional(), Length(max=1000)])


def forms_for(case, state: service.CaseService) -> dict:
    """The case page's service forms, their notice choices filled in, the proposed address preset."""
    kinds = service.SERVED_KINDS if case.is_open else service.SERVED_AFTER_RESOLUTION
    notices = [(d.id, d.number) for kind in reversed(kinds) for d in reversed(service.case_documents(case, kind))]
    dispatch_form = DispatchForm(formdata=None, addressee=case.employee.name)
    source = state.next_address
    if source:
        dispatch_form.address_source.data = source
        dispatch_form.address.data = getattr(case.employee, source, None) or ""
        if source == "service_address":  # the address the employee confirmed (self-service)
            confirmation = service.employee_service_address(case.employee_id)
            dispatch_form.address.data = confirmation.address
            dispatch_form.confirmed_service_address.data = True
            dispatch_form.confirmation_note.data = service.confirmation_note_of(confirmation)
    public_form = PublicNoticeForm(formdata=None)
    dispatch_form.document_id.choices = public_form.document_id.choices = notices
    return {"dispatch_form": dispatch_form, "tracking_form": TrackingForm(formdata=None),
            "photo_form": PhotoForm(formdata=None), "photo_labels": PHOTO_LABELS,
            "signature_form": SignatureForm(formdata=None), "public_form": public_form}


def _document(case, document_id: int) -> Document:
    document = db.session.get(Document, document_id)
    if document is None or document.case_id != case.id:
        raise service.ServiceRefused(_l("No such notice on this case."))
    return document


def _stored(upload, what) -> StoredFile | None:
    """The uploaded file kept (in the action's transaction), or None when none was sent."""
    if not upload:
        return None
    try:
        return files.store(upload.read(), upload.filename, current_user, what)
    except files.FileRefused as exc:
        raise service.ServiceRefused(str(exc)) from exc


def _dispatch(case_id: int, dispatch_id: int) -> Dispatch:
    dispatch = db.session.get(Dispatch, dispatch_id)
    if dispatch is None or dispatch.case_id != case_id:
        abort(404)
    return dispatch


class _WithNotices:
    """Form classes whose notice choices are the case's documents (validated against them)."""

    @staticmethod
    def make(form_class, case_id: int):
        def build():
            form = form_class()
            if "document_id" in form:
                form.document_id.choices = [(d.id, d.number) for d in db.session.scalars(
                    db.select(Document).where(Document.case_id == case_id,
                                              Document.kind.in_(service.SERVED_KINDS)))]
            return form
        return build


@bp.post("/cases/<int:case_id>/dispatches")
@roles_required("hr", "admin")
def record_dispatch(case_id: int):
    return _act(case_id, _WithNotices.make(DispatchForm, case_id), lambda case, form: service.record_dispatch(
        case, _document(case, form.document_id.data), method=form.method.data, dispatched_on=form.dispatched_on.data,
        addressee=form.addressee.data, address=form.address.data, address_source=form.address_source.data,
        tracking_no=form.tracking_no.data, confirmed_service_address=form.confirmed_service_address.data,
        confirmation_note=form.confirmation_note.data, photos=[
            (role, stored) for role, stored in (
                ("contents", _stored(form.contents_photo.data, PHOTO_LABELS["contents"])),
                ("envelope", _stored(form.envelope_photo.data, PHOTO_LABELS["envelope"]))) if stored],
        actor=current_user))


@bp.post("/cases/<int:case_id>/dispatches/<int:dispatch_id>/photos")
@roles_required("hr", "admin")
def add_dispatch_photo(case_id: int, dispatch_id: int):
    dispatch = _dispatch(case_id, dispatch_id)
    return _act(case_id, PhotoForm, lambda case, form: service.add_dispatch_photo(
        dispatch, form.role.data, _stored(form.photo.data, PHOTO_LABELS.get(form.role.data)), actor=current_user))


@bp.get("/cases/<int:case_id>/files/<int:file_id>")
@roles_required("hr", "admin")
def case_file(case_id: int, file_id: int):
    """A photo or scan kept for one of the case's dispatches or public notices (404 for any other file)."""
    photo = db.select(DispatchPhoto.id).join(Dispatch).where(DispatchPhoto.file_id == file_id,
                                                             Dispatch.case_id == case_id)
    scan = db.select(PublicNotice.id).where(PublicNotice.scan_file_id == file_id, PublicNotice.case_id == case_id)
    belongs = db.session.scalar(photo.limit(1)) or db.session.scalar(scan.limit(1))
    stored = db.session.get(StoredFile, file_id) if belongs else None
    if stored is None:
        abort(404)
    return send_file(io.BytesIO(stored.data), mimetype=stored.content_type,
                     download_name=stored.filename, as_attachment=False)


@bp.post("/cases/<int:case_id>/dispatches/<int:dispatch_id>/events")
@roles_required("hr", "admin")
def record_tracking(case_id: int, dispatch_id: int):
    dispatch = _dispatch(case_id, dispatch_id)
    return _act(case_id, TrackingForm, lambda case, form: service.record_tracking(
        dispatch, status=form.status.data, day=form.day.data, signed_by=form.signed_by.data or None,
        reason=form.reason.data or None, note=form.note.data, source="page", actor=current_user))


@bp.post("/cases/<int:case_id>/dispatches/<int:dispatch_id>/confirm")
@roles_required("hr", "admin")
def confirm_signature(case_id: int, dispatch_id: int):
    dispatch = _dispatch(case_id, dispatch_id)
    return _act(case_id, SignatureForm, lambda case, form: service.confirm_signature(
        dispatch, form.note.data, actor=current_user))


@bp.post("/cases/<int:case_id>/public-notices")
@roles_required("hr", "admin")
def record_public_notice(case_id: int):
    return _act(case_id, _WithNotices.make(PublicNoticeForm, case_id), lambda case, form: service.record_public_notice(
        case, _document(case, form.document_id.data), medium=form.medium.data, published_on=form.published_on.data,
        scan=_stored(form.scan.data, _l("the scan of the publication")),
        whereabouts_unknown_note=form.whereabouts_unknown_note.data, actor=current_user))
