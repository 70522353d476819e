"""/api/v1/punches, /api/v1/leaves and /api/v1/rosters: attendance facts pushed by time clocks and HR systems."""

from __future__ import annotations

import hashlib
import json

from flask import g, request
from flask.views import MethodView
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lms.absence import leave as leave_service
from lms.absence import punches, rosters
from lms.absence.models import LEAVE_TYPES, Leave
from lms.api import Blueprint, RequiredInDocument
from lms.api.auth import token_required
from lms.api.employees import ErrorResponse
from lms.extensions import db
from lms.people.models import Employee
from lms.people.records import InvalidRecords
from lms.ui import api_error

blp = Blueprint("api_attendance", __name__, url_prefix="/api/v1",
                description="Punches, leave and rosters (SPEC §4). Tokens with role hr or admin.")


def _source(prefix: str) -> str:
    return f"{prefix}:{g.api_token.name}"[:40]


def _errors(exc: InvalidRecords) -> list[dict]:
    return [error.as_dict() for error in exc.errors]


class PunchInput(Schema):
    # Checked by the service, not here, so every row's problems come back together, each naming its row.
    employee_no = RequiredInDocument(metadata={"description": "The employee number.", "example": "E0013",
                                               "type": "string"})
    punched_at = RequiredInDocument(metadata={
        "description": "ISO 8601 with or without offset (without: company-local time, Asia/Shanghai); "
                       "also YYYY-MM-DD HH:MM[:SS] and YYYY/MM/DD HH:MM.",
        "example": "2026-06-15T08:56:12+08:00", "type": "string"})


class PunchBatchInput(Schema):
    punches = fields.List(fields.Nested(PunchInput), required=True,
                          validate=validate.Length(min=1, max=punches.MAX_API_BATCH),
                          metadata={"description": f"1 to {punches.MAX_API_BATCH} punches."})


class PunchBatchOutput(Schema):
    new = fields.Integer(metadata={"description": "Punches stored by this request."})
    duplicates = fields.Integer(metadata={"description": "Punches already stored, or repeated in the batch."})
    employees = fields.List(fields.String(), metadata={"description": "Employees with new punches."})
    days = fields.List(fields.Date(), metadata={"description": "Shift days with new punches: the local date, or the "
                                                                "previous day for a clock-out after midnight that "
                                                                "ends that day's shift."})


