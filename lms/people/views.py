"""Employee directory, employee records, the HR import page, departments and accounts."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from lms.evidence.models import EvidenceEvent, body_field
from lms.evidence.services import ref_id
from lms.extensions import db
from lms.inputs import db_int
from lms.paging import page_of
from lms.people import departments as department_tree
from lms.people import sensitive, services
from lms.people.access import get_employee_for, roles_required, visible_employees
from lms.people.forms import DepartmentParentForm, ImportForm, NewUserForm, RevealForm
from lms.people.models import EMPLOYMENT_STATUSES, Department, Employee, User
from lms.people.records import FIELDS, InvalidEmployeeData, read_employee_file

bp = Blueprint("people", __name__, url_prefix="/people")



@bp.get("/employees")
@login_required
def employees():
    """The employees the viewer may see, filterable, one page at a time."""
    query = visible_employees(current_user)
    search = request.args.get("q", "").strip()
    if search:
        like = f"%{search}%"
        query = query.where(or_(Employee.name.ilike(like), Employee.employee_no.ilike(like)))
    department_id = request.args.get("department", type=db_int)
    if department_id:
        query = query.where(Employee.department_id.in_(department_tree.subtree_of_id(department_id)))
    status = request.args.get("status", "")
    if status in EMPLOYMENT_STATUSES:
        query = query.where(Employee.status == status)
    rows, page, pages, total = page_of(query, request.args.get("page", 1, type=db_int),
                                       order_by=(Employee.employee_no,), scalars=True)
    departments = db.session.scalars(select(Department).order_by(Department.name)).all() \
        if current_user.sees_everyone else []
    return render_template(
        "people/employees.html", employees=rows, total=total, page=page,
        pages=pages, search=search,
        department_id=department_id, status=status, departments=departments,
        statuses=EMPLOYMENT_STATUSES, mask_mobile=not _sees_contact_details(),
        mask=sensitive.mask_mobile,
    )


def _sees_contact_details() -> bool:
    """HR and managers need phone numbers to reach people; admins manage accounts, not people."""
    return current_user.role in ("hr", "manager")


@bp.get("/me")
@login_required
def me():
    if current_user.employee_id is None:
        abort(404)
    return redirect(url_for("people.employee", employee_id=current_user.employee_id))


@bp.get("/employees/<int:employee_id>")
@login_required
def employee(employee_id: int):
    person = get_employee_for(current_user, employee_id)
    return _render_employee(person, revealed=None)


@bp.post("/employees/<int:employee_id>/national-id")
@roles_required("hr")
def reveal_national_id(employee_id: int):
    """Show HR the full national ID number once, recording who saw it."""
    person = get_employee_for(current_user, employee_id)
    if not RevealForm().validate_on_submit():
        abort(400)
    number = services.reveal_national_id(
        current_user, person, request.remote_addr, request.headers.get("User-Agent")
    )
    return _render_employee(person, revealed=number)


def _render_employee(person: Employee, revealed: str | None):
    reports = db.session.scalars(
        select(Employee).where(Employee.manager_id == person.id).order_by(Employee.employee_no)
    ).all()
    is_self = person.id == current_user.employee_id
    show_contact = is_self or _sees_contact_details()
    # Training and absence live in higher domains that import people: read where used.
    from lms.absence.case_views import labels as case_labels
    from lms.absence.models import AbsenceCase
    from lms.exams.record import training_record

    absence_cases = db.session.scalars(
        select(AbsenceCase).where(AbsenceCase.employee_id == person.id)
        .options(selectinload(AbsenceCase.days)).order_by(AbsenceCase.opened_at.desc())
    ).all() if current_user.role in ("hr", "admin", "manager") else []
    return render_template(
        "people/employee.html", person=person, reports=reports, revealed=revealed,
        masked_id=services.masked_national_id(person), reveal_form=RevealForm(),
        show_contact=show_contact, mask=sensitive.mask_mobile,
        training=training_record(person.id), absence_cases=absence_cases, case_labels=case_labels(),
    )


@bp.route("/import", methods=["GET", "POST"])
@roles_required("hr", "admin")
def import_employees():
    """Upload a roster; every problem is listed, and nothing is saved unless all rows are valid."""
    form = ImportForm()
    errors = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            records = read_employee_file(upload.filename, upload.read())
            report = services.save_employees(records, actor=current_user, source=f"upload:{upload.filename}")
        except InvalidEmployeeData as exc:
            errors = exc.errors
        else:
            flash(_("Imported: %(created)s new, %(updated)s updated.", created=report.created,
                    updated=report.updated), "success")
            return redirect(url_for("people.employees"))
    status = 422 if errors else (400 if form.errors else 200)
    return render_template("people/import.html", form=form, errors=errors, fields=FIELDS), status


@bp.route("/departments", methods=["GET", "POST"])
@roles_required("hr", "admin")
def departments():
    """The departments tree with headcounts; HR places a department under another (no cycles)."""
    nodes = department_tree.tree_order()
    form = DepartmentParentForm()
    form.department.choices = [(str(n.department.id), n.department.name) for n in nodes]
    form.parent.choices = [("", _("— none (top level) —")), *[(n.department.name, n.department.name) for n in nodes]]
    status = 200
    if form.validate_on_submit():
        try:
            department_tree.set_parent(int(form.department.data), form.parent.data or None, actor=current_user)
        except department_tree.DepartmentTreeError as exc:
            form.parent.errors = [message for _field, message in exc.errors]
        else:
            flash(_("Department saved."), "success")
            return redirect(url_for("people.departments"))
    if request.method == "POST":
        status = 422
    counts = dict(db.session.execute(select(Employee.department_id, func.count(Employee.id))
                                     .group_by(Employee.department_id)).all())
    below = department_tree.descendants(nodes)
    rows = [(n, counts.get(n.department.id, 0), sum(counts.get(i, 0) for i in below[n.department.id]))
            for n in nodes]
    return render_template("people/departments.html", rows=rows, form=form), status


@bp.get("/sensitive-views")
@roles_required("hr", "admin")
def sensitive_views():
    """Every display of a full national ID number, newest first, read from the evidence log."""
    events = db.session.scalars(
        select(EvidenceEvent).where(body_field("kind") == services.NATIONAL_ID_VIEWED)
        .order_by(EvidenceEvent.seq.desc()).limit(500)
    ).all()
    viewer_ids = [ref_id(event.actor, "user") for event in events]
    employee_ids = [ref_id(event.subject, "employee") for event in events]
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(set(viewer_ids))))}
    people = {p.id: p for p in db.session.scalars(select(Employee).where(Employee.id.in_(set(employee_ids))))}
    rows = [(event, users.get(viewer), people.get(person))
            for event, viewer, person in zip(events, viewer_ids, employee_ids, strict=True)]
    return render_template("people/sensitive_views.html", rows=rows)


@bp.route("/accounts", methods=["GET", "POST"])
@roles_required("admin")
def accounts():
    """Admins list and create sign-in accounts."""
    form = NewUserForm()
    status = 200
    if form.validate_on_submit():
        employee_id = None
        taken = db.session.scalar(select(User.id).where(User.username == form.username.data.strip()))
        if taken:
            form.username.errors.append(_("This username is taken."))
        if form.employee_no.data:
            person = db.session.scalars(
                select(Employee).options(joinedload(Employee.user))
                .where(Employee.employee_no == form.employee_no.data.strip())
            ).first()
            if person is None:
                form.employee_no.errors.append(_("No employee has this number."))
            elif person.user is not None:
                form.employee_no.errors.append(_("This employee already has an account."))
            else:
                employee_id = person.id
        if not form.errors:
            services.create_user(form.username.data, form.password.data, form.role.data, employee_id)
            flash(_("Account %(name)s created.", name=form.username.data), "success")
            return redirect(url_for("people.accounts"))
    if form.errors:
        status = 422
    users = db.session.scalars(
        select(User).options(joinedload(User.employee)).order_by(User.username)
    ).all()
    return render_template("people/accounts.html", form=form, users=users), status
