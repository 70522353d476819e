"""Absence cases on screen: HR's review page and case page, the employee's reply pages.

Routes hang on the absence blueprint (`views.bp`); this module only keeps the case pages apart
from the input pages.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import selectinload
from wtforms import (
    BooleanField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from lms import clock
from lms.absence import calendar, cases, decisions, notices, reads, workdays
from lms.absence.leave import LEAVE_TYPE_LABELS
from lms.absence.models import AbsenceCase, CaseReply, CaseTodo, Leave, ScanDay
from lms.absence.timeline import group_timeline
from lms.absence.views import bp
from lms.documents import services as documents
from lms.evidence.labels import actor_names, event_label
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db, guess_limit
from lms.forms import DateInput, DateTimeInput
from lms.people.access import can_see_employee, roles_required, visible_employees
from lms.people.models import Employee

STATE_LABELS = {
    "review": _l("found after the fact: HR confirms its days"), "opened": _l("opened"), "alerted": _l("alerted"),
    "warned": _l("warned (may be treated as 旷工 if unexplained)"),
    "reminded": _l("reminded"), "threshold_reached": _l("threshold reached"), "resolved": _l("resolved"),
}
STEP_LABELS = {"alert1": _l("first alert"), "alert2": _l("second alert"), "reminder": _l("daily reminder"),
               "warning": _l("written warning"), "notice": _l("return-to-work notice")}
SKIP_LABELS = {
    "day_closed": _l("not sent: the day was over when the scheduler ran"), "paused": _l("not sent: awaiting HR"),
    "threshold_reached": _l("not sent: threshold reached"), "replied": _l("not sent: the employee replied"),
    "punched": _l("not sent: a punch came in"), "leave": _l("not sent: leave covers the day"),
    "case_resolved": _l("not sent: case resolved"),
}
TODO_LABELS = {
    "call_employee": _l("Call the employee and the emergency contact"),
    "decide_reply": _l("Decide on the employee's reply"),
    "decide_return": _l("The employee returned after the threshold: decide"),
    "prepare_return_notice": _l("Prepare the return-to-work notice (限期返岗通知书)"),
    "threshold_withdrawn": _l("The threshold no longer holds: a day stopped counting; review the case"),
    "confirm_days": _l("Confirm or excuse the days found after the fact"),
    "not_reported": _l("New hire has not reported for work (未报到): contact them; no absence case is opened"),
    "dispatch_notice": _l("Send the issued return-to-work notice and record the dispatch"),
    "check_tracking": _l("Check the notice's tracking and record what happened"),
    "confirm_signature": _l("Someone else signed for the notice: confirm that it reached the employee"),
    "try_another_address": _l("The notice came back undelivered: issue a new notice and send it to the next address"),
    "public_notice": _l("Every address failed: publish a public notice (公告送达)"),
    "notify_union": _l("The deadline has passed: notify the union of the reasons in writing (第四十三条)"),
    "send_termination": _l("Send the termination notice and record the dispatch"),
    "track_termination": _l("Check the termination notice's tracking and record what happened"),
    "confirm_trm_signature": _l("Someone else signed for the termination notice: confirm that it reached the "
                                "employee"),
    "readdress_termination": _l("The termination notice came back undelivered: issue a new one to the next address"),
    "publish_termination": _l("Every address failed: publish the termination notice (公告送达)"),
    "send_certificate": _l("Give or send the termination certificate (解除劳动合同证明) to the employee"),
    "track_certificate": _l("Check the certificate's tracking and record what happened"),
    "confirm_crt_signature": _l("Someone else signed for the certificate: confirm that it reached the employee"),
    "readdress_certificate": _l("The certificate came back undelivered: send it to the next address"),
    "publish_certificate": _l("Every address failed for the certificate: publish a notice (公告送达)"),
    "transfer_file": _l("Transfer the personnel file (within 15 days, 第五十条)"),
    "transfer_insurance": _l("Transfer the social insurance (within 15 days, 第五十条)"),
    "file_si_stop": _l("File the social-insurance stop (减员) by the city's cut-off and record it"),
    "register_si": _l("Register the new hire for social insurance (within 30 days, 《社会保险法》第五十八条)"),
}
RESOLUTION_LABELS = {"returned": _l("returned to work"), "excused": _l("explanation accepted"),
                     "terminated": _l("employment terminated"),
                     "warned": _l("back at work, written warning"),
                     "leave": _l("covered by leave")}
DECISION_LABELS = {"accept": _l("explanation accepted"), "warn": _l("written warning"),
                   "continue": _l("procedure continues")}
ROLE_LABELS = {"employee": _l("employee"), "manager": _l("manager"), "hr": _l("HR")}
CHANNEL_LABELS = {"link": _l("reply link"), "inapp": _l("in-app"), "phone": _l("phone call"), "api": _l("API"),
                  "manager": _l("told the manager")}


def event_summary(event) -> str:
    """A timeline entry's gist in words (the full record stays one click away)."""
    from lms.absence import service

    payload = event.payload
    kind = event.kind
    if kind in ("absence.step_sent", "absence.step_skipped"):
        step = str(payload.get("step", "")).partition(":")
        words = str(STEP_LABELS.get(step[0], ""))
        day = payload.get("day") or step[2]
        if kind == "absence.step_skipped":
            words = f"{words} — {SKIP_LABELS.get(payload.get('reason'), '')}"
        return f"{words} {day}".strip()
    if kind == "absence.dispatched":
        return f"{payload.get('number')} · {service.METHOD_LABELS.get(payload.get('method'), '')} · " \
               f"{payload.get('dispatched_on')}"
    if kind == "absence.tracking":
        return f"{payload.get('day')} {service.STATUS_LABELS.get(payload.get('status'), '')}"
    if kind == "absence.served":
        return _("%(number)s served on %(day)s", number=payload.get("number"), day=payload.get("served_on"))
    if kind in ("absence.deadline_set", "absence.deadline_passed"):
        return _("effective deadline %(day)s", day=payload.get("effective"))
    if kind in ("documents.issued", "documents.downloaded", "absence.termination_confirmed"):
        return str(payload.get("number", ""))
    if kind == "absence.threshold_reached":
        return ", ".join(payload.get("counted_days", []))
    if kind == "absence.decided":
        words = str(DECISION_LABELS.get(payload.get("decision"), ""))
        if payload.get("leave_type"):
            words += f" · {LEAVE_TYPE_LABELS.get(payload['leave_type'], '')}"
        return f"{words} — {payload['note']}" if payload.get("note") else words
    if kind == "absence.case_resolved":
        return str(RESOLUTION_LABELS.get(payload.get("resolution"), ""))
    if kind == "absence.todo_done":
        return str(TODO_LABELS.get(payload.get("todo"), "")) + (f" — {payload['what']}" if payload.get("what") else "")
    text = payload.get("text") or payload.get("day") or payload.get("union_name") or ""
    return str(text)[:60]


