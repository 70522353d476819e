"""HR pages: evidence events by subject and kind, the chain's verification status, evidence packs."""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from redis.exceptions import RedisError
from sqlalchemy import false, select

from lms import jobs
from lms.evidence import record, services, subject_of
from lms.evidence.forms import SUBJECT, PackForm, VerifyForm
from lms.evidence.jobs import verify_chain_job
from lms.evidence.labels import actor_names, kind_choices, subject_labels
from lms.evidence.models import EvidenceEvent, body_field
from lms.evidence.pack import download_response, pack_for_subject
from lms.extensions import db
from lms.inputs import db_int
from lms.paging import PAGE_SIZE
from lms.people.access import roles_required
from lms.people.models import Employee

bp = Blueprint("evidence", __name__, url_prefix="/evidence", template_folder="templates")


@bp.get("/")
@roles_required("hr", "admin")
def events():
    """Events newest first, filtered by kind, by an employee (number or name) or by any subject."""
    subject = request.args.get("subject", "").strip()[:100]
    kind = request.args.get("kind", "").strip()[:80]
    who = request.args.get("who", "").strip()[:100]
    before = request.args.get("before", type=db_int)
    matches: list[Employee] = []
    if who and not subject:
        matches = _find_employees(who)
        if len(matches) == 1:
            subject = subject_of("employee", matches[0].id)
    query = select(EvidenceEvent).order_by(EvidenceEvent.seq.desc()).limit(PAGE_SIZE + 1)
    if subject:
        query = query.where(body_field("subject") == subject)
    elif who:  # nobody, or several people, match: list them instead of every event
        query = query.where(false())
    if kind:
        query = query.where(body_field("kind") == kind)
    if before:
        query = query.where(EvidenceEvent.seq < before)
    rows = db.session.scalars(query).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    length, head = services.chain_head()
    return render_template(
        "evidence/events.html", events=rows, subject=subject, kind=kind, who=who, matches=matches, more=more,
        next_before=rows[-1].seq if more else None, length=length, head=head,
        verification=services.latest_verification(), form=VerifyForm(), kinds=kind_choices(),
        actors=actor_names(event.actor for event in rows),
        subjects=subject_labels([*(event.subject for event in rows), *([subject] if subject else [])]),
        pack_form=PackForm(formdata=None, subject=subject) if re.match(SUBJECT, subject) else None,
    )


def _find_employees(who: str) -> list[Employee]:
    """The employee with this number, or those whose name contains `who` (at most 20)."""
    exact = db.session.scalars(select(Employee).where(Employee.employee_no == who)).all()
    if exact:
        return list(exact)
    return list(db.session.scalars(select(Employee).where(Employee.name.contains(who, autoescape=True))
                                   .order_by(Employee.employee_no).limit(20)))


@bp.post("/verify")
@roles_required("hr", "admin")
def verify():
    """Recompute the chain now (or on a worker when Redis is configured)."""
    if VerifyForm().validate_on_submit():
        try:
            jobs.enqueue(verify_chain_job)
        except RedisError:  # nothing was started; saying so beats a lost click (or an error page)
            flash(_("The job queue cannot be reached, so the verification did not start. Try again in a "
                    "minute, or run “flask evidence verify” on the server."), "error")
        else:
            flash(_("Verification started. The result appears below when it is done."), "info")
    return redirect(url_for("evidence.events"))


PACK_DOWNLOADED = "evidence.pack_downloaded"


@bp.post("/pack")
@roles_required("hr", "admin")
def pack():
    """The evidence pack (ZIP) for one subject; the download itself is recorded first."""
    form = PackForm()
    if not form.validate_on_submit():
        abort(400)
    subject = form.subject.data
    user = current_user._get_current_object()
    built = pack_for_subject(subject, generated_by=services.actor_of(user))
    if built.event_count == 0:
        flash(_("There are no events about %(subject)s, so there is no pack to download.",
                subject=subject_labels([subject])[subject]),
              "error")
        return redirect(url_for("evidence.events", subject=subject))
    record(PACK_DOWNLOADED, subject, {
        "manifest_sha256": built.manifest_sha256, "events": built.event_count, "filename": built.filename,
        "ip": request.remote_addr, "user_agent": (request.user_agent.string or "")[:200],
    }, actor=user)
    db.session.commit()
    return download_response(built)
