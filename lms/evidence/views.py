"""HR pages: evidence events by subject and kind, and the chain's verification status."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from lms import jobs
from lms.evidence import services
from lms.evidence.forms import VerifyForm
from lms.evidence.jobs import verify_chain_job
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db
from lms.people.access import roles_required

bp = Blueprint("evidence", __name__, url_prefix="/evidence", template_folder="templates")
PAGE_SIZE = 50


@bp.get("/")
@roles_required("hr", "admin")
def events():
    """Events newest first, filtered by subject (e.g. employee:12) and kind."""
    subject = request.args.get("subject", "").strip()
    kind = request.args.get("kind", "").strip()
    before = request.args.get("before", type=int)
    query = select(EvidenceEvent).order_by(EvidenceEvent.seq.desc()).limit(PAGE_SIZE + 1)
    if subject:
        query = query.where(body_field("subject") == subject)
    if kind:
        query = query.where(body_field("kind") == kind)
    if before:
        query = query.where(EvidenceEvent.seq < before)
    rows = db.session.scalars(query).all()
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    length, head = services.chain_head()
    return render_template(
        "evidence/events.html", events=rows, subject=subject, kind=kind, more=more,
        next_before=rows[-1].seq if more else None, length=length, head=head,
        verification=services.latest_verification(), form=VerifyForm(),
    )


@bp.post("/verify")
@roles_required("hr", "admin")
def verify():
    """Recompute the chain now (or on a worker when Redis is configured)."""
    if VerifyForm().validate_on_submit():
        jobs.enqueue(verify_chain_job)
        flash(_("Verification started. The result appears below when it is done."), "info")
    return redirect(url_for("evidence.events"))
