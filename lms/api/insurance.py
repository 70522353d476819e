"""/api/v1: social insurance and pay (SPEC §6) — city rules, the stop and its filing, the final settlement and
the monthly payroll ledger. Tokens with role hr or admin. Money is a decimal string, never a float."""

from __future__ import annotations

from decimal import Decimal

from flask import Response, abort, g
from flask.views import MethodView
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from lms import clock
from lms.api import Blueprint, DecimalString, JsonBoolean
from lms.api.auth import token_required
from lms.api.employees import ErrorResponse
from lms.documents.models import StoredFile
from lms.extensions import db
from lms.insurance import cities, payroll, stop
from lms.insurance.cities import InsuranceError, NoCityRule
from lms.insurance.views import parse_month
from lms.people.models import Employee
from lms.ui import api_error

blp = Blueprint("api_insurance", __name__, url_prefix="/api/v1",
                description="Social insurance and pay (SPEC §6). Tokens with role hr or admin.")

# Percent from 0 to 100, and money below ten million yuan: the pattern says what the range checks.
RATE = {"allow_none": True, "validate": validate.Range(0, 100), "pattern": r"^(100(\.0+)?|[0-9]{1,2}(\.[0-9]+)?)$"}
MONEY = {"allow_none": True, "validate": validate.Range(0, 10_000_000, max_inclusive=False),
         "pattern": r"^[0-9]{1,7}(\.[0-9]+)?$"}


class ShareRates(Schema):
    employer = DecimalString(load_default=None, **RATE)
    personal = DecimalString(load_default=None, **RATE)


class Rates(Schema):
    pension = fields.Nested(ShareRates, load_default=dict)
    medical = fields.Nested(ShareRates, load_default=dict, metadata={"description": "Including maternity."})
    unemployment = fields.Nested(ShareRates, load_default=dict)
    work_injury = fields.Nested(ShareRates, load_default=dict, metadata={"description": "Employer's share only."})


class CityRuleIn(Schema):
    cutoff_day = fields.Integer(required=True, validate=validate.Range(1, 31))
    cutoff_inclusive = JsonBoolean(load_default=True, metadata={
        "description": "True: a change filed on the cut-off day itself still counts for that month."})
    rates = fields.Nested(Rates, load_default=dict, metadata={"description": "Percent of the base."})
    base_floor = DecimalString(load_default=None, **MONEY)
    base_ceiling = DecimalString(load_default=None, **MONEY)
    minimum_wage = DecimalString(load_default=None, **MONEY)
    source = fields.String(required=True, validate=validate.Length(min=1, max=1000))
    checked_on = fields.Date(load_default=None, metadata={"description": "Default: today."})
    valid_from = fields.Date(load_default=None, metadata={"description": "Default: today. Earlier rows stay."})


class CityRuleOut(Schema):
    city = fields.String()
    valid_from = fields.String()
    cutoff_day = fields.Integer()
    cutoff_inclusive = fields.Boolean()
    rates = fields.Dict(keys=fields.String(), values=fields.Dict(keys=fields.String(),
                                                                 values=fields.String(allow_none=True)))
    base_floor = fields.String(allow_none=True)
    base_ceiling = fields.String(allow_none=True)
    minimum_wage = fields.String(allow_none=True)
    source = fields.String()
    verified = fields.Boolean()
    checked_on = fields.String(allow_none=True)
    checked_by = fields.String(allow_none=True)
    warnings = fields.List(fields.String())


class StopOut(Schema):
    city = fields.String()
    policy = fields.String(metadata={"description": "pay_final_month or stop_before_cutoff (LMS_SI_POLICY)."})
    terminated_on = fields.String()
    last_paid_month = fields.String(metadata={"example": "2026-06"})
    stop_from = fields.String(metadata={"example": "2026-07"})
    filing_due = fields.String(metadata={"example": "2026-07-15"})
    filed_on = fields.String(allow_none=True)
    uninsured_days = fields.List(fields.String(), allow_none=True, metadata={
        "description": "[first, last] while still employed, under stop_before_cutoff."})
    months_charged_for_nobody = fields.List(fields.String())
    warnings = fields.List(fields.String())


