"""/api/v1/departments: the departments tree (each department's parent), read and re-parented."""

from __future__ import annotations

from flask import g
from flask.views import MethodView
from flask_babel import gettext as _
from marshmallow import Schema, fields
from sqlalchemy import select

from lms.api import Blueprint
from lms.api.auth import token_required
from lms.api.employees import ErrorResponse
from lms.extensions import db
from lms.people import departments
from lms.people.models import Department
from lms.ui import api_error

blp = Blueprint("api_departments", __name__, url_prefix="/api/v1/departments",
                description="The departments tree. Tokens with role hr or admin.")


class DepartmentOutput(Schema):
    name = fields.String()
    parent = fields.String(allow_none=True, metadata={"description": "The parent department's name."})
    depth = fields.Integer(metadata={"description": "0 for a top-level department."})


class DepartmentList(Schema):
    items = fields.List(fields.Nested(DepartmentOutput))


class ParentInput(Schema):
    parent = fields.String(required=True, allow_none=True,
                           metadata={"description": "An existing department's name, or null for top level."})


def _output(node: departments.Node) -> dict:
    return {"name": node.department.name, "parent": node.parent_name, "depth": node.depth}


@blp.route("")
class Departments(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.response(200, DepartmentList)
    def get(self):
        """Every department in tree order (parents before their sub-departments)."""
        return {"items": [_output(node) for node in departments.tree_order()]}


@blp.route("/<string:name>")
class DepartmentByName(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.arguments(ParentInput())
    @blp.response(200, DepartmentOutput)
    @blp.alt_response(404, schema=ErrorResponse)
    @blp.alt_response(422, schema=ErrorResponse, description="An unknown parent or one that makes a cycle.")
    def put(self, data, name: str):
        """Set a department's parent (null: top level). A cycle is refused, naming it; nothing changes."""
        department = db.session.scalars(select(Department).where(Department.name == name)).first()
        if department is None:
            return api_error(404, _("No department is named %(name)s.", name=name), field="name")
        try:
            departments.set_parent(department.id, data["parent"], actor=g.api_token)
        except departments.DepartmentTreeError as exc:
            errors = [{"field": f, "message": m} for f, m in exc.errors]
            return api_error(422, _("The department was not changed."), field="parent", errors=errors)
        node = next(n for n in departments.tree_order() if n.department.id == department.id)
        return _output(node)
