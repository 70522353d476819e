"""/api/v1: campaigns (create, preview, launch, read, list), assignments by managers and HR, and the
yearly compliance record."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from lms import clock
from lms.api import Blueprint
from lms.api.auth import _bearer, _unauthorised, token_required
from lms.api.employees import ErrorResponse
from lms.campaigns import reminders, reports, services
from lms.campaigns.models import CAMPAIGN_KINDS, Campaign
from lms.campaigns.templates import period_of
from lms.extensions import db
from lms.people.access import can_see_employee
from lms.people.models import Employee
from lms.ui import api_error

blp = Blueprint("api_campaigns", __name__, url_prefix="/api/v1",
                description="Refresher and annual campaigns, assignments by managers and HR, and the yearly "
                            "leave-procedure compliance record (SPEC §3).")


class RuleIn(Schema):
    job_family = fields.String(load_default=None)
    department = fields.String(load_default=None)
    position = fields.String(load_default=None)
    tenure_months_min = fields.Integer(load_default=None, validate=validate.Range(min=0, max=1200))
    tenure_months_max = fields.Integer(load_default=None, validate=validate.Range(min=0, max=1200))
    course = fields.String(required=True)
    exam = fields.String(required=True)


class CampaignIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    kind = fields.String(required=True, validate=validate.OneOf(CAMPAIGN_KINDS))
    launch_on = fields.Date(required=True)
    due_on = fields.Date(required=True)
    rules = fields.List(fields.Nested(RuleIn), required=True, validate=validate.Length(min=1))
    min_window_days = fields.Integer(load_default=30, validate=validate.Range(min=0, max=365))
    remind_days_before = fields.Integer(load_default=3, validate=validate.Range(min=0, max=60))
    grace_days = fields.Integer(load_default=5, validate=validate.Range(min=0, max=60))
    retest_extra = fields.Integer(load_default=1, validate=validate.Range(min=0, max=10))


class CampaignListArgs(Schema):
    kind = fields.String(load_default=None, validate=validate.OneOf(CAMPAIGN_KINDS))
    quarter = fields.String(load_default=None, validate=validate.Regexp(r"^\d{4}Q[1-4]$"),
                            metadata={"description": "Campaigns launching in this quarter, e.g. 2026Q4."})


class AssignmentIn(Schema):
    course = fields.String(required=True)
    exam = fields.String(required=True)
    due_on = fields.Date(required=True)


class YearArgs(Schema):
    year = fields.Integer(load_default=None, validate=validate.Range(min=2000, max=2100))


def _errors(exc: services.CampaignError, message: str):
    errors = [{"field": f, "message": m} for f, m in exc.errors]
    return api_error(422, message, field=errors[0]["field"], errors=errors)


def campaign_summary(campaign: Campaign) -> dict:
    return {"id": campaign.id, "name": campaign.name, "kind": campaign.kind, "state": campaign.state,
            "template": campaign.template_slug, "period": campaign.period,
            "launch_on": campaign.launch_on.isoformat(), "due_on": campaign.due_on.isoformat(),
            "launched_at": campaign.launched_at.isoformat() if campaign.launched_at else None,
            "assignments_sha256": campaign.assignments_sha256,
            "rules": [services.rule_payload(r) for r in campaign.rules]}


def campaign_detail(campaign: Campaign) -> dict:
    today = clock.today()
    found = reports.rows(campaign_id=campaign.id)
    sent = reminders.reminders_of([r.assignment.id for r in found])
    return {**campaign_summary(campaign), "counts": reports.counts(found, today), "assignments": [{
        "employee_no": r.employee_no, "rule": r.assignment.rule_position, "course": r.assignment.course_slug,
        "exam": r.assignment.exam_slug, "due_on": r.assignment.due_on.isoformat(), "status": r.status(today),
        "passed_first_try": r.first_try,
        "reminders": [{"step": m.step, "sent_at": clock.local(m.sent_at).isoformat(),
                       "recipient_role": m.recipient_role} for m in sent.get(r.assignment.id, [])]}
        for r in found]}


def _campaign_or_404(campaign_id: int):
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        return None, api_error(404, _("There is no such campaign."), field="id")
    return campaign, None


@blp.route("/campaigns")
class Campaigns(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.arguments(CampaignListArgs(), location="query")
    @blp.response(200)
    def get(self, args):
        """Campaigns, newest launch first; `kind` and `quarter` (2026Q4: launching in it) filter."""
        query = select(Campaign).order_by(Campaign.launch_on.desc(), Campaign.id.desc())
        if args.get("kind"):
            query = query.where(Campaign.kind == args["kind"])
        items = list(db.session.scalars(query))
        if args.get("quarter"):
            items = [c for c in items if period_of(c.launch_on, "quarter")[0] == args["quarter"]]
        return {"items": [campaign_summary(c) for c in items]}

    @blp.arguments(CampaignIn())
    @blp.response(201)
    @blp.alt_response(422, schema=ErrorResponse, description="Invalid fields; every problem is listed.")
    def post(self, data):
        """Create a draft campaign; preview it, then launch it."""
        try:
            campaign = services.create_campaign(data, actor=g.api_token)
        except services.CampaignError as exc:
            return _errors(exc, _("The campaign was not created."))
        return campaign_summary(campaign), 201, {"Location": f"/api/v1/campaigns/{campaign.id}"}


@blp.route("/campaigns/<int:campaign_id>")
class CampaignById(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.response(200)
    @blp.alt_response(404, schema=ErrorResponse)
    def get(self, campaign_id: int):
        """The campaign, its counts, and each assignment with its status and the reminders sent."""
        campaign, error = _campaign_or_404(campaign_id)
        return error or campaign_detail(campaign)


@blp.route("/campaigns/<int:campaign_id>/preview")
class CampaignPreview(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.response(200)
    @blp.alt_response(404, schema=ErrorResponse)
    def get(self, campaign_id: int):
        """Who would get what if the campaign launched now: assignments, counts per rule, unmatched."""
        campaign, error = _campaign_or_404(campaign_id)
        if error:
            return error
        found = services.preview(campaign)
        return {**found, "counts": {str(k): v for k, v in found["counts"].items()}}


@blp.route("/campaigns/<int:campaign_id>/launch")
class CampaignLaunch(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.response(200)
    @blp.alt_response(404, schema=ErrorResponse)
    @blp.alt_response(409, schema=ErrorResponse, description="Launched already.")
    def post(self, campaign_id: int):
        """Launch: enrol everyone the rules pick, with the due date (one evidence event)."""
        campaign, error = _campaign_or_404(campaign_id)
        if error:
            return error
        try:
            campaign = services.launch(campaign.id, actor=g.api_token)
        except services.CampaignStateError:
            return api_error(409, _("This campaign has been launched already."), field="state")
        return campaign_detail(campaign)


def _token_for_people(*roles):
    """An integration token of HR or admin, or a personal token whose role is among `roles`."""

    def decorator(view):
        def wrapped(*args, **kwargs):
            token = _bearer()
            if token is None:
                return _unauthorised()
            if token.role not in roles:
                return api_error(403, _("This token's role may not use this endpoint."))
            g.api_token = token
            return view(*args, **kwargs)

        wrapped.__name__ = view.__name__
        wrapped.__doc__ = view.__doc__
        wrapped.allowed_roles = roles
        return wrapped

    return decorator


def _employee_for_token(employee_no: str, *, reports_only: bool):
    """The employee if the token may act on them: HR and admins anyone; a manager's personal token
    only their reports (at any depth) — anyone else is a 404, as if they did not exist."""
    employee = db.session.scalars(select(Employee).where(Employee.employee_no == employee_no)).first()
    token = g.api_token
    if employee is not None and token.user is not None and token.role not in ("hr", "admin"):
        visible = can_see_employee(token.user, employee.id)
        if not visible or (reports_only and employee.id == token.user.employee_id):
            employee = None
    if employee is None:
        return None, api_error(404, _("No employee has number %(no)s.", no=employee_no), field="employee_no")
    return employee, None


@blp.route("/employees/<string:employee_no>/assignments")
class EmployeeAssignments(MethodView):
    decorators = [_token_for_people("manager", "hr", "admin")]

    @blp.arguments(AssignmentIn())
    @blp.response(201)
    @blp.alt_response(404, schema=ErrorResponse, description="No such employee, or not the manager's report.")
    @blp.alt_response(422, schema=ErrorResponse)
    def post(self, data, employee_no: str):
        """Assign a refresher (a published course and exam, with a due date) to one employee."""
        employee, error = _employee_for_token(employee_no, reports_only=True)
        if error:
            return error
        source = "manager" if g.api_token.role == "manager" else "hr"
        actor = g.api_token.user or g.api_token
        try:
            ids = services.assign([employee.id], data["course"], data["exam"], data["due_on"], actor, source=source)
        except services.CampaignError as exc:
            return _errors(exc, _("Nothing was assigned."))
        return {"id": ids[0], "employee_no": employee.employee_no, "course": data["course"], "exam": data["exam"],
                "due_on": data["due_on"].isoformat(), "status": "assigned", "source": source}, 201

    @blp.response(200)
    @blp.alt_response(404, schema=ErrorResponse)
    def get(self, employee_no: str):
        """Every refresher cycle of the employee, newest first: history is never overwritten."""
        employee, error = _employee_for_token(employee_no, reports_only=False)
        if error:
            return error
        today = clock.today()
        return {"items": [{"id": a.id, "campaign_id": a.campaign_id, "source": a.source, "course": a.course_slug,
                           "exam": a.exam_slug, "due_on": a.due_on.isoformat(), "status": a.status(today),
                           "completed_at": clock.local(a.completed_at).isoformat() if a.completed_at else None}
                          for a in services.assignments_of(employee.id)]}


@blp.route("/employees/<string:employee_no>/compliance")
class EmployeeCompliance(MethodView):
    decorators = [_token_for_people("manager", "hr", "admin")]

    @blp.arguments(YearArgs(), location="query")
    @blp.response(200)
    @blp.alt_response(404, schema=ErrorResponse)
    def get(self, args, employee_no: str):
        """The yearly leave-procedure compliance record (default: this year), for performance reviews."""
        employee, error = _employee_for_token(employee_no, reports_only=True)
        if error:
            return error
        year = args.get("year") or clock.today().year
        return {"employee_no": employee.employee_no, **reports.compliance(employee.id, year)}

