"""Self-service pages: my requests (leave, trips, corrections, emergency reports), my details and the
service-address confirmation, and the manager's inbox."""

from __future__ import annotations

from datetime import datetime

from flask import Blueprint, Response, abort, flash, has_request_context, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from lms import clock
from lms.absence.leave import type_label
from lms.extensions import db
from lms.inputs import db_int
from lms.people.access import get_employee_for, roles_required
from lms.people.models import Employee
from lms.people.services import masked_national_id
from lms.requests import address, corrections, emergency
from lms.requests import leave_requests as lr
from lms.requests.forms import (
    AwayForm,
    ConfirmForm,
    CorrectionForm,
    DecisionForm,
    DetailsForm,
    EmergencyForm,
    LeaveRequestForm,
    ScanForm,
)
from lms.requests.inbox import inbox_for
from lms.requests.models import AwayMark, EmergencyReport, RequestAttachment
from lms.requests.rules import RequestRefused
from lms.ui import current_locale

bp = Blueprint("requests", __name__, url_prefix="/requests", template_folder="templates")


@bp.app_template_global()
def pending_requests_for_case(case):
    return lr.pending_for_case(case)


@bp.app_template_global()
def service_address_confirmed() -> bool:
    """Has the signed-in employee a service-address confirmation in force (one query)?"""
    return current_user.employee_id is not None and address.current_confirmation(current_user.employee_id) is not None


@bp.app_template_global("type_label")
def _type_label(code: str) -> str:
    return type_label(code)


@bp.app_context_processor
def inbox_badge():
    if not has_request_context() or not current_user.is_authenticated or current_user.role not in ("manager", "hr"):
        return {"inbox_waiting": 0}
    return {"inbox_waiting": inbox_for(current_user).count}


def _me():
    if current_user.employee_id is None:
        abort(404)
    return current_user.employee


def _leave_form(employee) -> LeaveRequestForm:
    form = LeaveRequestForm()
    form.extends.choices = [("", "—")] + [(str(leave.id), f"{type_label(leave.type)} {leave.starts_on.isoformat()} – "
                                          f"{leave.ends_on.isoformat()}")
                                         for leave in lr.open_leave_for_extension(employee.id)]
    form.follows_report.choices = [("", "—")] + [(str(r.id), r.day.isoformat())
                                                 for r in emergency.open_reports(employee.id)]
    return form


@bp.route("/", methods=["GET"])
@login_required
def mine():
    employee = _me()
    return render_template("requests/mine.html", employee=employee, requests=lr.my_requests(employee.id),
                           leave_form=_leave_form(employee), correction_form=CorrectionForm(prefix="c"),
                           emergency_form=EmergencyForm(prefix="e"), today=clock.today())


@bp.route("/leave", methods=["POST"])
@login_required
def apply_leave():
    employee = _me()
    form = _leave_form(employee)
    if not form.validate_on_submit():
        return render_template("requests/mine.html", employee=employee, requests=lr.my_requests(employee.id),
                               leave_form=form, correction_form=CorrectionForm(prefix="c"),
                               emergency_form=EmergencyForm(prefix="e"), today=clock.today()), 422
    if request.form.get("action") != "send":  # first the review: the employee sees whether it is late
        try:
            late, notice_days, version = lr.lateness(form.start.data, clock.today())
        except RequestRefused as refusal:
            flash(str(refusal.message), "error")
            return redirect(url_for("requests.mine"))
        return render_template("requests/review.html", form=form, late=late and form.kind.data == "leave",
                               notice_days=notice_days, version=version, today=clock.today())
    files = [lr.Attachment(f.filename, f.mimetype, f.read()) for f in form.attachments.data or [] if f and f.filename]
    try:
        lr.submit_request(employee, kind=form.kind.data, type=form.type.data, start=form.start.data,
                          end=form.end.data, reason=form.reason.data, attachments=files,
                          extends_leave_id=int(form.extends.data) if form.extends.data else None,
                          emergency_report_id=int(form.follows_report.data) if form.follows_report.data else None,
                          actor=current_user)
    except RequestRefused as refusal:
        flash(str(refusal.message), "error")
        return redirect(url_for("requests.mine"))
    flash(_("Sent to your manager."), "success")
    return redirect(url_for("requests.mine"))