def labels() -> dict:
    return {"states": STATE_LABELS, "steps": STEP_LABELS, "skips": SKIP_LABELS, "todos": TODO_LABELS,
            "recorded_todos": decisions.RECORDED_TODOS,
            "resolutions": RESOLUTION_LABELS, "roles": ROLE_LABELS, "channels": CHANNEL_LABELS}


class MonitoringForm(FlaskForm):
    # The past-date rules live in cases.check_monitoring_start; the page only shows its answer.
    started_on = DateInput(_l("Watch absences from"), validators=[DataRequired()])
    confirm_past = BooleanField(_l("The date is in the past: I confirm"))
    reason = TextAreaField(_l("Why monitoring starts on a past date"),
                           validators=[Optional(), Length(max=cases.REASON_MAX)])


class ReplyForm(FlaskForm):
    text = TextAreaField(_l("Your explanation"), validators=[DataRequired(), Length(max=2000)])
    emergency = BooleanField(_l("This is an emergency: I cannot come to work today (an emergency report: within the "
                                "rules' working days, apply for the leave and send the proof)"))


def not_in_the_future(form, field) -> None:
    """A moment or day that already happened (a call, a to-do done): not later than now, company time."""
    if field.data is None:
        return
    now = clock.local(clock.now())
    if isinstance(field.data, datetime):
        if field.data > now.replace(tzinfo=None):
            raise ValidationError(_l("This is in the future: enter when it happened."))
    elif field.data > now.date():
        raise ValidationError(_l("This is in the future: enter when it happened."))


class PhoneForm(FlaskForm):
    text = TextAreaField(_l("What the employee said"), validators=[DataRequired(), Length(max=2000)])
    received_at = DateTimeInput(_l("Call time (empty: now)"), validators=[Optional(), not_in_the_future])


