"""/api/v1/absence: cases, their steps and messages, replies and HR decisions; monitoring (SPEC §4).

Times are ISO-8601 in the company's time zone with its offset (e.g. 2026-06-15T11:00:00+08:00).
"""

from __future__ import annotations

from datetime import datetime

from flask import abort, g, request
from flask.views import MethodView
from flask_babel import gettext as _
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms import clock
from lms.absence import cases, decisions, service
from lms.absence.models import LEAVE_TYPES, REPLY_CHANNELS, AbsenceCase
from lms.api import Blueprint, JsonBoolean
from lms.api.auth import token_required
from lms.api.documents import document_out
from lms.api.employees import ErrorResponse
from lms.documents.services import documents_of_case
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db
from lms.people.models import Employee
from lms.ui import api_error

blp = Blueprint("api_absence", __name__, url_prefix="/api/v1/absence",
                description="Absence cases (SPEC §4). Tokens with role hr or admin.")


def local_iso(moment: datetime | None) -> str | None:
    return moment.astimezone(clock.zone()).isoformat() if moment else None


class LocalDateTime(fields.Field):
    """An aware datetime as ISO-8601 with the company's offset; read from ISO-8601, company time when it
    has no offset (so the document says a string with a year, not `format: date-time`, which needs one)."""

    is_instant = True  # the document names the input policy's range of years

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.metadata = {"type": "string", "example": "2026-06-26T09:00:00+08:00", **self.metadata}

    def _serialize(self, value, attr, obj, **kwargs):
        return local_iso(value)

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str):
            raise ValidationError(_("Not a date and time; use ISO 8601 (e.g. 2026-06-26T09:00)."), attr)
        try:
            return clock.as_utc(datetime.fromisoformat(value))
        except ValueError as exc:
            raise ValidationError(_("Not a date and time; use ISO 8601 (e.g. 2026-06-26T09:00)."), attr) from exc


class MessageOut(Schema):
    step = fields.String(metadata={"example": "alert1"})
    channel = fields.String(metadata={"example": "sms"})
    recipient_role = fields.String(metadata={"description": "employee, manager or hr"})
    recipient = fields.String(metadata={"description": "The recipient's employee number."})
    status = fields.String(metadata={"description": "pending, sending, sent, delivered, read or failed"})
    sent_at = LocalDateTime(allow_none=True)
    delivered_at = LocalDateTime(allow_none=True)
    read_at = LocalDateTime(allow_none=True)
    text = fields.String()


class StepOut(Schema):
    step = fields.String(attribute="key")
    day = fields.Date()
    due_at = LocalDateTime()
    status = fields.String(metadata={"description": "queued, sent or skipped"})
    done_at = LocalDateTime(allow_none=True)
    skip_reason = fields.String(allow_none=True)


class ReplyOut(Schema):
    id = fields.Integer()
    channel = fields.String()
    text = fields.String()
    received_at = LocalDateTime()
    decision = fields.String(allow_none=True)
    decided_at = LocalDateTime(allow_none=True)


class TodoOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    created_at = LocalDateTime()
    done_at = LocalDateTime(allow_none=True)


class CaseDayOut(Schema):
    day = fields.Date()
    status = fields.String(metadata={"description": "counted, punched, leave or excused"})
    rule_version = fields.String(allow_none=True, metadata={"description": "The rule set in force on that day."})
    needs_confirmation = fields.Boolean(metadata={"description": "Found after the fact: counts toward no "
                                                                 "threshold until HR confirms it."})
    confirmed_at = LocalDateTime(allow_none=True)


class CaseSummary(Schema):
    id = fields.Integer()
    employee_no = fields.Function(lambda c: c.employee.employee_no)
    state = fields.String(metadata={"description": "review, opened, alerted, warned, reminded, threshold_reached "
                                                   "or resolved"})
    first_day = fields.Date()
    counted_days = fields.List(fields.Date())
    threshold_reached_at = LocalDateTime(allow_none=True)
    paused = fields.Function(lambda c: c.paused_at is not None)
    resolution = fields.String(allow_none=True)
    opened_at = LocalDateTime()
    resolved_at = LocalDateTime(allow_none=True)


class CaseList(Schema):
    items = fields.List(fields.Nested(CaseSummary))


class CaseOut(CaseSummary):
    rule_version = fields.String(allow_none=True)
    days = fields.List(fields.Nested(CaseDayOut))
    steps = fields.List(fields.Nested(StepOut))
    messages = fields.List(fields.Nested(MessageOut))
    replies = fields.List(fields.Nested(ReplyOut))
    todos = fields.List(fields.Nested(TodoOut))
    notes = fields.List(fields.Dict(), metadata={"description": "HR's notes: text, by (actor), at."})
    documents = fields.List(fields.Dict(), metadata={"description": "Issued notices, as GET /api/v1/documents/{id}."})
    dispatches = fields.List(fields.Dict(), metadata={"description": "Dispatches of the case's notices, each with "
                                                                     "`status`, `served_at`, `basis` and `events` "
                                                                     "(as GET /api/v1/dispatches/{id})."})
    termination = fields.Dict(allow_none=True, metadata={
        "description": "Once HR confirmed it: `confirmed_at`, `document_id` (the termination notice), "
                       "`effective_on` (its service date, null until served), `certificate_id`, `lagging`."})
    union = fields.Dict(metadata={"description": "The union procedure (《劳动合同法》第四十三条): `records` (notice, "
                                                 "opinion, reply) and `gate` (`holds`, `basis`, `reasons`, "
                                                 "`possible_from`)."})
    deadline = fields.Dict(metadata={"description": "The current notice's deadlines: `stated` (D), `effective` (null "
                                                    "while not served), `served_at`, `basis`, `why_not`, "
                                                    "`next_action`, `document_id`. Dates YYYY-MM-DD."})