@bp.post("/leave/<int:request_id>/withdraw")
@login_required
def withdraw(request_id: int):
    found = lr.request_for_viewer(current_user, request_id)
    if found is None or found.employee_id != current_user.employee_id:
        abort(404)
    try:
        lr.withdraw_request(found, current_user)
    except RequestRefused as refusal:
        flash(str(refusal.message), "error")
    return redirect(url_for("requests.mine"))


@bp.post("/corrections")
@login_required
def apply_correction():
    employee = _me()
    form = CorrectionForm(prefix="c")
    if form.validate_on_submit():
        try:
            corrections.submit_correction(employee, form.day.data,
                                          clock.as_utc(datetime.combine(form.day.data, form.arrived.data)),
                                          form.reason.data, actor=current_user)
            flash(_("Sent to your manager."), "success")
        except RequestRefused as refusal:
            flash(str(refusal.message), "error")
    else:
        flash(_("Give the day, the time you arrived and the reason."), "error")
    return redirect(url_for("requests.mine"))


@bp.post("/emergency")
@login_required
def report_emergency():
    employee = _me()
    form = EmergencyForm(prefix="e")
    channel = "alert" if request.form.get("from_alert") else "app"
    if form.validate_on_submit():
        try:
            emergency.report_emergency(employee, form.reason.data, channel, actor=current_user)
            flash(_("Reported. Apply for the leave and add the proof within the time the rules set."), "success")
        except RequestRefused as refusal:
            flash(str(refusal.message), "error")
    else:
        flash(_("Give the reason."), "error")
    return redirect(url_for("requests.mine"))


@bp.get("/attachments/<int:attachment_id>")
@login_required
def attachment(attachment_id: int):
    found = db.session.get(RequestAttachment, attachment_id)
    if found is None or lr.request_for_viewer(current_user, found.request_id) is None:
        abort(404)
    return Response(found.data, mimetype=found.content_type,
                    headers={"Content-Disposition": "attachment; filename=attachment-"
                             f"{found.sha256[:12]}.{found.filename.rsplit('.', 1)[-1][:5]}"})


# ---------------------------------------------------------------- the inbox


@bp.get("/inbox")
@roles_required("manager", "hr")
def inbox():
    team = []
    if current_user.role == "manager" and current_user.employee_id:
        team = db.session.scalars(select(Employee).where(Employee.manager_id == current_user.employee_id,
                                                         Employee.status != "terminated").order_by(Employee.name))
    return render_template("requests/inbox.html", inbox=inbox_for(current_user), form=DecisionForm(),
                           away_form=AwayForm(prefix="away"), call_form=EmergencyForm(prefix="e"), team=list(team),
                           now=clock.now())


@bp.post("/leave/<int:request_id>/decision")
@roles_required("manager", "hr")
def decide_leave(request_id: int):
    found = lr.request_for_decider(current_user, request_id)
    if found is None:
        abort(404)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            lr.decide_request(found, current_user, request.form.get("decision", ""), form.note.data)
            flash(_("Decided."), "success")
        except RequestRefused as refusal:
            flash(str(refusal.message), "error")
    return redirect(url_for("requests.inbox"))


@bp.post("/corrections/<int:correction_id>/decision")
@roles_required("manager", "hr")
def decide_correction(correction_id: int):
    found = corrections.correction_for_decider(current_user, correction_id)
    if found is None:
        abort(404)
    form = DecisionForm()
    if form.validate_on_submit():
        try:
            corrections.decide_correction(found, current_user, request.form.get("decision", ""), form.note.data)
            flash(_("Decided."), "success")
        except RequestRefused as refusal:
            flash(str(refusal.message), "error")
    return redirect(url_for("requests.inbox"))


@bp.post("/away")
@roles_required("manager")
def mark_away():
    form = AwayForm(prefix="away")
    if form.validate_on_submit() and form.end.data >= form.start.data >= clock.today():
        from lms import evidence
        db.session.add(AwayMark(employee_id=current_user.employee_id, starts_on=form.start.data,
                                ends_on=form.end.data, set_by=evidence.actor_of(current_user), set_at=clock.now()))
        evidence.record("requests.manager_away", evidence.subject_of("employee", current_user.employee_id),
                        {"starts_on": form.start.data, "ends_on": form.end.data}, actor=current_user)
        db.session.commit()
        flash(_("Marked away: your manager decides your team's requests meanwhile."), "success")
    else:
        flash(_("Give a period from today on, ending on or after its first day."), "error")
    return redirect(url_for("requests.inbox"))