@blp.route("/punches")
class Punches(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.arguments(PunchBatchInput())
    @blp.response(201, PunchBatchOutput, description="At least one punch was new.")
    @blp.alt_response(200, schema=PunchBatchOutput, description="Every punch was stored already.")
    @blp.alt_response(422, schema=ErrorResponse,
                      description="Nothing was stored; every problem is listed, `row` 1 being the first punch.")
    def post(self, data):
        """Store a batch of punches, all or none. The same punch twice is stored once."""
        rows = [(number, item) for number, item in enumerate(data["punches"], start=1)]
        body_sha256 = hashlib.sha256(json.dumps(request.get_json(), sort_keys=True, ensure_ascii=False)
                                     .encode()).hexdigest()
        try:
            report = punches.save_punches(punches.PunchBatch(rows), source=_source("api"), actor=g.api_token,
                                          details={"request_sha256": body_sha256})
        except InvalidRecords as exc:
            errors = _errors(exc)
            return api_error(422, _("No punches were stored: %(n)s problem(s).", n=len(errors)),
                             field=errors[0]["field"], errors=errors)
        body = {"new": report.new, "duplicates": report.duplicates, "employees": list(report.employee_nos),
                "days": list(report.days)}
        return body, 201 if report.new else 200


class LeaveInput(Schema):
    employee_no = fields.String(required=True, metadata={"example": "E0013"})
    type = fields.String(required=True, validate=validate.OneOf(LEAVE_TYPES),
                         metadata={"description": "personal 事假, sick 病假, annual 年假, marriage 婚假, "
                                                  "maternity 产假, bereavement 丧假, other 其他, "
                                                  "business_trip 出差/外出, time_off_in_lieu 调休, work_injury 工伤, "
                                                  "detention 限制人身自由 (never 旷工)."})
    start = fields.Date(required=True, metadata={"description": "First day of leave.", "example": "2026-06-01"})
    end = fields.Date(required=True, metadata={"description": "Last day of leave (inclusive).",
                                               "example": "2026-06-14"})
    approved_by = fields.String(allow_none=True, validate=validate.Length(max=100), metadata={
        "description": "Who approved it: a name, or an employee number (stored as “name (number)”)."})
    note = fields.String(allow_none=True, validate=validate.Length(max=500))


class LeaveOutput(Schema):
    id = fields.Integer()
    employee_no = fields.Function(lambda leave: leave.employee.employee_no)
    type = fields.String()
    start = fields.Date(attribute="starts_on")
    end = fields.Date(attribute="ends_on")
    approved_by = fields.String(allow_none=True)
    note = fields.String(allow_none=True)
    source = fields.String()
    created_at = fields.DateTime()


class LeaveListArgs(Schema):
    employee_no = fields.String(required=True)


class LeaveList(Schema):
    items = fields.List(fields.Nested(LeaveOutput))


@blp.route("/leaves")
class Leaves(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.arguments(LeaveListArgs(), location="query")
    @blp.response(200, LeaveList)
    @blp.alt_response(404, schema=ErrorResponse)
    def get(self, args):
        """An employee's leave, earliest first."""
        employee_id = db.session.scalar(select(Employee.id).where(Employee.employee_no == args["employee_no"]))
        if employee_id is None:
            return api_error(404, _("No employee has number %(no)s.", no=args["employee_no"]), field="employee_no")
        items = db.session.scalars(select(Leave).where(Leave.employee_id == employee_id)
                                   .options(joinedload(Leave.employee)).order_by(Leave.starts_on, Leave.id)).all()
        return {"items": items}

    @blp.arguments(LeaveInput())
    @blp.response(201, LeaveOutput)
    @blp.alt_response(422, schema=ErrorResponse, description="Invalid fields; every problem is listed.")
    @blp.alt_response(409, schema=ErrorResponse, description="Overlaps stored leave; the message names it.")
    def post(self, data):
        """Record approved leave (whole days, start and end inclusive)."""
        try:
            leave = leave_service.record_leave(
                data["employee_no"], data["type"], data["start"], data["end"], data.get("approved_by"),
                data.get("note"), source=_source("api"), actor=g.api_token)
        except InvalidRecords as exc:
            errors = [{"field": e.field, "message": str(e.message)} for e in exc.errors]
            status = 409 if all(e.code == "overlap" for e in exc.errors) else 422
            return api_error(status, _("The leave was not recorded."), field=errors[0]["field"], errors=errors)
        return leave, 201


class RosterInput(Schema):
    # Checked by the service, not here, so every problem comes back together, each naming its field.
    employee_no = fields.Raw(metadata={"description": "The employee number (or give `shift_group`).",
                                       "example": "E0021", "type": "string"})
    shift_group = fields.Raw(metadata={"description": "Instead of `employee_no`: a shift group whose pattern is "
                                                      "roster; the roster applies to its members without their own.",
                                       "type": "string"})
    month = fields.Raw(metadata={"description": "Required. The month, YYYY-MM.", "example": "2026-06",
                                 "type": "string"})
    working_days = fields.Raw(metadata={
        "description": "Required. The working dates of that month (YYYY-MM-DD); every other date of the month is "
                       "a rest day. An empty list: no working day that month.",
        "example": ["2026-06-01", "2026-06-02", "2026-06-05"], "type": "array", "items": {"type": "string"}})


class RosterOutput(Schema):
    employee_no = fields.String(allow_none=True)
    shift_group = fields.String(allow_none=True)
    month = fields.String(metadata={"example": "2026-06"})
    working_days = fields.List(fields.Date())
    change = fields.String(metadata={"description": "created, replaced (the month's roster before is replaced "
                                                    "whole) or unchanged."})


@blp.route("/rosters")
class Rosters(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.arguments(RosterInput())
    @blp.response(201, RosterOutput, description="The roster was created or replaced.")
    @blp.alt_response(200, schema=RosterOutput, description="The same roster was stored already.")
    @blp.alt_response(404, schema=ErrorResponse, description="No employee (or shift group) by that name.")
    @blp.alt_response(422, schema=ErrorResponse, description="Nothing was stored; every problem is listed.")
    def post(self, data):
        """Put an employee on a roster for a month: these dates are working days, the month's others rest days.

        It overrides the employee's shift-group pattern for that month. With `shift_group` instead,
        the roster of a roster group for its members without their own.
        """
        try:
            saved = rosters.save_roster(data.get("month"), data.get("working_days"),
                                        employee_no=data.get("employee_no"), shift_group=data.get("shift_group"),
                                        source=_source("api"), actor=g.api_token)
        except InvalidRecords as exc:
            errors = _errors(exc)
            if all(e.code == "not_found" for e in exc.errors):
                return api_error(404, str(exc.errors[0].message), field=errors[0]["field"], errors=errors)
            return api_error(422, _("The roster was not saved: %(n)s problem(s).", n=len(errors)),
                             field=errors[0]["field"], errors=errors)
        body = {"employee_no": saved.label if saved.roster.employee_id else None,
                "shift_group": None if saved.roster.employee_id else saved.label,
                "month": f"{saved.roster.month:%Y-%m}", "working_days": list(saved.working_days),
                "change": saved.change}
        return body, 200 if saved.change == "unchanged" else 201