CLOSING_DECISIONS = ("accept", "warn")


class DecideForm(FlaskForm):
    # Nothing is chosen for HR: a decision is a deliberate act, and the two that close the case ask to be confirmed.
    decision = SelectField(_l("Decision"), validators=[DataRequired(message=_l("Choose a decision."))], choices=[
        SelectChoice("", _l("— choose —")),
        SelectChoice("accept", _l("Accept: the case resolves")),
        SelectChoice("warn", _l("Warn: the days stay counted, a written warning is sent, the case resolves")),
        SelectChoice("continue", _l("Continue: contact recorded, the procedure goes on"))])
    leave_type = SelectField(_l("If accepted, the days counted become"), choices=[
        SelectChoice("", _l("excused absence")),
        *(SelectChoice(code, label) for code, label in LEAVE_TYPE_LABELS.items())], default="")
    note = TextAreaField(_l("Reason"), validators=[Length(max=1000)])
    confirm_close = BooleanField(_l("I confirm: this decision closes the case"))

    def validate_confirm_close(self, field):
        if self.decision.data in CLOSING_DECISIONS and not field.data:
            raise ValidationError(_l("Accepting or warning closes the case: tick to confirm."))


class ManagerCallForm(FlaskForm):
    text = TextAreaField(_l("What the employee told you, and the reason"),
                         validators=[DataRequired(), Length(max=2000)])
    received_at = DateTimeInput(_l("When they told you (empty: now)"), validators=[Optional(), not_in_the_future])


class ConfirmDaysForm(FlaskForm):
    decision = SelectField(_l("These days were"), choices=[
        SelectChoice("absence", _l("absence without leave (旷工): they count from now on")),
        SelectChoice("excused", _l("not 旷工: excuse them"))])
    note = TextAreaField(_l("Reason"), validators=[Length(max=1000)])


class NoticeForm(FlaskForm):
    dispatch_on = DateInput(_l("Planned dispatch date"), validators=[DataRequired()])
    deadline = DateInput(_l("Deadline stated (empty: the earliest the rules allow)"), validators=[Optional()])


class TodoDoneForm(FlaskForm):
    what = StringField(_l("What was done"), validators=[Optional(), Length(max=500)])
    done_on = DateInput(_l("On"), validators=[Optional(), not_in_the_future])


class NoteForm(FlaskForm):
    text = TextAreaField(_l("Note"), validators=[DataRequired(), Length(max=2000)])


def _case_or_404(case_id: int) -> AbsenceCase:
    case = db.session.get(AbsenceCase, case_id)
    if case is None:
        abort(404)
    return case


# ---------------------------------------------------------------- HR


@bp.route("/", methods=["GET", "POST"])
@roles_required("hr", "admin")
def review():
    """Today's open cases, who is due for which step next, unanswered replies, calendar warnings."""
    form = MonitoringForm(formdata=request.form if request.method == "POST" else None, started_on=clock.today())
    status = 200
    if request.method == "POST":
        if form.validate():
            try:
                cases.start_monitoring(form.started_on.data, current_user, confirm_past=form.confirm_past.data,
                                       reason=form.reason.data)
            except cases.MonitoringRefused as exc:
                form[exc.field].errors = [*form[exc.field].errors, str(exc)]
            except cases.CaseError as exc:
                flash(str(exc), "error")
                return redirect(url_for("absence.review"))
            else:
                flash(_("Absence monitoring is on from %(day)s.", day=form.started_on.data.isoformat()), "success")
                return redirect(url_for("absence.review"))
        status = 422
    open_cases = cases.open_cases()
    next_steps = {case.id: next((s for s in case.steps if s.status == "queued"), None) for case in open_cases}
    unanswered = db.session.scalars(select(CaseReply).join(AbsenceCase).where(
        CaseReply.decision.is_(None), AbsenceCase.state != "resolved")
        .options(selectinload(CaseReply.case).selectinload(AbsenceCase.employee))
        .order_by(CaseReply.received_at)).all()
    todos = db.session.scalars(select(CaseTodo).where(CaseTodo.done_at.is_(None))
                               .options(selectinload(CaseTodo.case).selectinload(AbsenceCase.employee),
                                        selectinload(CaseTodo.employee))
                               .order_by(CaseTodo.created_at)).all()
    today = clock.today()
    unknown = calendar.unknown_days(today - timedelta(days=7), today + timedelta(days=60))
    no_rules = db.session.scalars(select(ScanDay.day).where(ScanDay.status == "no_rules")
                                  .order_by(ScanDay.day.desc()).limit(366)).all()[::-1]
    missing_rosters = workdays.missing_rosters(today - timedelta(days=7), today + timedelta(days=60))
    recent = db.session.scalars(select(AbsenceCase).where(AbsenceCase.state == "resolved")
                                .options(selectinload(AbsenceCase.employee))
                                .order_by(AbsenceCase.resolved_at.desc()).limit(20)).all()
    return render_template("absence/review.html", monitoring=cases.monitoring(), form=form, open_cases=open_cases,
                           next_steps=next_steps, unanswered=unanswered, todos=todos, unknown=unknown,
                           missing_rosters=missing_rosters,
                           no_rules=no_rules, to_confirm=decisions.days_to_confirm(), recent=recent,
                           labels=labels(), confirm_form=ConfirmDaysForm(formdata=None), today=today), status


