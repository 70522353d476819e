"""/api/v1: personal tokens, and taking an exam from an app (start, save answers, submit, result)."""

from __future__ import annotations

from flask import current_app, g
from flask.views import MethodView
from flask_babel import gettext as _
from marshmallow import Schema, fields
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from lms.api import Blueprint, DecimalString
from lms.api.auth import employee_token_reading, employee_token_required
from lms.api.employees import ErrorResponse
from lms.exams import services
from lms.exams.content import question_clause
from lms.exams.models import Certificate, ExamAttempt, ExamVersion
from lms.extensions import db, limiter
from lms.people import services as people
from lms.people.signin import SignInRefused
from lms.ui import api_error

blp = Blueprint("api_exams", __name__, url_prefix="/api/v1",
                description="Personal tokens and exam attempts (SPEC §3). The answer key never leaves the server "
                            "before submission.")


class Credentials(Schema):
    username = fields.String(required=True)
    password = fields.String(required=True, load_only=True)


class PersonalToken(Schema):
    token = fields.String()
    expires_at = fields.DateTime()


class AttemptOut(Schema):
    id = fields.Integer()
    exam = fields.String(attribute="exam_slug")
    number = fields.Integer()
    started_at = fields.DateTime()
    deadline_at = fields.DateTime()
    submitted_at = fields.DateTime(allow_none=True)
    questions = fields.Function(lambda a: [_with_clause(item) for item in a.paper],
                                metadata={"description": "Each names the rule clause it tests (`clause`)."})
    answers = fields.Dict()


def _with_clause(item: dict) -> dict:
    """A question as the learner sees it, naming its rule clause (and each scenario part's)."""
    shown = services.public_item(item)
    shown["clause"] = question_clause(item)
    for part, original in zip(shown.get("parts", []), item.get("parts", []), strict=True):
        part["clause"] = original["clause"]
    return shown


class SavedOut(Schema):
    id = fields.Integer()
    answers = fields.Dict()
    deadline_at = fields.DateTime()


class AnswersIn(Schema):
    answers = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), required=True,
                          metadata={"description": 'Answer slots: "3" or, in a scenario, "3.p1"; '
                                                   'values are option keys or "true"/"false".'})


class SubmitIn(Schema):
    answers = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), load_default=None)


class ResultOut(Schema):
    id = fields.Integer()
    exam = fields.String(attribute="exam_slug")
    number = fields.Integer()
    score = DecimalString()
    passed = fields.Boolean(attribute="is_passed")
    late = fields.Boolean(attribute="is_late")
    submitted_at = fields.DateTime()
    questions = fields.List(fields.Dict(), attribute="paper",
                            metadata={"description": "With the key and explanations, after submission only."})
    answers = fields.Dict()
    certificate = fields.Function(lambda a: a.certificate_summary)


# What showing or grading an attempt reads, in one query rather than one lazy load each.
_WHOLE_ATTEMPT = (joinedload(ExamAttempt.stored_paper),
                  joinedload(ExamAttempt.exam_version).joinedload(ExamVersion.bank), joinedload(ExamAttempt.employee))


def _attempt(attempt_id: int) -> ExamAttempt | None:
    attempt = db.session.get(ExamAttempt, attempt_id, options=_WHOLE_ATTEMPT)
    return attempt if attempt is not None and attempt.employee_id == g.api_holder.employee_id else None


def _with_certificate(attempt: ExamAttempt) -> ExamAttempt:
    """The graded attempt, with the summary of its certificate (a passed attempt has one)."""
    certificate = db.session.scalars(select(Certificate).where(Certificate.attempt_id == attempt.id)).first() \
        if attempt.is_passed else None
    attempt.certificate_summary = None if certificate is None else {
        "number": certificate.number, "verification_code": certificate.verification_code,
        "issued_at": certificate.issued_at.isoformat(), "pdf_url": f"/exams/certificates/{certificate.id}.pdf"}
    return attempt


