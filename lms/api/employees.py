"""/api/v1/employees: list, read and create employees (SPEC §1)."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from lms.api import Blueprint, DecimalString
from lms.api.auth import token_required
from lms.extensions import ErrorResponse, db
from lms.people import services
from lms.people.models import EMPLOYMENT_STATUSES, JOB_FAMILIES, Department, Employee
from lms.people.records import InvalidEmployeeData
from lms.ui import api_error

blp = Blueprint("api_employees", __name__, url_prefix="/api/v1/employees",
                description="Employees (SPEC §1). Tokens with role hr or admin.")


class EmployeeInput(Schema):
    employee_no = fields.String(required=True, metadata={"example": "E1001"})
    name = fields.String(required=True, metadata={"example": "王芳"})
    department = fields.String(required=True, metadata={"description": "Created if it does not exist yet."})
    parent_department = fields.String(allow_none=True, metadata={
        "description": "The parent of this employee's department (created if it does not exist yet); "
                       "a parent that closes a cycle of departments is refused (422)."})
    hire_date = fields.Date(required=True)
    position = fields.String(allow_none=True)
    job_family = fields.String(allow_none=True, validate=validate.OneOf(JOB_FAMILIES))
    manager_no = fields.String(allow_none=True, metadata={"description": "The manager's employee number."})
    status = fields.String(allow_none=True, validate=validate.OneOf(EMPLOYMENT_STATUSES),
                           metadata={"description": "Defaults to onboarding."})
    mobile = fields.String(allow_none=True, metadata={"example": "13812345678"})
    email = fields.String(allow_none=True)
    household_address = fields.String(allow_none=True)
    contact_address = fields.String(allow_none=True)
    work_city = fields.String(allow_none=True)
    social_insurance_base = DecimalString(allow_none=True, places=2)
    monthly_wage = DecimalString(allow_none=True, places=2,
                                  metadata={"description": "The contract's monthly wage (应发), for unpaid days "
                                                           "and the final settlement."})
    prior_work_years = DecimalString(allow_none=True, places=1, metadata={
        "description": "Years worked before joining (0–60); with the service here they give the annual leave."})
    national_id = fields.String(allow_none=True, load_only=True,
                                metadata={"description": "Stored encrypted; returned masked."})


class EmployeeOutput(Schema):
    id = fields.Integer()
    employee_no = fields.String()
    name = fields.String()
    department = fields.Function(lambda e: e.department.name)
    parent_department = fields.Function(lambda e: e.department.parent.name if e.department.parent else None)
    position = fields.String(allow_none=True)
    job_family = fields.String(allow_none=True)
    manager_no = fields.Function(lambda e: e.manager.employee_no if e.manager else None)
    hire_date = fields.Date()
    status = fields.String(metadata={"description": "onboarding, active, termination_pending (a termination "
                                                    "confirmed, its notice not served yet) or terminated"})
    terminated_on = fields.Date(allow_none=True, metadata={"description": "The last day of employment."})
    mobile = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    household_address = fields.String(allow_none=True)
    contact_address = fields.String(allow_none=True)
    work_city = fields.String(allow_none=True)
    social_insurance_base = DecimalString(allow_none=True)
    monthly_wage = DecimalString(allow_none=True)
    prior_work_years = DecimalString(allow_none=True)
    national_id_masked = fields.Function(services.masked_national_id)


class EmployeeListArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))
    status = fields.String(validate=validate.OneOf((*EMPLOYMENT_STATUSES, "termination_pending")))
    department = fields.String()


class EmployeePage(Schema):
    items = fields.List(fields.Nested(EmployeeOutput))
    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()


def _with_relations():
    return select(Employee).options(joinedload(Employee.department), joinedload(Employee.manager))


@blp.route("")
class Employees(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.arguments(EmployeeListArgs(), location="query")
    @blp.response(200, EmployeePage)
    @blp.alt_response(401, schema=ErrorResponse)
    def get(self, args):
        """List employees, ordered by employee number."""
        query = _with_relations()
        if args.get("status"):
            query = query.where(Employee.status == args["status"])
        if args.get("department"):
            query = query.join(Employee.department).where(Department.name == args["department"])
        total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
        items = db.session.scalars(
            query.order_by(Employee.employee_no).limit(args["per_page"])
            .offset((args["page"] - 1) * args["per_page"])
        ).all()
        return {"items": items, "page": args["page"], "per_page": args["per_page"], "total": total}

    @blp.arguments(EmployeeInput())
    @blp.response(201, EmployeeOutput)
    @blp.alt_response(422, schema=ErrorResponse, description="Invalid fields; every problem is listed.")
    @blp.alt_response(409, schema=ErrorResponse, description="The employee number exists already.")
    def post(self, data):
        """Create an employee. A department that does not exist yet is created."""
        try:
            employee = services.create_employee(data, actor=g.api_token, source="api")
        except InvalidEmployeeData as exc:
            errors = [{"field": e.field, "message": str(e.message)} for e in exc.errors]
            status = 409 if all(e.code == "exists" for e in exc.errors) else 422
            return api_error(status, _("The employee was not created."), field=errors[0]["field"], errors=errors)
        return employee, 201, {"Location": f"/api/v1/employees/{employee.employee_no}"}


@blp.route("/<string:employee_no>")
class EmployeeByNumber(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.response(200, EmployeeOutput)
    @blp.alt_response(404, schema=ErrorResponse)
    def get(self, employee_no: str):
        """One employee by employee number."""
        employee = db.session.scalars(_with_relations().where(Employee.employee_no == employee_no)).first()
        if employee is None:
            return api_error(404, _("No employee has number %(no)s.", no=employee_no), field="employee_no")
        return employee
