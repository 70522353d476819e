"""/api/v1: termination for absence (《劳动合同法》第三十九条第(二)项) and other endings of employment.

HR confirms a termination on a case (never the system): 201 with the issued 《解除劳动合同通知书》, which is
then served with the dispatch endpoints; 409 naming every unmet precondition. Tokens with role hr or admin.
"""

from __future__ import annotations

from flask import abort, g, request
from flask.views import MethodView
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from lms.absence import cases, dispute_file, termination
from lms.absence.models import AbsenceCase
from lms.api import Blueprint
from lms.api.absence import case_or_404
from lms.api.auth import token_required
from lms.api.documents import DocumentOut, document_out
from lms.api.employees import ErrorResponse
from lms.evidence import services as evidence_services
from lms.evidence.pack import download_response
from lms.extensions import db
from lms.people.models import Employee
from lms.ui import api_error

blp = Blueprint("api_termination", __name__, url_prefix="/api/v1",
                description="Termination for absence and other endings of employment (SPEC §4). Tokens with role "
                            "hr or admin.")


class TerminationIn(Schema):
    note = fields.String(load_default=None, validate=validate.Length(max=2000))
    review_note = fields.String(load_default=None, validate=validate.Length(max=2000), metadata={
        "description": "HR's review of a reply naming a hospital, a pregnancy, an injury or the police (needed "
                       "when there is one)."})
    not_before = fields.Date(load_default=None, metadata={
        "description": "A later termination date the notice states; it never takes effect before service."})


class SeparationIn(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(("resignation", "mutual", "expiry")))
    effective_on = fields.Date(required=True, metadata={"description": "The last day of employment."})
    note = fields.String(load_default=None, validate=validate.Length(max=2000))


class SeparationOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    employee = fields.Function(lambda s: s.employee.employee_no)
    effective_on = fields.Date(allow_none=True)
    not_before = fields.Date(allow_none=True)
    status = fields.Function(lambda s: s.employee.status)
    certificate_id = fields.Integer(allow_none=True)


def termination_out(case: AbsenceCase) -> dict | None:
    """The case detail's `termination`: when HR confirmed it, the notice, when it took effect."""
    separation = termination.separation_of(case)
    if separation is None:
        return None
    return {"confirmed_at": separation.confirmed_at.isoformat(), "document_id": separation.document_id,
            "effective_on": separation.effective_on.isoformat() if separation.effective_on else None,
            "certificate_id": separation.certificate_id, "lagging": termination.lagging(case)}


@blp.route("/absence/cases/<int:case_id>/termination")
class Termination(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.arguments(TerminationIn())
    @blp.response(201, DocumentOut)
    @blp.alt_response(404, schema=ErrorResponse)
    @blp.alt_response(409, schema=ErrorResponse, description="Every unmet precondition, in `errors`: the effective "
                                                               "deadline, a pending reply, the union gate "
                                                               "(第四十三条), a reply to review.")
    @blp.alt_response(422, schema=ErrorResponse)
    def post(self, data: dict, case_id: int):
        """Confirm the termination: issues the termination notice (to be dispatched like the return notice)."""
        case = case_or_404(case_id)
        try:
            document = termination.confirm(case, g.api_token, note=data["note"], review_note=data["review_note"],
                                           not_before=data["not_before"])
        except termination.TerminationRefused as exc:
            return api_error(409, str(exc), errors=[{"message": reason} for reason in exc.reasons])
        return document_out(document)


@blp.route("/employees/<employee_no>/separation")
class EmployeeSeparation(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.arguments(SeparationIn())
    @blp.response(201, SeparationOut)
    @blp.alt_response(404, schema=ErrorResponse)
    @blp.alt_response(409, schema=ErrorResponse, description="Already ended or pending, or a date before hire.")
    @blp.alt_response(422, schema=ErrorResponse)
    def post(self, data: dict, employee_no: str):
        """Record a resignation, a mutual agreement or an expiry: the certificate and the 15-day transfers follow
        on the date given."""
        employee = db.session.scalar(select(Employee).where(Employee.employee_no == employee_no))
        if employee is None:
            abort(404, _("No employee has number %(no)s.", no=employee_no))
        try:
            return termination.record_separation(employee, data["kind"], data["effective_on"], g.api_token,
                                                 note=data["note"])
        except cases.CaseError as exc:
            return api_error(409, str(exc))


class EvidencePackIn(Schema):
    include = fields.List(fields.String(validate=validate.OneOf(dispute_file.PARTS)), load_default=list(
        dispute_file.PARTS), validate=validate.Length(min=1), metadata={
        "description": "Any of training, messages, absence, documents (default: all)."})


@blp.route("/absence/cases/<int:case_id>/evidence-pack")
class CaseEvidencePack(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.response(200, content_type="application/zip", description="The dispute file (证据材料) as a ZIP.")
    @blp.alt_response(404, schema=ErrorResponse)
    def get(self, case_id: int):
        """The case's dispute file: indexed exhibits, the timeline, verify.py. The download is recorded."""
        case = case_or_404(case_id)
        return _download(case.employee, case, dispute_file.PARTS)


@blp.route("/employees/<employee_no>/evidence-pack")
class EmployeeEvidencePack(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.arguments(EvidencePackIn(), required=False)  # no body: every part
    @blp.response(200, content_type="application/zip", description="The dispute file (证据材料) as a ZIP.")
    @blp.alt_response(404, schema=ErrorResponse)
    @blp.alt_response(422, schema=ErrorResponse)
    def post(self, data: dict, employee_no: str):
        """An employee's dispute file with the parts asked for (training proof without any case, say)."""
        employee = db.session.scalar(select(Employee).where(Employee.employee_no == employee_no))
        if employee is None:
            abort(404, _("No employee has number %(no)s.", no=employee_no))
        return _download(employee, None, tuple(dict.fromkeys(data["include"])))


def _download(employee, case, parts):
    built = dispute_file.build(employee, evidence_services.actor_of(g.api_token), case=case, parts=parts)
    dispute_file.record_download(built, employee, case, parts, g.api_token, "api", ip=request.remote_addr,
                                 user_agent=request.user_agent.string)
    return download_response(built)