class ReplyIn(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    channel = fields.String(load_default="api", validate=validate.OneOf(REPLY_CHANNELS))
    received_at = fields.DateTime(load_default=None,
                                       metadata={"description": "ISO-8601; defaults to now. No offset: company time."})


class DecisionIn(Schema):
    decision = fields.String(required=True, validate=validate.OneOf(decisions.DECISIONS), metadata={
        "description": "accept: the counted days become leave (with leave_type) or excused, and the case is "
                       "resolved; warn: the days stay counted, a written warning goes out, the case is resolved; "
                       "continue: the procedure resumes."})
    leave_type = fields.String(load_default=None, validate=validate.OneOf(LEAVE_TYPES),
                               metadata={"description": "With accept only: record the counted days as this leave."})
    note = fields.String(load_default="", validate=validate.Length(max=1000))
    days = fields.List(fields.Date(), load_default=None, validate=validate.Length(min=1, max=366), metadata={
        "description": "With accept only: the counted days the explanation covers (default: all). The "
                       "procedure goes on for the others; a threshold that no longer holds is withdrawn."})

    @validates_schema
    def _days_only_when_accepting(self, data, **_kwargs):
        if data.get("days") and data.get("decision") != "accept":
            raise ValidationError(_("Days go with “accept” only."), "days")

    @validates_schema
    def _leave_type_only_when_accepting(self, data, **_kwargs):
        if data.get("leave_type") and data.get("decision") != "accept":
            raise ValidationError(_("A leave type goes with “accept” only."), "leave_type")


def _case_detail(case: AbsenceCase) -> dict:
    messages = []
    for message, step, role in cases.case_messages([case.id])[case.id]:
        for delivery in message.deliveries:
            messages.append({"step": step, "channel": delivery.channel, "recipient_role": role,
                             "recipient": message.recipient.employee_no, "status": delivery.status,
                             "sent_at": delivery.sent_at, "delivered_at": delivery.delivered_at,
                             "read_at": delivery.read_at, "text": message.body})
    notes = [{"text": event.payload["text"], "by": event.actor, "at": local_iso(event.occurred_at)}
             for event in db.session.scalars(select(EvidenceEvent).where(
                 body_field("subject") == cases.subject(case.id), body_field("kind") == "absence.note")
                 .order_by(EvidenceEvent.seq))]
    return {**{name: getattr(case, name) for name in (
        "id", "employee", "state", "first_day", "counted_days", "threshold_reached_at", "paused_at", "resolution",
        "opened_at", "resolved_at", "rule_version", "days", "steps", "replies", "todos")},
        "messages": messages, "notes": notes, "documents": [document_out(d) for d in documents_of_case(case.id)],
        **_service_detail(case)}


def _service_detail(case: AbsenceCase) -> dict:
    from lms.api.service import DispatchOut, deadline_out, dispatch_out
    from lms.api.termination import termination_out
    from lms.api.union import UnionOut, union_out

    state = service.case_service(case)
    return {"dispatches": DispatchOut(many=True).dump([dispatch_out(d) for d in service.case_dispatches(case)]),
            "deadline": deadline_out(state), "union": UnionOut().dump(union_out(case)),
            "termination": termination_out(case)}


def case_or_404(case_id: int) -> AbsenceCase:
    case = db.session.get(AbsenceCase, case_id)
    if case is None:
        abort(404, _("No absence case %(id)s.", id=case_id))
    return case


class _Case:
    """Attribute access over the detail dict, so the summary schema's functions work on it too."""

    def __init__(self, data: dict):
        self.__dict__.update(data)


@blp.route("/cases")
class Cases(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.response(200, CaseList)
    @blp.alt_response(404, schema=ErrorResponse)
    @blp.doc(parameters=[{"name": "employee_no", "in": "query", "schema": {"type": "string"}},
                         {"name": "state", "in": "query", "schema": {"type": "string"}}])
    def get(self):
        """Cases, newest first: one employee's (employee_no), or all open ones (state=open), or all."""
        query = select(AbsenceCase).options(selectinload(AbsenceCase.employee), selectinload(AbsenceCase.days))
        employee_no = request.args.get("employee_no", "").strip()
        if employee_no:
            employee_id = db.session.scalar(select(Employee.id).where(Employee.employee_no == employee_no))
            if employee_id is None:
                return api_error(404, _("No employee has number %(no)s.", no=employee_no), field="employee_no")
            query = query.where(AbsenceCase.employee_id == employee_id)
        state = request.args.get("state", "").strip()
        if state == "open":
            query = query.where(AbsenceCase.state != "resolved")
        elif state:
            query = query.where(AbsenceCase.state == state)
        return {"items": db.session.scalars(query.order_by(AbsenceCase.opened_at.desc()).limit(500)).all()}


@blp.route("/cases/<int:case_id>")
class Case(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.response(200, CaseOut)
    @blp.alt_response(404, schema=ErrorResponse)
    def get(self, case_id: int):
        """One case: state, counted days, every step and message with its delivery, replies, to-dos."""
        case = case_or_404(case_id)
        return _Case(_case_detail(case))


@blp.route("/cases/<int:case_id>/replies")
class Replies(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.arguments(ReplyIn())
    @blp.response(201, ReplyOut)
    @blp.alt_response(404, schema=ErrorResponse)
    @blp.alt_response(409, schema=ErrorResponse)
    @blp.alt_response(422, schema=ErrorResponse)
    def post(self, data: dict, case_id: int):
        """Record the employee's reply: escalation pauses and HR decides."""
        case = case_or_404(case_id)
        if not case.is_open:
            return api_error(409, _("This case is already resolved."))
        try:
            return decisions.record_reply(case, data["text"], data["channel"], g.api_token,
                                      received_at=data["received_at"])
        except cases.CaseError as exc:
            return api_error(422, str(exc))


@blp.route("/cases/<int:case_id>/decisions")
class Decisions(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.arguments(DecisionIn())
    @blp.response(200, CaseOut)
    @blp.alt_response(404, schema=ErrorResponse)
    @blp.alt_response(409, schema=ErrorResponse, description="Resolved, nothing waiting for a decision, nothing "
                                                             "to warn about, or the leave overlaps other leave.")
    @blp.alt_response(422, schema=ErrorResponse)
    def post(self, data: dict, case_id: int):
        """HR's decision on a reply or a return, as on the case page; returns the case as it now stands."""
        case = case_or_404(case_id)
        try:
            decisions.decide(case, data["decision"], g.api_token, data["note"], leave_type=data["leave_type"],
                             days=data["days"])
        except cases.CaseError as exc:
            db.session.rollback()
            return api_error(409, str(exc))
        return _Case(_case_detail(db.session.get(AbsenceCase, case_id)))


# ---------------------------------------------------------------- monitoring


class MonitoringIn(Schema):
    started_on = fields.Date(required=True, metadata={
        "description": "The first day to watch (company-local). A day before today needs confirm_past and reason; "
                       "at most a year back or ahead.", "example": "2026-06-01"})
    confirm_past = JsonBoolean(load_default=False, metadata={
        "description": "true: started_on is in the past, and that is meant."})
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=cases.REASON_MAX),
                           metadata={"description": "Why monitoring starts on a past date (required with it)."})


class MonitoringOut(Schema):
    on = fields.Boolean(metadata={"description": "Whether absence monitoring is on."})
    started_on = fields.Date(allow_none=True)
    started_by = fields.String(allow_none=True, metadata={"description": "user:<id>, api-token:<id> or cli:<name>."})
    started_at = LocalDateTime(allow_none=True)
    confirm_past = fields.Boolean(metadata={"description": "Started on a past date, confirmed."})
    reason = fields.String(allow_none=True, metadata={"description": "Why it started on a past date."})
    closed_through = fields.Date(allow_none=True, metadata={
        "description": "The last day whose absences are all counted."})


def _monitoring_state() -> dict:
    row = cases.monitoring()
    if row is None:
        return {"on": False, "started_on": None, "started_by": None, "started_at": None, "confirm_past": False,
                "reason": None, "closed_through": None}
    return {"on": True, "started_on": row.started_on, "started_by": row.started_by, "started_at": row.started_at,
            "confirm_past": row.is_past_confirmed, "reason": row.past_reason, "closed_through": row.closed_through}


@blp.route("/monitoring")
class MonitoringState(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.response(200, MonitoringOut)
    def get(self):
        """Whether absence monitoring is on, since when, who switched it on, and how far days are counted."""
        return _monitoring_state()

    @blp.arguments(MonitoringIn())
    @blp.response(201, MonitoringOut)
    @blp.alt_response(409, schema=ErrorResponse, description="Monitoring is on already.")
    @blp.alt_response(422, schema=ErrorResponse, description="The date, the confirmation or the reason; `field` "
                                                             "names which.")
    def post(self, data: dict):
        """Switch absence monitoring on from a date (once). A past date needs confirm_past and a reason."""
        try:
            cases.start_monitoring(data["started_on"], g.api_token, confirm_past=data["confirm_past"],
                                   reason=data["reason"])
        except cases.MonitoringRefused as exc:
            return api_error(422, str(exc), field=exc.field, errors=[{"field": exc.field, "message": str(exc)}])
        except cases.MonitoringAlreadyOn as exc:
            return api_error(409, str(exc), field="started_on")
        return _monitoring_state()