@blp.route("/auth/token")
class Tokens(MethodView):
    decorators = [limiter.limit(lambda: current_app.config["LMS_LOGIN_LIMIT"])]

    @blp.arguments(Credentials())
    @blp.response(201, PersonalToken)
    @blp.alt_response(401, schema=ErrorResponse)
    def post(self, credentials):
        """A personal token (12 hours) for an app acting as this person."""
        try:
            user = people.authenticate(credentials["username"], credentials["password"])
        except SignInRefused as refused:
            response, status = api_error(429, refused.message(), field="username")
            response.headers["Retry-After"] = str(refused.retry_after)
            return response, status
        if user is None:
            return api_error(401, _("Wrong username or password."), field="password")
        token, plain = people.issue_personal_token(user)
        return {"token": plain, "expires_at": token.expires_at}, 201


@blp.route("/exams/<string:slug>/attempts")
class Attempts(MethodView):
    decorators = [employee_token_required]

    @blp.response(201, AttemptOut)
    @blp.alt_response(404, schema=ErrorResponse)
    @blp.alt_response(409, schema=ErrorResponse, description="Passed already, no attempts left, or "
                                                             "waiting for the manager's coaching.")
    def post(self, slug: str):
        """Start an attempt (or get back the one still open)."""
        try:
            return services.start_attempt(g.api_holder.employee_id, slug, actor=g.api_holder), 201
        except services.ExamRefused as refusal:
            if str(refusal) == "no such exam":
                return api_error(404, _("There is no such exam."), field="slug")
            return api_error(409, refusal.message, field=str(refusal))


@blp.route("/attempts/<int:attempt_id>")
class Attempt(MethodView):
    decorators = [employee_token_required]

    @blp.response(200, AttemptOut)
    @blp.alt_response(404, schema=ErrorResponse)
    def get(self, attempt_id: int):
        """The questions (without the key) and the answers saved so far."""
        attempt = _attempt(attempt_id)
        return attempt if attempt else api_error(404, _("No such attempt."), field="attempt_id")


@blp.route("/attempts/<int:attempt_id>/answers")
class Answers(MethodView):
    decorators = [employee_token_reading(services.holder_and_attempt_for_saving)]

    @blp.arguments(AnswersIn())
    @blp.response(200, SavedOut)
    @blp.alt_response(409, schema=ErrorResponse, description="The attempt is closed.")
    def put(self, body, attempt_id: int):
        """Save answers as the learner goes (any subset of slots)."""
        attempt = g.api_row
        if attempt is None or attempt.employee_id != g.api_holder.employee_id:
            return api_error(404, _("No such attempt."), field="attempt_id")
        by_number: dict[int, dict] = {}
        for key, values in body["answers"].items():
            if key not in attempt.slots:
                return api_error(422, _("No question %(key)s in this attempt.", key=key), field=f"answers.{key}")
            by_number.setdefault(int(key.split(".", 1)[0]), {})[key] = values
        answers = services.save_answers(attempt, by_number)
        if answers is None:
            return api_error(409, _("The time for this attempt is up."))
        return {"id": attempt.id, "deadline_at": attempt.deadline_at, "answers": answers}


@blp.route("/attempts/<int:attempt_id>/submit")
class Submit(MethodView):
    decorators = [employee_token_required]

    @blp.arguments(SubmitIn())
    @blp.response(200, ResultOut)
    def post(self, body, attempt_id: int):
        """Submit once: graded on the server; a late submit counts only answers saved in time."""
        attempt = _attempt(attempt_id)
        if attempt is None:
            return api_error(404, _("No such attempt."), field="attempt_id")
        return _with_certificate(services.submit(attempt, body.get("answers"), actor=g.api_holder))


@blp.route("/attempts/<int:attempt_id>/result")
class Result(MethodView):
    decorators = [employee_token_required]

    @blp.response(200, ResultOut)
    @blp.alt_response(409, schema=ErrorResponse, description="Not submitted yet.")
    def get(self, attempt_id: int):
        """The score, the key and explanations, and the certificate if passed."""
        attempt = _attempt(attempt_id)
        if attempt is None:
            return api_error(404, _("No such attempt."), field="attempt_id")
        if attempt.submitted_at is None:
            return api_error(409, _("The attempt has not been submitted yet."))
        return _with_certificate(attempt)