@bp.post("/emergency/<int:report_id>/done")
@roles_required("hr")
def emergency_done(report_id: int):
    report = db.session.get(EmergencyReport, report_id)
    if report is None or report.todo_at is None:
        abort(404)
    emergency.complete_todo(report, current_user)
    return redirect(url_for("requests.inbox"))


@bp.post("/employees/<int:employee_id>/emergency")
@roles_required("manager", "hr")
def record_call(employee_id: int):
    """The manager (or HR) records a phone call on the employee's behalf (the employee chosen in the form)."""
    employee = get_employee_for(current_user, request.form.get("employee", type=db_int) or employee_id)
    if employee.id == current_user.employee_id:
        abort(404)
    form = EmergencyForm(prefix="e")
    if form.validate_on_submit():
        try:
            emergency.report_emergency(employee, form.reason.data, "manager", actor=current_user)
            flash(_("Recorded."), "success")
        except RequestRefused as refusal:
            flash(str(refusal.message), "error")
    return redirect(url_for("requests.inbox"))


# ---------------------------------------------------------------- my details and the service address


def _text_and_hash(employee):
    if not employee.contact_address:
        return None, None
    import hashlib
    text = address.confirmation_text(employee, employee.contact_address, current_locale())
    return text, hashlib.sha256(text.encode("utf-8")).hexdigest()


@bp.route("/details", methods=["GET", "POST"])
@login_required
def details():
    employee = _me()
    contact = address.emergency_contact(employee.id)
    form = DetailsForm(obj=employee if request.method == "GET" else None)
    if request.method == "GET" and contact:
        form.emergency_name.data, form.emergency_relation.data = contact.name, contact.relation
        form.emergency_phone.data = contact.phone
    if form.validate_on_submit():
        try:
            changed = address.update_details(employee, {name: getattr(form, name).data for name in (
                *address.DETAIL_FIELDS, *address.CONTACT_FIELDS)}, actor=current_user)
        except RequestRefused as refusal:
            flash(str(refusal.message), "error")
        else:
            if "contact_address" in changed:
                flash(_("Saved. Your address changed: confirm it below as your service address."), "success")
            elif changed:
                flash(_("Saved."), "success")
            return redirect(url_for("requests.details"))
    text, digest = _text_and_hash(employee)
    return render_template("requests/details.html", employee=employee, form=form, confirm_form=ConfirmForm(
        text_sha256=digest), text=text, current=address.current_confirmation(employee.id),
        history=address.confirmations(employee.id), masked=masked_national_id(employee))


@bp.post("/details/confirm")
@login_required
def confirm_address():
    employee = _me()
    form = ConfirmForm()
    if form.validate_on_submit():
        try:
            address.confirm_in_app(employee, current_locale(), form.text_sha256.data or "", request.remote_addr,
                                   request.headers.get("User-Agent"), actor=current_user)
            flash(_("Confirmed: this is your service address."), "success")
        except RequestRefused as refusal:
            flash(str(refusal.message), "error")
    return redirect(url_for("requests.details"))


@bp.route("/employees/<int:employee_id>/service-address", methods=["GET", "POST"])
@roles_required("hr")
def service_address_scan(employee_id: int):
    """HR records a signed paper confirmation (scan)."""
    employee = get_employee_for(current_user, employee_id)
    form = ScanForm(address=employee.contact_address)
    if form.validate_on_submit():
        upload = form.scan.data
        try:
            address.record_scan(employee, form.address.data, upload.filename if upload else "",
                                upload.read() if upload else b"", actor=current_user)
            flash(_("Recorded."), "success")
            return redirect(url_for("people.employee", employee_id=employee.id))
        except RequestRefused as refusal:
            flash(str(refusal.message), "error")
    return render_template("requests/scan.html", employee=employee, form=form,
                           history=address.confirmations(employee.id))
