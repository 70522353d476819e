"""The union procedure on the case page (《劳动合同法》第四十三条): the gate in words, the notice given
with its receipt's scan, the union's opinion, the company's reply. The rules are in `union`."""

from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from lms import clock
from lms.absence import service, union
from lms.absence.case_views import _act
from lms.absence.service_views import _IMAGE, _stored
from lms.absence.views import bp
from lms.forms import DateTimeInput
from lms.people.access import roles_required

OPINION_LABELS = {"no_objection": _l("no objection"), "objection": _l("objection")}
KIND_LABELS = {"notice": _l("Notice of the reasons given to the union"), "opinion": _l("The union's opinion"),
               "reply": _l("The company's written reply")}


class UnionNoticeForm(FlaskForm):
    at = DateTimeInput(_l("Given on"), validators=[DataRequired()])
    union_name = StringField(_l("Union"), validators=[DataRequired(), Length(max=200)])
    receipt_signed_by = StringField(_l("Receipt signed by"), validators=[DataRequired(), Length(max=120)])
    receipt = FileField(_l("Scan of the signed receipt"), validators=[Optional(), _IMAGE])


class UnionLetterForm(FlaskForm):
    union_name = StringField(_l("Union"), validators=[DataRequired(), Length(max=200)])


class NoUnionForm(FlaskForm):
    note = TextAreaField(_l("How you established it (e.g. the search of the union registration)"),
                         validators=[DataRequired(), Length(max=2000)])
    evidence_scan = FileField(_l("The evidence (optional scan)"), validators=[Optional(), _IMAGE])


class UnionOpinionForm(FlaskForm):
    at = DateTimeInput(_l("Received on"), validators=[DataRequired()])
    opinion = SelectField(_l("Opinion"), choices=[SelectChoice(k, v) for k, v in OPINION_LABELS.items()])
    text = TextAreaField(_l("The union's text (needed for an objection)"), validators=[Optional(), Length(max=5000)])


class UnionReplyForm(FlaskForm):
    at = DateTimeInput(_l("Answered on"), validators=[DataRequired()])
    text = TextAreaField(_l("The company's reply"), validators=[DataRequired(), Length(max=5000)])


def context_for(case) -> dict:
    """The union section's facts and forms; shown once the effective deadline has passed or a record exists."""
    now = clock.local(clock.now()).replace(second=0, microsecond=0, tzinfo=None)
    records = union.records(case)
    passed, _why = service.deadline_has_passed(case)
    letters = service.case_documents(case, "union_notice")
    named = letters[-1].facts.get("union_name") if letters else None  # the union the letter is addressed to
    without_union = union.no_union()
    return {"union_missing": without_union, "union_body": union.body_to_notify(),
            "no_union_form": NoUnionForm(formdata=None), "union_shown": passed or bool(records),
            "union_records": records, "union_gate": union.gate(case),
            "union_letters": letters,
            "union_letter_form": UnionLetterForm(formdata=None, union_name=union.addressee(case)),
            "union_labels": {"kinds": KIND_LABELS, "opinions": OPINION_LABELS},
            "union_notice_form": UnionNoticeForm(formdata=None, at=now, union_name=named),
            "union_opinion_form": UnionOpinionForm(formdata=None, at=now),
            "union_reply_form": UnionReplyForm(formdata=None, at=now)}


def _moment(value: datetime) -> datetime:
    return clock.as_utc(value)  # the form's time is company time


@bp.post("/cases/<int:case_id>/union/none")
@roles_required("hr", "admin")
def record_no_union(case_id: int):
    return _act(case_id, NoUnionForm, lambda case, form: union.record_no_union(
        form.note.data, _stored(form.evidence_scan.data, _l("the evidence")), current_user))


@bp.post("/cases/<int:case_id>/union/letter")
@roles_required("hr", "admin")
def issue_union_letter(case_id: int):
    from lms.absence import termination

    return _act(case_id, UnionLetterForm, lambda case, form: termination.issue_union_letter(
        case, current_user, form.union_name.data))


@bp.post("/cases/<int:case_id>/union/notice")
@roles_required("hr", "admin")
def record_union_notice(case_id: int):
    return _act(case_id, UnionNoticeForm, lambda case, form: union.record_notice(
        case, at=_moment(form.at.data), union_name=form.union_name.data,
        receipt_signed_by=form.receipt_signed_by.data,
        receipt=_stored(form.receipt.data, _l("the scan of the receipt")), actor=current_user))


@bp.post("/cases/<int:case_id>/union/opinion")
@roles_required("hr", "admin")
def record_union_opinion(case_id: int):
    return _act(case_id, UnionOpinionForm, lambda case, form: union.record_opinion(
        case, at=_moment(form.at.data), opinion=form.opinion.data, text=form.text.data, actor=current_user))


@bp.post("/cases/<int:case_id>/union/reply")
@roles_required("hr", "admin")
def record_union_reply(case_id: int):
    return _act(case_id, UnionReplyForm, lambda case, form: union.record_reply(
        case, at=_moment(form.at.data), text=form.text.data, actor=current_user))