@bp.get("/team")
@roles_required("manager", "hr", "admin")
def team():
    """A manager's view: the open and recent cases of the people reporting to them (at any depth)."""
    visible = visible_employees(current_user).with_only_columns(Employee.id)
    team_cases = db.session.scalars(select(AbsenceCase).where(AbsenceCase.employee_id.in_(visible)).options(
        selectinload(AbsenceCase.employee), selectinload(AbsenceCase.days), selectinload(AbsenceCase.steps))
        .order_by(AbsenceCase.state == "resolved", AbsenceCase.opened_at.desc()).limit(100)).all()
    return render_template("absence/team.html", cases=team_cases, labels=labels())


@bp.get("/cases/<int:case_id>")
@login_required
def case_page(case_id: int):
    """The case with its days, steps, messages, replies, to-dos and evidence timeline.

    HR acts on it; the employee's managers may read it (they receive its copies).
    """
    case = _case_or_404(case_id)
    if not _may_read(case):
        abort(404)
    return _render_case(case)


def _may_read(case: AbsenceCase) -> bool:
    return current_user.role in ("hr", "admin") or (
        current_user.role == "manager" and can_see_employee(current_user, case.employee_id))


# The case page's own forms, by the name the template knows them by.
CASE_FORMS = {"phone_form": PhoneForm, "decide_form": DecideForm, "note_form": NoteForm,
              "manager_form": ManagerCallForm, "confirm_form": ConfirmDaysForm, "notice_form": NoticeForm}


# Every form of the case page by its class, including the service, union and termination sections'.
FORM_NAMES = {**{form_class.__name__: name for name, form_class in CASE_FORMS.items()},
              "DispatchForm": "dispatch_form", "TrackingForm": "tracking_form", "PhotoForm": "photo_form",
              "SignatureForm": "signature_form", "PublicNoticeForm": "public_form", "NoUnionForm": "no_union_form",
              "UnionLetterForm": "union_letter_form", "UnionNoticeForm": "union_notice_form",
              "UnionOpinionForm": "union_opinion_form", "UnionReplyForm": "union_reply_form",
              "TerminationForm": "termination_form"}


def _render_case(case: AbsenceCase, submitted: dict | None = None, status: int = 200, todo_errors=None):
    """The case page; a form that was sent with errors comes back as sent, its errors beside its fields."""

    with reads.reading():  # the page only reads: its sections share each fact read once
        return _render_case_reading(case, submitted, status, todo_errors)


