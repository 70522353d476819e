"""/api/v1 self-service with personal tokens (as the exam API): leave requests and decisions, emergency
reports, punch corrections, my details and the service-address confirmation."""

from __future__ import annotations

from flask import g, request
from flask.views import MethodView
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from lms.api import Blueprint
from lms.api.auth import person_required
from lms.api.employees import ErrorResponse
from lms.extensions import db
from lms.people.access import can_see_employee
from lms.people.models import Employee
from lms.people.services import masked_national_id
from lms.requests import address, corrections, emergency
from lms.requests import leave_requests as lr
from lms.requests.rules import RequestRefused
from lms.ui import api_error, current_locale

blp = Blueprint("api_requests", __name__, url_prefix="/api/v1",
                description="Employee self-service (personal tokens): leave requests, emergency reports, "
                            "missed-punch corrections, my details and the service address.")


class LeaveRequestIn(Schema):
    type = fields.String(required=True, metadata={"description": "A leave type (personal, sick, annual, …) or "
                                                                 "business_trip for a trip."})
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    reason = fields.String(required=True)
    extends_leave_id = fields.Integer(load_default=None, metadata={"description": "续假: the leave it continues."})


class LeaveRequestOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    type = fields.String()
    start = fields.Date(attribute="starts_on")
    end = fields.Date(attribute="ends_on")
    reason = fields.String()
    state = fields.String()
    late = fields.Boolean(attribute="is_late")
    submitted_at = fields.DateTime()
    decided_at = fields.DateTime(allow_none=True)
    decided_by = fields.String(allow_none=True)
    note = fields.String(attribute="decision_note", allow_none=True)


class RequestDecisionIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(("approve", "reject")))
    note = fields.String(load_default="")


class EmergencyIn(Schema):
    reason = fields.String(required=True)
    reported_at = fields.DateTime(load_default=None, metadata={"description": "ISO 8601; no offset = company time."})


class ManagerEmergencyIn(Schema):
    reason = fields.String(required=True)
    at = fields.DateTime(required=True)


class EmergencyOut(Schema):
    id = fields.Integer()
    day = fields.Date()
    reason = fields.String()
    reported_at = fields.DateTime()
    channel = fields.String()
    follow_up_by = fields.Date()
    paused_case = fields.Function(lambda r: r.case_id is not None)


class CorrectionIn(Schema):
    day = fields.Date(required=True)
    arrived_at = fields.DateTime(required=True)
    reason = fields.String(required=True)


class CorrectionOut(Schema):
    id = fields.Integer()
    day = fields.Date()
    arrived_at = fields.DateTime()
    state = fields.String()
    decided_by = fields.String(allow_none=True)


class MeIn(Schema):
    mobile = fields.String()
    email = fields.String()
    contact_address = fields.String()
    emergency_name = fields.String()
    emergency_relation = fields.String()
    emergency_phone = fields.String()


class ConfirmationIn(Schema):
    text_sha256 = fields.String(load_default=None, metadata={
        "description": "SHA-256 of the text shown (GET /api/v1/me gives it); refused if it no longer matches."})


class EmergencyContactOut(Schema):
    name = fields.String()
    relation = fields.String(allow_none=True)
    phone = fields.String()


class ServiceAddressOut(Schema):
    address = fields.String()
    confirmed_at = fields.String(metadata={"description": "ISO 8601."})
    method = fields.String()
    text_sha256 = fields.String()


class ConfirmationOut(Schema):
    address = fields.String()
    confirmed_at = fields.String(metadata={"description": "ISO 8601."})
    text_sha256 = fields.String()


class MeOut(Schema):
    employee_no = fields.String()
    name = fields.String()
    department = fields.String()
    national_id_masked = fields.String(allow_none=True)
    mobile = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    contact_address = fields.String(allow_none=True)
    emergency_contact = fields.Nested(EmergencyContactOut, allow_none=True)
    service_address = fields.Nested(ServiceAddressOut, allow_none=True, metadata={
        "description": "The address confirmed for service of documents, if any."})
    needs_confirmation = fields.Boolean()
    confirmation_text = fields.String(allow_none=True)
    confirmation_text_sha256 = fields.String(allow_none=True)


def _refused(refusal: RequestRefused):
    return api_error(refusal.status, refusal.message, field=refusal.field)


