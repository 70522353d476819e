"""Who may see whom. Views and API routes load people only through these helpers.

An employee sees themself, a manager their reports at every level below them, HR and
admins everyone. Anything else is a 404, so an outsider cannot even learn that a record
exists.
"""

from __future__ import annotations

from functools import wraps

from flask import abort
from flask_login import current_user, login_required
from sqlalchemy import Select, literal, select, true
from sqlalchemy.orm import joinedload

from lms.extensions import db
from lms.people.models import Employee, User


def report_ids_cte(manager_employee_id: int):
    """A recursive CTE of the ids of everyone below a manager, at any depth."""
    tree = (
        select(Employee.id.label("id"))
        .where(Employee.manager_id == manager_employee_id)
        .cte("reports", recursive=True)
    )
    below = select(Employee.id).join(tree, Employee.manager_id == tree.c.id)
    return tree.union(below)


def visible_employees(user: User) -> Select:
    """A SELECT of the employees `user` may see (department and manager loaded with them)."""
    query = select(Employee).options(joinedload(Employee.department), joinedload(Employee.manager))
    if user.sees_everyone:
        return query.where(true())
    if user.employee_id is None:
        return query.where(literal(False))
    if user.role == "manager":
        reports = report_ids_cte(user.employee_id)
        return query.where(
            (Employee.id == user.employee_id) | Employee.id.in_(select(reports.c.id))
        )
    return query.where(Employee.id == user.employee_id)


def can_see_employee(user: User, employee_id: int) -> bool:
    if user.sees_everyone or employee_id == user.employee_id:
        return True
    if user.role != "manager" or user.employee_id is None:
        return False
    reports = report_ids_cte(user.employee_id)
    return db.session.execute(select(reports.c.id).where(reports.c.id == employee_id)).first() is not None


def get_employee_for(user: User, employee_id: int) -> Employee:
    """The employee if `user` may see them, else 404 (department and manager loaded with them: every page shows
    them)."""
    employee = db.session.get(Employee, employee_id,
                              options=[joinedload(Employee.department), joinedload(Employee.manager)])
    if employee is None or not can_see_employee(user, employee_id):
        abort(404)
    return employee


def roles_required(*roles: str):
    """A signed-in user with one of `roles`, else 403 (401 → login when signed out)."""

    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if current_user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles
        return wrapped

    return decorator


def hr_employee_ids(exclude: int | None = None) -> list[int]:
    """The employee ids of the HR officers who receive HR's messages (an inbox belongs to an employee):
    enabled HR accounts linked to someone who still works here; `exclude` leaves one out (the subject
    of the message, when HR is themselves the one absent)."""
    return [employee_id for employee_id in db.session.scalars(
        select(User.employee_id).join(Employee, Employee.id == User.employee_id)
        .where(User.role == "hr", User.is_enabled.is_(True), Employee.status != "terminated")
        .order_by(User.employee_id)) if employee_id != exclude]
