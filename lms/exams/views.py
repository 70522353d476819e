"""Taking an exam on a phone or a PC: one question per page, each answer saved as you go."""

from __future__ import annotations

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from flask_wtf import FlaskForm
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from lms import clock
from lms.exams import certificates, path, services
from lms.exams.models import Certificate, CoachingTask, ExamAttempt
from lms.extensions import db, guess_limit
from lms.forms import DateInput
from lms.inputs import db_int
from lms.people.access import get_employee_for, roles_required, visible_employees
from lms.ui import current_locale

bp = Blueprint("exams", __name__, url_prefix="/exams", template_folder="templates")
verify_bp = Blueprint("verify", __name__, template_folder="templates")



def _own_attempt(attempt_id: int) -> ExamAttempt:
    attempt = db.session.get(ExamAttempt, attempt_id)
    if attempt is None or current_user.employee_id is None or attempt.employee_id != current_user.employee_id:
        abort(404)
    return attempt


def _choices(item: dict) -> dict[str, list[str]]:
    """The learner's choices for one paper item from the form (radio, checkbox or true/false)."""
    return {key: request.form.getlist(key) for key in services.answer_keys(item)}


@bp.app_template_global()
def exam_state_label(kind: str) -> str:
    return str(path.STATE_LABELS.get(kind, kind))


@bp.get("/")
@login_required
def my_exams():
    """Each exam with the learner's attempts and what she may do now: start, continue, the make-up (or
    why it is locked)."""
    exams = services.current_exams()
    states = {e.slug: path.exam_state(current_user.employee_id, e) for e in exams} \
        if current_user.employee_id else {}
    mine = db.session.scalars(select(Certificate).where(Certificate.employee_id == current_user.employee_id)
                              .order_by(Certificate.issued_at)).all() if current_user.employee_id else []
    return render_template("exams/my_exams.html", exams=exams, states=states, certificates=mine, form=FlaskForm(),
                           locale=current_locale())


@bp.post("/<slug>/start")
@login_required
def start(slug: str):
    if services.current_exam(slug) is None:
        abort(404)
    if current_user.employee_id is None or not FlaskForm().validate_on_submit():
        abort(403 if current_user.employee_id is None else 400)
    try:
        attempt = services.start_attempt(current_user.employee_id, slug, actor=current_user)
    except services.ExamRefused as refusal:
        flash(refusal.message, "error")
        return redirect(url_for("exams.my_exams"))
    return redirect(url_for("exams.question", attempt_id=attempt.id, number=1))


@bp.route("/attempts/<int:attempt_id>/<int:number>", methods=["GET", "POST"])
@login_required
def question(attempt_id: int, number: int):
    attempt = _own_attempt(attempt_id)
    if not services.is_open(attempt):
        return redirect(url_for("exams.result", attempt_id=attempt.id))
    item = next((i for i in attempt.paper if i["n"] == number), None)
    if item is None:
        abort(404)
    form = FlaskForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        services.save_answer(attempt, number, _choices(item))
        target = request.form.get("go", "next")
        if target == "previous" and number > 1:
            return redirect(url_for("exams.question", attempt_id=attempt.id, number=number - 1))
        if target == "review" or number == len(attempt.paper):
            return redirect(url_for("exams.review", attempt_id=attempt.id))
        return redirect(url_for("exams.question", attempt_id=attempt.id, number=number + 1))
    return render_template("exams/question.html", attempt=attempt, item=item, total=len(attempt.paper),
                           answers=attempt.answers or {}, form=form, locale=current_locale(),
                           remaining=max(int((attempt.deadline_at - clock.now()).total_seconds()), 0),
                           now=clock.now())


@bp.post("/attempts/<int:attempt_id>/<int:number>/save")
@login_required
def save(attempt_id: int, number: int):
    """The page's script saves each click here (and sends what it queued while offline): 200 when kept,
    409 once the time is up (the server's clock decides), 400 for a form without its CSRF token."""
    attempt = _own_attempt(attempt_id)
    item = next((i for i in attempt.paper if i["n"] == number), None)
    if item is None:
        abort(404)
    if not FlaskForm().validate_on_submit():
        abort(400)
    saved = services.save_answer(attempt, number, _choices(item))
    if saved is None:
        return {"saved": False, "reason": _("The time is up: this answer came too late.")}, 409
    return {"saved": True}