class FilingIn(Schema):
    filed_on = fields.Date(required=True)
    receipt = fields.Integer(load_default=None, validate=validate.Range(1, 2**31 - 1), metadata={
        "description": "The id of the receipt's scan uploaded with POST /api/v1/files."})


class LineOut(Schema):
    kind = fields.String(metadata={"description": "wages, unpaid_absence, annual_leave, si_personal, "
                                                  "receivable_offset, deduction (ledger also: si_employer, "
                                                  "receivable_booked, final_settlement)"})
    label = fields.String()
    amount = fields.String(metadata={"example": "-1600.00", "description": "Negative: deducted from pay."})
    quantity = fields.String(allow_none=True)
    basis = fields.String()
    counts_to_pay = fields.Boolean()


class SettlementOut(Schema):
    employee_no = fields.String()
    terminated_on = fields.String(allow_none=True)
    lines = fields.List(fields.Nested(LineOut))
    total = fields.String()
    warnings = fields.List(fields.String())


class LossIn(Schema):
    # At least one fen, below ten million yuan.
    amount = DecimalString(required=True, validate=validate.Range(Decimal("0.01"), 10_000_000, max_inclusive=False),
                           pattern=r"^(0*[1-9][0-9]{0,6}(\.[0-9]+)?|0*\.(0[1-9]|[1-9])[0-9]*)$")
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))


class LedgerArgs(Schema):
    month = fields.String(required=True, metadata={"example": "2026-06"})
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))


class LedgerRowOut(LineOut):
    month = fields.String()
    employee_no = fields.String()
    name = fields.String()


class LedgerOut(Schema):
    month = fields.String()
    entries = fields.List(fields.Nested(LedgerRowOut))
    totals = fields.Dict(keys=fields.String(), values=fields.String())
    problems = fields.List(fields.Dict())


def _employee_or_404(employee_no: str) -> Employee:
    employee = db.session.scalar(select(Employee).where(Employee.employee_no == employee_no))
    if employee is None:
        abort(404, _("No employee has number %(no)s.", no=employee_no))
    return employee


