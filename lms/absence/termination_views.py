"""Termination on the case page: what still stands in the way (every unmet precondition, in words), HR's
confirmation, then the termination notice's service and the date it takes effect. Rules in `termination`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from lms.absence import service, termination, union
from lms.absence.case_views import _act
from lms.absence.views import bp
from lms.documents.models import Document
from lms.extensions import db
from lms.forms import DateInput
from lms.people.access import roles_required


class TerminationForm(FlaskForm):
    note = TextAreaField(_l("Why (for the record)"), validators=[Optional(), Length(max=2000)])
    review_note = TextAreaField(_l("Your review of the reply (needed when it names a hospital, a pregnancy, an "
                                   "injury or the police)"), validators=[Optional(), Length(max=2000)])
    not_before = DateInput(_l("A later termination date (optional; it never takes effect before service)"),
                           validators=[Optional()])


def context_for(case) -> dict:
    """The termination section: shown once the effective deadline has passed or a termination exists."""
    separation = termination.separation_of(case)
    passed, _why = service.deadline_has_passed(case)
    state = service.case_service(case, termination.KIND) if separation else None
    certificate = service.case_service(case, "termination_certificate") \
        if separation and separation.certificate_id else None
    return {"termination_shown": passed or separation is not None, "separation": separation,
            "termination_unmet": termination.unmet(case, check_review=False)
            if separation is None and case.is_open else [],
            "termination_flagged": termination.flagged_replies(case),
            "termination_service": state,
            "termination_words": service.service_words(state) if state else None,
            "termination_certificate": db.session.get(Document, separation.certificate_id)
            if separation and separation.certificate_id else None,
            "termination_lagging": termination.lagging(case),
            "certificate_service": certificate,
            "certificate_words": service.service_words(certificate) if certificate else None,
            "termination_form": TerminationForm(formdata=None),
            "case_drafts": termination.drafts(case, current_user, union.addressee(case)) if separation is None else {}}


@bp.post("/cases/<int:case_id>/termination")
@roles_required("hr", "admin")
def confirm_termination(case_id: int):
    return _act(case_id, TerminationForm, lambda case, form: termination.confirm(
        case, current_user, note=form.note.data, review_note=form.review_note.data, not_before=form.not_before.data))