def _me_body(employee: Employee) -> dict:
    confirmation = address.current_confirmation(employee.id)
    contact = address.emergency_contact(employee.id)
    text = address.confirmation_text(employee, employee.contact_address, current_locale()) \
        if employee.contact_address else None
    import hashlib
    return {"employee_no": employee.employee_no, "name": employee.name, "department": employee.department.name,
            "national_id_masked": masked_national_id(employee), "mobile": employee.mobile, "email": employee.email,
            "contact_address": employee.contact_address,
            "emergency_contact": {"name": contact.name, "relation": contact.relation, "phone": contact.phone}
            if contact else None,
            "service_address": {"address": confirmation.address, "confirmed_at": confirmation.confirmed_at.isoformat(),
                                "method": confirmation.method, "text_sha256": confirmation.text_sha256}
            if confirmation else None,
            "needs_confirmation": bool(text) and (confirmation is None
                                                  or confirmation.address != employee.contact_address),
            "confirmation_text": text,
            "confirmation_text_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest() if text else None}


@blp.route("/me")
class Me(MethodView):
    decorators = [person_required]

    @blp.response(200, MeOut)
    def get(self):
        """My record (national ID masked), contact details and the service address."""
        return _me_body(g.api_user.employee)

    @blp.arguments(MeIn(), required=False)  # no body: nothing changes
    @blp.response(200, MeOut)
    @blp.alt_response(409, schema=ErrorResponse)
    @blp.alt_response(422, schema=ErrorResponse)
    def patch(self, body):
        """Update my mobile, e-mail, contact address or emergency contact (a new address needs a new confirmation)."""
        try:
            address.update_details(g.api_user.employee, body, actor=g.api_token)
        except RequestRefused as refusal:
            return _refused(refusal)
        return _me_body(g.api_user.employee)


@blp.route("/me/service-address/confirmation")
class Confirmation(MethodView):
    decorators = [person_required]

    @blp.arguments(ConfirmationIn(), required=False)  # no body: the text shown now
    @blp.response(201, ConfirmationOut)
    @blp.alt_response(409, schema=ErrorResponse)
    def post(self, body):
        """Confirm my contact address as my service address (stored with the text, its hash, time, IP, agent)."""
        try:
            row = address.confirm_in_app(g.api_user.employee, current_locale(), body.get("text_sha256"),
                                         request.remote_addr, request.headers.get("User-Agent"), actor=g.api_token)
        except RequestRefused as refusal:
            return _refused(refusal)
        return {"address": row.address, "confirmed_at": row.confirmed_at.isoformat(),
                "text_sha256": row.text_sha256}, 201


@blp.route("/me/leave-requests")
class MyLeaveRequests(MethodView):
    decorators = [person_required]

    @blp.response(200, LeaveRequestOut(many=True))
    def get(self):
        """My leave and trip requests, newest first."""
        return lr.my_requests(g.api_user.employee_id)

    @blp.arguments(LeaveRequestIn())
    @blp.response(201, LeaveRequestOut)
    @blp.alt_response(409, schema=ErrorResponse)
    def post(self, body):
        """Apply: 201 with `state` pending and `late` (fewer than the rule's notice days before the start)."""
        kind = "trip" if body["type"] == "business_trip" else "leave"
        try:
            return lr.submit_request(g.api_user.employee, kind=kind, type=body["type"], start=body["start"],
                                     end=body["end"], reason=body["reason"],
                                     extends_leave_id=body.get("extends_leave_id"), actor=g.api_token), 201
        except RequestRefused as refusal:
            return _refused(refusal)


@blp.route("/leave-requests/<int:request_id>/decision")
class LeaveDecision(MethodView):
    decorators = [person_required]

    @blp.arguments(RequestDecisionIn())
    @blp.response(200, LeaveRequestOut)
    @blp.alt_response(404, schema=ErrorResponse)
    def post(self, body, request_id: int):
        """The manager (or their manager when the manager is away or the window passed; HR) decides."""
        found = lr.request_for_decider(g.api_user, request_id)
        if found is None:
            return api_error(404, _("No such request for you to decide."), field="request_id")
        try:
            return lr.decide_request(found, g.api_user, body["decision"], body["note"], actor=g.api_token)
        except RequestRefused as refusal:
            return _refused(refusal)


@blp.route("/me/emergency-reports")
class MyEmergencyReports(MethodView):
    decorators = [person_required]

    @blp.arguments(EmergencyIn())
    @blp.response(201, EmergencyOut)
    def post(self, body):
        """I cannot come today: pauses my open case for HR and starts the follow-up clock."""
        try:
            return emergency.report_emergency(g.api_user.employee, body["reason"], "api", body.get("reported_at"),
                                              actor=g.api_token), 201
        except RequestRefused as refusal:
            return _refused(refusal)


@blp.route("/employees/<string:employee_no>/emergency-reports")
class EmployeeEmergencyReports(MethodView):
    decorators = [person_required]

    @blp.arguments(ManagerEmergencyIn())
    @blp.response(201, EmergencyOut)
    @blp.alt_response(404, schema=ErrorResponse)
    def post(self, body, employee_no: str):
        """The manager records a phone call on the employee's behalf."""
        employee = db.session.scalar(select(Employee).where(Employee.employee_no == employee_no))
        user = g.api_user
        if (employee is None or employee.id == user.employee_id or user.role not in ("manager", "hr")
                or not can_see_employee(user, employee.id)):
            return api_error(404, _("No such employee in your team."), field="employee_no")
        try:
            return emergency.report_emergency(employee, body["reason"], "manager", body["at"], actor=g.api_token), 201
        except RequestRefused as refusal:
            return _refused(refusal)


@blp.route("/me/punch-corrections")
class MyCorrections(MethodView):
    decorators = [person_required]

    @blp.arguments(CorrectionIn())
    @blp.response(201, CorrectionOut)
    @blp.alt_response(409, schema=ErrorResponse, description="Too late: the rule's working days have passed.")
    def post(self, body):
        """补卡: when I arrived on a day without a punch; refused after the rule's working days."""
        try:
            return corrections.submit_correction(g.api_user.employee, body["day"], body["arrived_at"], body["reason"],
                                                 actor=g.api_token), 201
        except RequestRefused as refusal:
            return _refused(refusal)


@blp.route("/punch-corrections/<int:correction_id>/decision")
class CorrectionDecision(MethodView):
    decorators = [person_required]

    @blp.arguments(RequestDecisionIn())
    @blp.response(200, CorrectionOut)
    @blp.alt_response(404, schema=ErrorResponse)
    def post(self, body, correction_id: int):
        """The manager verifies: approve records a punch with source `correction`."""
        found = corrections.correction_for_decider(g.api_user, correction_id)
        if found is None:
            return api_error(404, _("No such correction for you to decide."), field="correction_id")
        try:
            return corrections.decide_correction(found, g.api_user, body["decision"], body["note"], actor=g.api_token)
        except RequestRefused as refusal:
            return _refused(refusal)