@blp.route("/insurance/cities/<city>")
class CityRuleResource(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.response(200, CityRuleOut)
    @blp.alt_response(404, schema=ErrorResponse)
    def get(self, city: str):
        """The city's rule in force today (北京 and 北京市 are the same city)."""
        rows = cities.history(city)
        if not rows:
            return api_error(404, _("No social-insurance rule for the city “%(city)s”.", city=cities.normalise(city)))
        try:
            return cities.rule_out(cities.in_force(city, clock.today()))
        except NoCityRule:
            return cities.rule_out(rows[-1])  # every row starts later: the first one

    @blp.arguments(CityRuleIn())
    @blp.response(200, CityRuleOut)
    @blp.alt_response(422, schema=ErrorResponse)
    def put(self, data: dict, city: str):
        """A new row for the city from `valid_from`: entered and checked by HR (earlier rows stay as history)."""
        rates = {kind: {share: value for share, value in given.items()} for kind, given in data["rates"].items()}
        try:
            rule = cities.save_rule(city, {**data, "rates": rates}, g.api_token)
        except InsuranceError as exc:
            db.session.rollback()
            return api_error(422, str(exc), field=exc.field)
        return cities.rule_out(rule)


@blp.route("/employees/<employee_no>/social-insurance")
class SocialInsurance(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.response(200, StopOut)
    @blp.alt_response(404, schema=ErrorResponse)
    @blp.alt_response(409, schema=ErrorResponse, description="The employment has not ended, or the work city has no "
                                                               "rule (named).")
    def get(self, employee_no: str):
        """The stop: the last paid month, the stop-from month, the filing deadline, warnings."""
        try:
            return stop.compute(_employee_or_404(employee_no)).out()
        except InsuranceError as exc:
            return api_error(409, str(exc))


@blp.route("/employees/<employee_no>/social-insurance/filings")
class Filings(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.arguments(FilingIn())
    @blp.response(201, StopOut)
    @blp.alt_response(404, schema=ErrorResponse)
    @blp.alt_response(409, schema=ErrorResponse)
    @blp.alt_response(422, schema=ErrorResponse)
    def post(self, data: dict, employee_no: str):
        """Record the 减员 filing (its date, the receipt's scan): evidence; the filing to-do closes."""
        employee = _employee_or_404(employee_no)
        receipt = None
        if data["receipt"] is not None:
            receipt = db.session.get(StoredFile, data["receipt"])
            if receipt is None:
                return api_error(422, _("No uploaded file has id %(id)s.", id=data["receipt"]), field="receipt")
        try:
            stop.record_filing(employee, data["filed_on"], g.api_token, receipt)
        except InsuranceError as exc:
            db.session.rollback()
            return api_error(409 if exc.field is None else 422, str(exc), field=exc.field)
        return stop.compute(employee).out()


@blp.route("/employees/<employee_no>/settlement")
class SettlementResource(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.response(200, SettlementOut)
    @blp.alt_response(404, schema=ErrorResponse)
    @blp.alt_response(409, schema=ErrorResponse, description="Not ended, or a rule, wage or base missing (named).")
    def get(self, employee_no: str):
        """The final settlement: each line with its basis, and the total paid in one sum."""
        try:
            return payroll.settlement(_employee_or_404(employee_no)).out()
        except InsuranceError as exc:
            return api_error(409, str(exc), field=exc.field)


@blp.route("/employees/<employee_no>/losses")
class Losses(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.arguments(LossIn())
    @blp.response(201, SettlementOut)
    @blp.alt_response(404, schema=ErrorResponse)
    @blp.alt_response(422, schema=ErrorResponse)
    def post(self, data: dict, employee_no: str):
        """Claim a loss to deduct from the final pay (at most 20 % of the month's wage, never below the minimum
        wage). Returns the settlement when the employment has ended, else an empty one."""
        employee = _employee_or_404(employee_no)
        try:
            payroll.record_loss(employee, data["amount"], data["reason"], g.api_token)
        except InsuranceError as exc:
            db.session.rollback()
            return api_error(422, str(exc), field=exc.field)
        try:
            return payroll.settlement(employee).out()
        except InsuranceError:
            return {"employee_no": employee.employee_no, "terminated_on": None, "lines": [], "total": "0.00",
                    "warnings": []}


@blp.route("/payroll/ledger")
class LedgerResource(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.arguments(LedgerArgs(), location="query")
    @blp.response(200, LedgerOut, description="JSON, or with format=csv the CSV (UTF-8 with a BOM).")
    @blp.doc(responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}})
    @blp.alt_response(422, schema=ErrorResponse)
    def get(self, args: dict):
        """The month's ledger: every entry with its basis, totals per kind, and who could not be computed."""
        month = parse_month(args["month"])
        if month is None:
            return api_error(422, _("The month is written YYYY-MM, e.g. 2026-06."), field="month")
        book = payroll.ledger(month)
        if args["format"] == "csv":
            return Response(payroll.ledger_csv(book), content_type="text/csv; charset=utf-8", headers={
                "Content-Disposition": f"attachment; filename=payroll-ledger-{payroll.month_text(month)}.csv"})
        return {"month": payroll.month_text(month),
                "entries": [{"month": payroll.month_text(entry.month), "employee_no": employee.employee_no,
                             "name": employee.name, **entry.out()} for employee, entry in book.rows],
                "totals": {kind: str(total) for kind, total in book.totals().items()},
                "problems": [{"employee_no": employee.employee_no, "message": problem}
                             for employee, problem in book.problems]}
