"""HR's absence inputs: the working-day calendar, punches, leave, shift groups and rosters."""

from __future__ import annotations

import re
from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from sqlalchemy import select
from sqlalchemy.orm import contains_eager
from wtforms import (
    BooleanField,
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from lms import clock
from lms.absence import calendar, leave, punches, rosters, schedules, workdays
from lms.absence.models import Leave, Punch, ShiftAssignment, ShiftGroup
from lms.extensions import db
from lms.forms import DateInput
from lms.inputs import db_int
from lms.paging import page_of
from lms.people.access import roles_required
from lms.people.models import Employee
from lms.people.records import InvalidRecords
from lms.ui import current_locale

bp = Blueprint("absence", __name__, url_prefix="/absence", template_folder="templates")


class OverrideForm(FlaskForm):
    day = DateInput(_l("Date"), validators=[DataRequired()])
    kind = SelectField(_l("This date is"), choices=[SelectChoice("workday", _l("a working day")),
                                                    SelectChoice("rest", _l("a rest day"))])
    name = StringField(_l("Why (e.g. 春节调休)"), validators=[DataRequired(), Length(max=80)])


class YearForm(FlaskForm):
    source = StringField(_l("Notice (e.g. 国办发明电〔2026〕X号)"), validators=[DataRequired(), Length(max=200)])
    notice = TextAreaField(_l("Dates, one per line"), validators=[DataRequired(), Length(max=20000)])


@bp.route("/calendar", methods=["GET", "POST"])
@roles_required("hr", "admin")
def calendar_page():
    year = request.args.get("year", type=db_int) or clock.today().year
    if not 2000 <= year <= 2100:
        abort(404)
    override_form, year_form = OverrideForm(prefix="one"), YearForm(prefix="year")
    year_problems: list[tuple[int, str]] = []
    if request.method == "POST":
        if request.form.get("action") == "override" and override_form.validate_on_submit():
            calendar.set_override(override_form.day.data, override_form.kind.data == "workday",
                                  override_form.name.data, current_user)
            flash(_("Saved."), "success")
            return redirect(url_for("absence.calendar_page", year=override_form.day.data.year))
        if request.form.get("action") == "year" and year_form.validate_on_submit():
            try:
                count = calendar.enter_year(year, year_form.notice.data, year_form.source.data, current_user)
            except calendar.YearError as exc:
                year_problems = exc.problems
            else:
                flash(_("%(n)s dates of %(year)s entered.", n=count, year=year), "success")
                return redirect(url_for("absence.calendar_page", year=year))
    days = [date(year, 1, 1) + timedelta(days=n) for n in range((date(year, 12, 31) - date(year, 1, 1)).days + 1)]
    infos = calendar.classify(days)
    special = [info for info in infos.values() if info.kind != calendar.UNKNOWN
               and (info.is_workday != (info.day.weekday() < 5) or info.source == "override")]
    unknown = sum(1 for info in infos.values() if info.kind == calendar.UNKNOWN)
    status = 422 if (year_problems or override_form.errors or year_form.errors) else 200
    return render_template("absence/calendar.html", year=year, special=special, unknown=unknown,
                           override_form=override_form, year_form=year_form, year_problems=year_problems,
                           locale=current_locale(), day_name=calendar.day_name), status


# ---------------------------------------------------------------- punches, leave, shift groups

_UPLOAD = [FileRequired(), FileAllowed(["csv", "xlsx"], _l("Upload a .csv or .xlsx file."))]


class PunchUploadForm(FlaskForm):
    file = FileField(_l("Time-clock export (.csv or .xlsx)"), validators=_UPLOAD)
    layout = SelectField(_l("Layout"), choices=[
        SelectChoice("auto", _l("Recognise from the column headings")),
        SelectChoice("generic", _l("Generic: employee_no, punched_at")),
        SelectChoice("dingtalk", _l("DingTalk 原始记录 export"))], default="auto")


@bp.route("/punches", methods=["GET", "POST"])
@roles_required("hr", "admin")
def punches_page():
    """Upload a time-clock export (all rows or none) and look through the punches stored."""
    form = PunchUploadForm()
    errors = None
    if form.validate_on_submit():
        upload = form.file.data
        try:
            report = punches.import_punch_file(upload.filename, upload.read(), layout=form.layout.data,
                                               actor=current_user)
        except InvalidRecords as exc:
            errors = exc.errors
        else:
            flash(_("Imported %(file)s: %(new)s new punches of %(employees)s employees, %(duplicates)s already "
                    "stored or repeated, %(skipped)s rows without a punch skipped.", file=upload.filename,
                    new=report.new, employees=len(report.employee_ids), duplicates=report.duplicates,
                    skipped=report.skipped), "success")
            return redirect(url_for("absence.punches_page"))
    employee_no = request.args.get("employee_no", "").strip()
    query = select(Punch, Employee.employee_no, Employee.name).join(Employee, Employee.id == Punch.employee_id)
    if employee_no:
        query = query.where(Employee.employee_no == employee_no)
    rows, page, pages, total = page_of(query, request.args.get("page", 1, type=db_int),
                                       order_by=(Punch.punched_at.desc(), Punch.id.desc()))
    status = 422 if errors else (400 if form.errors else 200)
    return render_template("absence/punches.html", form=form, errors=errors, rows=rows, page=page, pages=pages,
                           total=total, employee_no=employee_no, headings=punches.HEADINGS), status


class LeaveForm(FlaskForm):
    employee_no = StringField(_l("Employee number"), validators=[DataRequired(), Length(max=32)])
    type = SelectField(_l("Type"), choices=[SelectChoice(code, label)
                                            for code, label in leave.LEAVE_TYPE_LABELS.items()])
    start = DateInput(_l("First day"), validators=[DataRequired()])
    end = DateInput(_l("Last day (inclusive)"), validators=[DataRequired()])
    approved_by = StringField(_l("Approved by (a name or an employee number)"),
                              validators=[Optional(), Length(max=100)])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class LeaveUploadForm(FlaskForm):
    file = FileField(_l("Leave file (.csv or .xlsx)"), validators=_UPLOAD)


class CancelLeaveForm(FlaskForm):
    reason = StringField(_l("Why it is removed"), validators=[DataRequired(), Length(max=500)])


@bp.route("/leave", methods=["GET", "POST"])
@roles_required("hr", "admin")
def leave_page():
    """Approved leave: the list, one leave entered by hand, or a whole file (all rows or none)."""
    one, upload_form = LeaveForm(prefix="one"), LeaveUploadForm(prefix="file")
    file_errors = None
    action = request.form.get("action")
    if action == "one" and one.validate_on_submit():
        try:
            saved = leave.record_leave(one.employee_no.data.strip(), one.type.data, one.start.data, one.end.data,
                                       one.approved_by.data, one.note.data, source="page", actor=current_user)
        except InvalidRecords as exc:
            for error in exc.errors:
                target = one[error.field] if error.field in one else one.employee_no
                target.errors.append(error.message)
        else:
            flash(_("Leave #%(id)s recorded.", id=saved.id), "success")
            return redirect(url_for("absence.leave_page", employee_no=saved.employee.employee_no))
    elif action == "file" and upload_form.validate_on_submit():
        upload = upload_form.file.data
        try:
            saved = leave.import_leave_file(upload.filename, upload.read(), actor=current_user)
        except InvalidRecords as exc:
            file_errors = exc.errors
        else:
            flash(_("Imported %(file)s: %(n)s leave records.", file=upload.filename, n=len(saved)), "success")
            return redirect(url_for("absence.leave_page"))
    employee_no = request.args.get("employee_no", "").strip()
    query = select(Leave).join(Leave.employee).options(contains_eager(Leave.employee))
    if employee_no:
        query = query.where(Employee.employee_no == employee_no)
    rows, page, pages, total = page_of(query, request.args.get("page", 1, type=db_int),
                                       order_by=(Leave.starts_on.desc(), Leave.id.desc()), scalars=True)
    invalid = file_errors or (action == "one" and one.errors) or (action == "file" and upload_form.errors)
    return render_template(
        "absence/leave.html", one=one, upload_form=upload_form, file_errors=file_errors,
        rows=rows, page=page, pages=pages, total=total, employee_no=employee_no, type_label=leave.type_label,
        headings=leave.HEADINGS, type_aliases=leave.TYPE_ALIASES,
    ), 422 if invalid else 200


@bp.post("/leave/<int:leave_id>/cancel")
@roles_required("hr", "admin")
def cancel_leave(leave_id: int):
    """Remove a leave entered in error; the evidence log keeps it and the reason."""
    form = CancelLeaveForm()
    if not form.validate_on_submit():
        flash(_("Give the reason for removing the leave."), "error")
        return redirect(url_for("absence.leave_page")), 303
    try:
        to_review = leave.cancel_leave(leave_id, form.reason.data, actor=current_user)
    except InvalidRecords:
        abort(404)
    flash(_("Leave #%(id)s removed.", id=leave_id), "success")
    if to_review:
        flash(_("Case %(cases)s was closed on the strength of this leave and stays closed: look at it again.",
                cases=", ".join(f"#{case_id}" for case_id in to_review)), "warning")
    return redirect(url_for("absence.leave_page")), 303


class ShiftGroupForm(FlaskForm):
    group_id = HiddenField()
    name = StringField(_l("Group name"), validators=[DataRequired(), Length(max=80)])
    starts_at = TimeField(_l("Starts at"), validators=[DataRequired()])
    ends_at = TimeField(_l("Ends at (same day)"), validators=[DataRequired()])
    is_default = BooleanField(_l("Default: everyone without a group works these hours"))
    pattern = SelectField(_l("Working days"), choices=[SelectChoice(code, label)
                                                       for code, label in schedules.PATTERN_LABELS.items()],
                          default="calendar")
    weekdays = SelectMultipleField(_l("Weekdays worked (fixed weekdays)"),
                                   choices=[SelectChoice(d, label) for d, label in schedules.WEEKDAY_LABELS.items()],
                                   default=list("12345"), widget=ListWidget(prefix_label=False),
                                   option_widget=CheckboxInput())
    observes_holidays = BooleanField(_l("Public holidays are rest days (fixed weekdays)"), default=True)


class AssignForm(FlaskForm):
    group = SelectField(_l("Shift group"))
    employee_nos = TextAreaField(_l("Employee numbers, one per line or separated by commas"),
                                 validators=[DataRequired(), Length(max=50_000)])


_NUMBER_SEPARATORS = re.compile(r"[\s,，;；、]+")


@bp.route("/shifts", methods=["GET", "POST"])
@roles_required("hr", "admin")
def shifts_page():
    """Shift groups with their member counts; create or change one; move employees between groups."""
    group_form, assign_form = ShiftGroupForm(prefix="group"), AssignForm(prefix="assign")
    groups, unassigned = schedules.groups_with_counts()
    assign_form.group.choices = [SelectChoice("default", _l("the default (no group)"))] + [
        SelectChoice(str(group.id), f"{group.name} {group.starts_at:%H:%M}–{group.ends_at:%H:%M}")
        for group, _count in groups]
    action = request.form.get("action")
    if action == "group" and group_form.validate_on_submit():
        group_id = int(group_form.group_id.data) if (group_form.group_id.data or "").isdigit() else None
        try:
            saved = schedules.save_shift_group(group_form.name.data, group_form.starts_at.data,
                                               group_form.ends_at.data, is_default=group_form.is_default.data,
                                               actor=current_user, group_id=group_id, pattern=group_form.pattern.data,
                                               weekdays=group_form.weekdays.data or [],
                                               observes_holidays=group_form.observes_holidays.data)
        except schedules.ScheduleError as exc:
            db.session.rollback()
            group_form.name.errors.append(str(exc))
        else:
            flash(_("Shift group “%(name)s” saved.", name=saved.name), "success")
            return redirect(url_for("absence.shifts_page"))
    elif action == "assign" and assign_form.validate_on_submit():
        numbers = [no for no in _NUMBER_SEPARATORS.split(assign_form.employee_nos.data) if no]
        group_id = None if assign_form.group.data == "default" else int(assign_form.group.data)
        try:
            count = schedules.assign(numbers, group_id, actor=current_user)
        except schedules.ScheduleError as exc:
            db.session.rollback()
            assign_form.employee_nos.errors.append(str(exc))
        else:
            flash(_("%(n)s employees moved.", n=count), "success")
            return redirect(url_for("absence.shifts_page"))
    elif request.method == "GET" and request.args.get("edit", type=db_int):
        group = db.session.get(ShiftGroup, request.args.get("edit", type=db_int)) or abort(404)
        group_form.group_id.data, group_form.name.data = str(group.id), group.name
        group_form.starts_at.data, group_form.ends_at.data = group.starts_at, group.ends_at
        group_form.is_default.data = group.is_default
        group_form.pattern.data, group_form.weekdays.data = group.pattern, list(group.weekdays)
        group_form.observes_holidays.data = group.observes_holidays
    members_of = request.args.get("members", type=db_int)
    members = []
    if members_of:
        members = db.session.execute(
            select(Employee.employee_no, Employee.name)
            .join(ShiftAssignment, ShiftAssignment.employee_id == Employee.id)
            .where(ShiftAssignment.shift_group_id == members_of).order_by(Employee.employee_no)).all()
    invalid = (action == "group" and group_form.errors) or (action == "assign" and assign_form.errors)
    return render_template(
        "absence/shifts.html", groups=groups, unassigned=unassigned, default_shift=schedules.default_shift(),
        group_form=group_form, assign_form=assign_form, members_of=members_of, members=members,
        pattern_labels=schedules.PATTERN_LABELS, weekday_labels=schedules.WEEKDAY_LABELS,
    ), 422 if invalid else 200


class RosterForm(FlaskForm):
    target = StringField(_l("Employee number, or the name of a roster group"), validators=[DataRequired(),
                                                                                           Length(max=80)])
    month = StringField(_l("Month (YYYY-MM)"), validators=[DataRequired(), Length(max=20)])
    working_days = TextAreaField(_l("Working dates: days of the month or dates, ranges allowed (1-5, 8, 2026-06-09); "
                                    "无 for none"), validators=[DataRequired(), Length(max=2000)])


class RosterUploadForm(FlaskForm):
    file = FileField(_l("Roster file (.csv or .xlsx)"), validators=_UPLOAD)


@bp.route("/rosters", methods=["GET", "POST"])
@roles_required("hr", "admin")
def rosters_page():
    """Rosters: a month's view of who works which day; one roster by hand, or a file (all rows or none)."""
    one, upload_form = RosterForm(prefix="one"), RosterUploadForm(prefix="file")
    file_errors = None
    action = request.form.get("action")
    if action == "one" and one.validate_on_submit():
        target = one.target.data.strip()
        is_group = db.session.scalar(select(ShiftGroup.id).where(ShiftGroup.name == target)) is not None
        try:
            saved = rosters.save_roster(one.month.data, one.working_days.data, source="page", actor=current_user,
                                        **({"shift_group": target} if is_group else {"employee_no": target}))
        except InvalidRecords as exc:
            for error in exc.errors:
                target_field = {"month": one.month, "working_days": one.working_days}.get(error.field, one.target)
                target_field.errors.append(error.message)
        else:
            flash(_("Roster of %(who)s for %(month)s saved (%(n)s working days).", who=saved.label,
                    month=f"{saved.roster.month:%Y-%m}", n=len(saved.working_days)), "success")
            return redirect(url_for("absence.rosters_page", month=f"{saved.roster.month:%Y-%m}"))
    elif action == "file" and upload_form.validate_on_submit():
        upload = upload_form.file.data
        try:
            saved_all = rosters.import_roster_file(upload.filename, upload.read(), actor=current_user)
        except InvalidRecords as exc:
            file_errors = exc.errors
        else:
            changed = sum(1 for saved in saved_all if saved.change != "unchanged")
            flash(_("Imported %(file)s: %(n)s rosters, %(changed)s new or changed.", file=upload.filename,
                    n=len(saved_all), changed=changed), "success")
            return redirect(url_for("absence.rosters_page", month=f"{saved_all[0].roster.month:%Y-%m}"))
    month = rosters.parse_month(request.args.get("month", "")) or workdays.month_of(clock.today())
    if not 2000 <= month.year <= 2100:
        abort(404)
    employee_no = request.args.get("employee_no", "").strip()
    rows, page, pages, total = rosters.rosters_of_month(month, employee_no, request.args.get("page", 1, type=db_int))
    days = workdays.month_days(month)
    previous, following = workdays.month_of(days[0] - timedelta(days=1)), days[-1] + timedelta(days=1)
    today = clock.today()
    missing = workdays.missing_rosters(today - timedelta(days=7), today + timedelta(days=60))
    invalid = file_errors or (action == "one" and one.errors) or (action == "file" and upload_form.errors)
    return render_template(
        "absence/rosters.html", one=one, upload_form=upload_form, file_errors=file_errors, rows=rows, days=days,
        month=month, previous=previous, following=following, page=page, pages=pages, total=total,
        employee_no=employee_no, missing=missing, headings=rosters.HEADINGS,
        infos=calendar.classify(days), weekday_labels=schedules.WEEKDAY_LABELS,
    ), 422 if invalid else 200