def _render_case_reading(case: AbsenceCase, submitted: dict | None, status: int, todo_errors):
    submitted = submitted or {}
    is_hr = current_user.role in ("hr", "admin")
    messages = cases.case_messages([case.id])[case.id]
    notice_draft = notice_refused = None
    forms = {name: submitted.get(name) or form_class(formdata=None) for name, form_class in CASE_FORMS.items()}
    if "notice_form" not in submitted:
        forms["notice_form"] = NoticeForm(formdata=None, dispatch_on=notices.default_dispatch_day())
    if is_hr and case.state == "threshold_reached":
        try:
            notice_draft = notices.draft(case, current_user)
        except cases.CaseError as exc:
            notice_refused = str(exc)
    timeline = db.session.scalars(select(EvidenceEvent).where(body_field("subject") == cases.subject(case.id))
                                  .order_by(EvidenceEvent.seq)).all()
    actors = actor_names(event.actor for event in timeline)
    service_page = {}
    if is_hr:
        from lms.absence import service, service_views, termination_views, union_views

        state = service.case_service(case)
        service_page = {"service": state, "service_words": service.service_words(state),
                        "service_labels": service, **service_views.forms_for(case, state),
                        **union_views.context_for(case), **termination_views.context_for(case),
                        **{name: form for name, form in submitted.items() if name not in CASE_FORMS}}
    decided = [(event, actors[event.actor]) for event in timeline if event.kind == "absence.decided"]
    return render_template("absence/case.html", case=case, messages=messages, timeline=timeline, is_hr=is_hr,
                           timeline_days=group_timeline(timeline, actors, STEP_LABELS, ROLE_LABELS, event_summary),
                           decided=decided, decision_labels=DECISION_LABELS, leave_types=_leave_types(case),
                           leave_type_labels=LEAVE_TYPE_LABELS, todo_errors=todo_errors or {},
                           notice_draft=notice_draft, notice_refused=notice_refused,
                           documents=documents.documents_of_case(case.id) if is_hr else [],
                           **service_page, **forms,
                           actors=actors, event_label=event_label, event_summary=event_summary,
                           labels=labels()), status


def _leave_types(case: AbsenceCase) -> dict[date, str]:
    """The leave type covering each day of the case that leave excused (one query)."""
    days = [d.day for d in case.days if d.status == "leave"]
    if not days:
        return {}
    found = {}
    for leave in db.session.scalars(select(Leave).where(Leave.employee_id == case.employee_id,
                                                        Leave.starts_on <= max(days), Leave.ends_on >= min(days))):
        for day in days:
            if leave.starts_on <= day <= leave.ends_on:
                found[day] = leave.type
    return found


def _act(case_id: int, form_class, action, name: str | None = None) -> object:
    """Validate a case-page form and act; on an error the page comes back with the form as it was sent."""
    case = _case_or_404(case_id)
    if not _may_read(case):
        abort(404)
    form = form_class()
    name = name or FORM_NAMES[type(form).__name__]
    if not form.validate_on_submit():
        return _render_case(case, {name: form}, 422)
    try:
        action(case, form)
    except cases.CaseError as exc:
        db.session.rollback()  # nothing half-written; the page is read afresh
        flash(str(exc), "error")
        return _render_case(case, {name: form}, 409)
    flash(_("Saved."), "success")
    return redirect(url_for("absence.case_page", case_id=case.id))


@bp.post("/cases/<int:case_id>/phone")
@roles_required("hr", "admin")
def record_phone_call(case_id: int):
    return _act(case_id, PhoneForm, lambda case, form: decisions.record_reply(
        case, form.text.data, "phone", current_user,
        received_at=form.received_at.data if form.received_at.data else None))


@bp.post("/cases/<int:case_id>/decide")
@roles_required("hr", "admin")
def decide(case_id: int):
    return _act(case_id, DecideForm, lambda case, form: decisions.decide(
        case, form.decision.data, current_user, form.note.data or "", leave_type=form.leave_type.data or None))


@bp.post("/cases/<int:case_id>/manager-call")
@roles_required("manager")
def record_manager_call(case_id: int):
    """The direct manager (or one above) records what the employee told them (rule leave.emergency):
    it pauses the case like the employee's own reply, and HR decides."""
    if not can_see_employee(current_user, _case_or_404(case_id).employee_id):
        abort(404)
    return _act(case_id, ManagerCallForm, lambda case, form: decisions.record_reply(
        case, form.text.data, "manager", current_user,
        received_at=form.received_at.data if form.received_at.data else None))


@bp.post("/cases/<int:case_id>/confirm-days")
@roles_required("hr", "admin")
def confirm_days(case_id: int):
    """HR confirms days found after the fact as 旷工, or excuses them (the days are the checked boxes)."""
    try:
        days = [date.fromisoformat(value) for value in request.form.getlist("days")]
    except ValueError:
        abort(400)
    return _act(case_id, ConfirmDaysForm, lambda case, form: decisions.confirm_days(
        case, days, form.decision.data, current_user, form.note.data or ""))


