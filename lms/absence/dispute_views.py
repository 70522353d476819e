"""Downloading a dispute file (证据材料): from the case page (everything) or the employee's page (the parts HR
chooses). Each download is recorded first. The contents are built by `dispute_file`."""

from __future__ import annotations

from flask import abort, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import SelectMultipleField, widgets

from lms.absence import dispute_file
from lms.absence.models import AbsenceCase
from lms.absence.views import bp
from lms.evidence import services as evidence_services
from lms.evidence.pack import download_response
from lms.extensions import db
from lms.people.access import roles_required
from lms.people.models import Employee

PART_LABELS = {"training": _l("Training proof (rules, certificates, answer sheets, attested texts)"),
               "messages": _l("Messages (texts, delivery and read receipts)"),
               "absence": _l("Absence record"), "documents": _l("Documents, dispatches and the union procedure")}


class DisputeFileForm(FlaskForm):
    parts = SelectMultipleField(_l("Include"), choices=list(PART_LABELS.items()), default=list(PART_LABELS),
                                option_widget=widgets.CheckboxInput(), widget=widgets.ListWidget(prefix_label=False))


def download(employee: Employee, case: AbsenceCase | None, parts: tuple[str, ...], actor, via: str):
    built = dispute_file.build(employee, evidence_services.actor_of(actor), case=case, parts=parts)
    dispute_file.record_download(built, employee, case, parts, actor, via, ip=request.remote_addr,
                                 user_agent=request.user_agent.string)
    return download_response(built)


@bp.post("/cases/<int:case_id>/dispute-file")
@roles_required("hr", "admin")
def case_dispute_file(case_id: int):
    case = db.session.get(AbsenceCase, case_id)
    if case is None or not DisputeFileForm().validate_on_submit():
        abort(404 if case is None else 400)
    return download(case.employee, case, dispute_file.PARTS, current_user._get_current_object(), "page")


@bp.post("/employees/<int:employee_id>/dispute-file")
@roles_required("hr", "admin")
def employee_dispute_file(employee_id: int):
    employee = db.session.get(Employee, employee_id)
    form = DisputeFileForm()
    if employee is None:
        abort(404)
    if not form.validate_on_submit() or not form.parts.data:
        abort(400)
    return download(employee, None, tuple(form.parts.data), current_user._get_current_object(), "page")
