"""The employee's inbox, HR's delivery problems page and the channel check."""

from __future__ import annotations

import re
import uuid

from flask import Blueprint, abort, current_app, flash, has_request_context, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from lms.extensions import db
from lms.inputs import db_int
from lms.notify import services
from lms.notify.forms import ChannelCheckForm, ContactHRForm, RetryForm
from lms.notify.models import Delivery, Message
from lms.paging import page_of
from lms.people.access import roles_required
from lms.people.models import Employee

bp = Blueprint("notify", __name__, template_folder="templates")

CHANNEL_LABELS = {"inapp": _l("In-app inbox"), "sms": _l("SMS"), "email": _l("E-mail")}
DELIVERY_STATUS_LABELS = {
    "pending": _l("Waiting"), "sending": _l("Sending"), "sent": _l("Sent"), "delivered": _l("Delivered"),
    "read": _l("Read"), "failed": _l("Failed"),
}


@bp.app_template_global()
def channel_label(channel: str) -> str:
    return CHANNEL_LABELS.get(channel, channel)


@bp.app_template_global()
def delivery_status_label(status: str) -> str:
    return DELIVERY_STATUS_LABELS.get(status, status)


_URL = re.compile(r"https?://[^\s<>\"]+")


@bp.app_template_filter()
def own_links(text: str) -> Markup:
    """A message's text, escaped, with links into this site made clickable (never links elsewhere)."""
    base = current_app.config["LMS_BASE_URL"].rstrip("/") + "/"

    def link(match: re.Match) -> str:
        url = match.group(0)
        if not url.startswith(base):
            return url
        path = "/" + url[len(base):]
        return f'<a href="{path}">{url}</a>'

    return Markup(_URL.sub(link, str(escape(text))))  # noqa: S704 — escaped first; the URL chars are safe


def _inbox_query():
    return (select(Delivery).join(Delivery.message)
            .where(Delivery.channel == "inapp", Message.recipient_id == current_user.employee_id))


@bp.app_context_processor
def unread_count():
    """The unread badge in the layout (one small query per page, only when signed in)."""
    if not has_request_context() or not current_user.is_authenticated or current_user.employee_id is None:
        return {"unread_count": 0}
    count = db.session.scalar(select(func.count()).select_from(
        _inbox_query().where(Delivery.read_at.is_(None)).subquery()))
    return {"unread_count": count}


@bp.get("/inbox")
@login_required
def inbox():
    rows = db.session.scalars(
        _inbox_query().options(joinedload(Delivery.message)).order_by(Delivery.id.desc()).limit(200)
    ).all() if current_user.employee_id else []
    return render_template("notify/inbox.html", deliveries=rows)


@bp.get("/inbox/<int:delivery_id>")
@login_required
def open_message(delivery_id: int):
    """Show one message to its recipient; opening it is the read receipt."""
    delivery = db.session.scalars(
        _inbox_query().options(joinedload(Delivery.message)).where(Delivery.id == delivery_id)
    ).first() if current_user.employee_id else None
    if delivery is None:
        abort(404)
    services.mark_read(delivery, current_user)
    from lms.absence.case_views import reply_target

    return render_template("notify/message.html", delivery=delivery, reply_case_id=reply_target(delivery.message))


@bp.get("/notify/problems")
@roles_required("hr", "admin")
def problems():
    """Deliveries that failed for good, and those still retrying: newest first, a page at a time."""
    problem = (Delivery.status == "failed") | (Delivery.status.in_(("pending", "sending")) & (Delivery.attempts > 0))
    query = select(Delivery).options(joinedload(Delivery.message).joinedload(Message.recipient)).where(problem)
    rows, page, pages, total = page_of(query, request.args.get("page", 1, type=db_int),
                                       order_by=(Delivery.id.desc(),), scalars=True)
    return render_template("notify/problems.html", deliveries=rows, form=RetryForm(), total=total, page=page,
                           pages=pages)


@bp.post("/notify/problems/<int:delivery_id>/retry")
@roles_required("hr", "admin")
def retry(delivery_id: int):
    if not RetryForm().validate_on_submit():
        abort(400)
    try:
        services.retry_now(delivery_id, current_user)
    except ValueError:
        abort(404)
    flash(_("Another try has been started."), "info")
    return redirect(url_for("notify.problems"))


@bp.route("/notify/check", methods=["GET", "POST"])
@roles_required("hr", "admin")
def channel_check():
    """Send a test message to one employee, to see that each channel reaches them."""
    form = ChannelCheckForm()
    status = 200
    if form.validate_on_submit():
        employee = db.session.scalars(
            select(Employee).where(Employee.employee_no == form.employee_no.data.strip())
        ).first()
        if employee is None:
            form.employee_no.errors.append(_("No employee has this number."))
            status = 422
        else:
            sender = current_user.employee.name if current_user.employee else current_user.username
            message = services.send(f"channel-check:{uuid.uuid4().hex}", employee, "channel_check",
                                    {"name": employee.name, "sender": sender}, form.channels.data,
                                    actor=current_user)
            flash(_("Test message sent to %(name)s.", name=employee.name), "success")
            return render_template("notify/check.html", form=form, message=message)
    elif form.errors:
        status = 422
    return render_template("notify/check.html", form=form, message=None), status


@bp.route("/contact-hr", methods=["GET", "POST"])
@login_required
def contact_hr():
    """HR's phone and e-mail, and a message that lands in every HR officer's inbox (the handbook's “联系人事”)."""
    form = ContactHRForm()
    status = 200
    officers = services.hr_contacts()
    if form.validate_on_submit():
        if current_user.employee is None:
            abort(403)
        if not officers:
            form.body.errors.append(_("No HR officer can receive messages here yet; please call HR."))
            status = 422
        else:
            services.message_hr(current_user.employee, form.body.data, current_user)
            flash(_("Your message has been sent to HR. The answer will come to your inbox or by phone."), "success")
            return redirect(url_for("notify.contact_hr"))
    elif form.errors:
        status = 422
    return render_template("notify/contact_hr.html", form=form, officers=officers,
                           phone=current_app.config["LMS_HR_PHONE"], email=current_app.config["LMS_HR_EMAIL"]), status