@bp.post("/cases/<int:case_id>/notices")
@roles_required("hr", "admin")
def issue_notice(case_id: int):
    """HR issues the 限期返岗通知书 after reviewing its draft on the case page."""
    return _act(case_id, NoticeForm, lambda case, form: notices.issue_return_notice(
        case, current_user, dispatch_on=form.dispatch_on.data, deadline=form.deadline.data))


@bp.post("/cases/<int:case_id>/notes")
@roles_required("hr", "admin")
def add_note(case_id: int):
    return _act(case_id, NoteForm, lambda case, form: decisions.add_note(case, form.text.data, current_user))


@bp.post("/cases/<int:case_id>/todos/<int:todo_id>")
@roles_required("hr", "admin")
def complete_todo(case_id: int, todo_id: int):
    todo = db.session.get(CaseTodo, todo_id)
    if todo is None or todo.case_id != case_id:
        abort(404)
    case = _case_or_404(case_id)
    form = TodoDoneForm()
    if not form.validate_on_submit():
        return _render_case(case, status=422, todo_errors={todo.id: form})
    try:
        decisions.complete_todo(todo, current_user, what=form.what.data, done_on=form.done_on.data)
    except cases.CaseError as exc:
        db.session.rollback()
        flash(str(exc), "error")
        return _render_case(case, status=409, todo_errors={todo.id: form})
    flash(_("Saved."), "success")
    return redirect(url_for("absence.case_page", case_id=case.id))


@bp.post("/todos/<int:todo_id>")
@roles_required("hr", "admin")
def complete_employee_todo(todo_id: int):
    """A to-do about an employee rather than a case (未报到), marked done from the review page."""
    todo = db.session.get(CaseTodo, todo_id)
    if todo is None or todo.case_id is not None:
        abort(404)
    form = TodoDoneForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        decisions.complete_todo(todo, current_user, what=form.what.data, done_on=form.done_on.data)
    except cases.CaseError as exc:
        flash(str(exc), "error")
        return redirect(url_for("absence.review")), 409
    flash(_("Saved."), "success")
    return redirect(url_for("absence.review"))


# ---------------------------------------------------------------- the employee


def _reply_page(case: AbsenceCase, channel: str, actor, template_args: dict):
    # An emergency report by replying to an alert pauses the case as a reply does and starts the rule's clock
    # for the follow-up leave request and proof (self-service builds on absence: imported where used).
    from lms.requests.emergency import report_emergency
    from lms.requests.rules import RequestRefused

    form = ReplyForm()
    if form.validate_on_submit():
        try:
            if form.emergency.data and case.is_open:
                report_emergency(case.employee, form.text.data, "alert", actor=actor)
            else:
                decisions.record_reply(case, form.text.data, channel, actor)
        except (cases.CaseError, RequestRefused) as exc:
            flash(str(exc), "error")
            return render_template("absence/reply.html", form=form, case=case, **template_args), 409
        return render_template("absence/reply.html", form=None, case=case, done=True, **template_args)
    status = 422 if form.errors else 200
    steps = [s for s in case.steps if s.status == "sent"]
    return render_template("absence/reply.html", form=form, case=case, steps=steps, **template_args), status


@bp.route("/r/<token>", methods=["GET", "POST"])
@guess_limit
def reply_by_link(token: str):
    """The signed link in the SMS: the employee explains without signing in, while the case is open. Once it has
    ended the link is spent (410): it no longer shows whose case it was to whoever holds an old SMS."""
    case = decisions.case_for_token(token)
    if case is None:
        return render_template("absence/reply.html", form=None, case=None, invalid=True), 404
    if not case.is_open:
        return render_template("absence/reply.html", form=None, case=None, invalid=True), 410
    return _reply_page(case, "link", f"employee:{case.employee_id}", {})


@bp.route("/my/cases/<int:case_id>/reply", methods=["GET", "POST"])
@login_required
def my_reply(case_id: int):
    """The reply button under the in-app alert: only the employee the case is about."""
    case = db.session.get(AbsenceCase, case_id)
    if case is None or current_user.employee_id is None or case.employee_id != current_user.employee_id:
        abort(404)
    return _reply_page(case, "inapp", current_user, {})


def reply_target(message) -> int | None:
    """The case an in-app message lets its reader reply to, if it is an alert to that employee."""
    parsed = cases.parse_step_key(message.step_key)
    if parsed is None or parsed[1] != "employee":
        return None
    case_id = message.evidence_subject.partition(":")[2]
    return int(case_id) if case_id.isdigit() else None