@bp.get("/attempts/<int:attempt_id>/review")
@login_required
def review(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    if not services.is_open(attempt):
        return redirect(url_for("exams.result", attempt_id=attempt.id))
    answered = {item["n"]: all((attempt.answers or {}).get(k) for k in services.answer_keys(item))
                for item in attempt.paper}
    return render_template("exams/review.html", attempt=attempt, answered=answered, form=FlaskForm(),
                           locale=current_locale(), now=clock.now(),
                           remaining=max(int((attempt.deadline_at - clock.now()).total_seconds()), 0))


@bp.post("/attempts/<int:attempt_id>/submit")
@login_required
def submit(attempt_id: int):
    attempt = _own_attempt(attempt_id)
    if not FlaskForm().validate_on_submit():
        abort(400)
    services.submit(attempt, None, actor=current_user)
    return redirect(url_for("exams.result", attempt_id=attempt.id))


@bp.get("/attempts/<int:attempt_id>/result")
@login_required
def result(attempt_id: int):
    """The score and, only now that it is submitted, the right answers with their explanations."""
    attempt = _own_attempt(attempt_id)
    if attempt.submitted_at is None:
        if services.is_open(attempt):
            return redirect(url_for("exams.review", attempt_id=attempt.id))
        services.submit(attempt, None, actor=current_user)  # time ran out: graded on what was saved
    state = path.exam_state(attempt.employee_id, attempt.exam_version)
    certificate = db.session.scalars(select(Certificate).where(Certificate.attempt_id == attempt.id)).first()
    return render_template("exams/result.html", attempt=attempt, exam=attempt.exam_version, state=state,
                           certificate=certificate,
                           reread=[] if attempt.is_passed else path.chapters_to_reread(attempt),
                           answers=attempt.answers or {}, locale=current_locale())


# ---------------------------------------------------------------- certificates


class RevokeForm(FlaskForm):
    reason = StringField(validators=[DataRequired(), Length(max=500)])


@bp.get("/certificates/<int:certificate_id>.pdf")
@login_required
def certificate_pdf(certificate_id: int):
    """The certificate PDF for the employee, her managers and HR."""
    certificate = db.session.get(Certificate, certificate_id)
    if certificate is None:
        abort(404)
    get_employee_for(current_user, certificate.employee_id)
    return send_file(io.BytesIO(certificate.pdf), mimetype="application/pdf", as_attachment=True,
                     download_name=f"{certificate.number}.pdf")


@bp.post("/certificates/<int:certificate_id>/revoke")
@roles_required("hr")
def revoke_certificate(certificate_id: int):
    certificate = db.session.get(Certificate, certificate_id)
    form = RevokeForm()
    if certificate is None:
        abort(404)
    if not form.validate_on_submit():
        abort(400)
    certificates.revoke(certificate, form.reason.data, current_user)
    flash(_("Certificate %(number)s has been revoked.", number=certificate.number), "info")
    return redirect(url_for("people.employee", employee_id=certificate.employee_id))


@verify_bp.get("/verify")
def verify_form():
    """Public: type the code printed on a certificate (or scan its QR code, which opens /verify/<code>)."""
    code = request.args.get("code", "").strip().upper().replace(" ", "")
    if code:
        return redirect(url_for("verify.verify", code=code))
    return render_template("exams/verify.html", certificate=None, code=None, locale=current_locale())


@verify_bp.get("/verify/<code>")
@guess_limit
def verify(code: str):
    """Public: is this certificate genuine? Minimal data, the name masked."""
    code = code.strip().upper()
    problem = None
    certificate = None
    if len(code) != len(certificates.verification_code()) or set(code) - set(certificates.CODE_ALPHABET):
        problem = _("A verification code has %(n)s letters and digits, as printed on the certificate.",
                    n=len(certificates.verification_code()))
    else:
        certificate = db.session.scalars(select(Certificate).where(Certificate.verification_code == code)).first()
    status = 200 if certificate else 404
    return render_template("exams/verify.html", certificate=certificate, code=code[:24], problem=problem,
                           masked_name=certificates.mask_name(certificate.employee.name) if certificate else None,
                           locale=current_locale()), status


# ---------------------------------------------------------------- coaching and the onboarding gate


class CoachingForm(FlaskForm):
    coached_on = DateInput(_l("Date of the coaching"), validators=[DataRequired()])
    notes = TextAreaField(_l("What was covered"), validators=[DataRequired(), Length(max=4000)])


@bp.route("/coaching", methods=["GET", "POST"])
@roles_required("manager", "hr", "admin")
def coaching():
    """Coaching tasks for the viewer's people (HR: everyone), open ones first; record one here. A form
    with an error comes back under its own task, with what was typed."""
    form = CoachingForm()
    submitted = request.form.get("task_id", type=db_int) if request.method == "POST" else None
    if form.validate_on_submit():
        task = db.session.get(CoachingTask, submitted or 0)
        if task is None:
            abort(404)
        get_employee_for(current_user, task.employee_id)
        try:
            services.record_coaching(task, form.coached_on.data, form.notes.data, current_user)
        except services.CoachingRefused as refusal:
            if refusal.field == "task":
                abort(409)
            form.coached_on.errors = [*form.coached_on.errors, refusal.message]
        else:
            flash(_("Coaching recorded; the make-up exam is open."), "success")
            return redirect(url_for("exams.coaching"))
    people = visible_employees(current_user).subquery()
    tasks = db.session.scalars(
        select(CoachingTask).join(people, people.c.id == CoachingTask.employee_id)
        .options(joinedload(CoachingTask.employee), joinedload(CoachingTask.manager),
                 joinedload(CoachingTask.attempt))
        .order_by(CoachingTask.completed_at.is_not(None), CoachingTask.due_at).limit(500)
    ).all()
    failed = form.errors or any(f.errors for f in form)
    return render_template("exams/coaching.html", tasks=tasks, form=form, blank=CoachingForm(formdata=None),
                           submitted=submitted, now=clock.now(), today=clock.today(),
                           locale=current_locale()), 422 if failed else 200


@bp.get("/onboarding")
@roles_required("hr", "admin")
def onboarding():
    """Every new hire still blocked by the onboarding exam, why, and for how long."""
    return render_template("exams/onboarding.html", rows=services.blocked_new_hires(), today=clock.today(),
                           locale=current_locale())


@bp.get("/<slug>/analytics")
@roles_required("hr", "admin")
def analytics(slug: str):
    """Which questions (and so which rules) people get wrong most."""
    exam = services.current_exam(slug)
    if exam is None:
        abort(404)
    return render_template("exams/analytics.html", exam=exam, rows=services.question_analytics(slug),
                           locale=current_locale())
