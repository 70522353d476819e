"""What people read for an evidence event: its kind in words, and who did it by name — never `absence.served`
or `user:4`. The stored events keep their codes (they are the record); screens show these labels."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.extensions import db

EVENT_LABELS = {
    "absence.monitoring_started": _l("Absence monitoring switched on"),
    "absence.case_opened": _l("Absence case opened"),
    "absence.day_counted": _l("Day counted as absence"),
    "absence.day_uncounted": _l("Day no longer counted"),
    "absence.day_recounted": _l("Day counted again"),
    "absence.days_excused": _l("Days excused"),
    "absence.days_confirmed": _l("Days confirmed as absence"),
    "absence.step_sent": _l("Reminder sent"),
    "absence.step_skipped": _l("Reminder not sent"),
    "absence.threshold_reached": _l("Threshold reached"),
    "absence.threshold_withdrawn": _l("Threshold withdrawn"),
    "absence.reply_received": _l("Reply received"),
    "absence.decided": _l("HR decided"),
    "absence.returned_after_threshold": _l("Returned after the threshold"),
    "absence.case_resolved": _l("Case resolved"),
    "absence.note": _l("Note"),
    "absence.todo_done": _l("To-do done"),
    "absence.not_reported": _l("New hire has not reported"),
    "absence.leave_cancelled": _l("Leave cancelled"),
    "absence.dispatched": _l("Notice dispatched"),
    "absence.dispatch_photo": _l("Dispatch photo kept"),
    "absence.tracking": _l("Tracking event"),
    "absence.signature_confirmed": _l("Signature confirmed by HR"),
    "absence.public_notice": _l("Public notice published"),
    "absence.served": _l("Notice served"),
    "absence.service_failed": _l("Service failed"),
    "absence.deadline_set": _l("Deadline set"),
    "absence.deadline_passed": _l("Deadline passed"),
    "absence.union_notice": _l("Union notified"),
    "absence.union_opinion": _l("Union's opinion received"),
    "absence.union_reply": _l("Company's reply to the union"),
    "absence.no_union_recorded": _l("No union on record"),
    "absence.termination_confirmed": _l("Termination confirmed"),
    "documents.issued": _l("Document issued"),
    "documents.downloaded": _l("Document downloaded"),
    "evidence.pack_downloaded": _l("Evidence pack downloaded"),
    "evidence.verified": _l("Evidence log verified"),
    "people.account_locked": _l("Account locked after failed sign-ins"),
    "notify.message_created": _l("Message written"),
    "notify.attempt": _l("Delivery attempted"),
    "notify.sent": _l("Message sent"),
    "notify.delivered": _l("Message delivered"),
    "notify.read": _l("Message read"),
    "notify.delivery_failed": _l("Delivery failed"),
    "notify.failed": _l("Delivery failed"),
    "notify.gave_up": _l("Delivery given up"),
    "notify.retry_requested": _l("Delivery retried"),
    "people.employment_ended": _l("Employment ended"),
    "people.separation_recorded": _l("Ending of employment recorded"),
    "people.activated": _l("Employee activated"),
    "courses.attested": _l("Rules confirmed as read (知悉确认)"),
    "courses.completed": _l("Course completed"),
    "exams.attempt_started": _l("Exam started"),
    "exams.attempt_submitted": _l("Exam submitted"),
    "exams.certificate_issued": _l("Certificate issued"),
    "exams.certificate_revoked": _l("Certificate revoked"),
}


def event_label(kind: str) -> str:
    label = EVENT_LABELS.get(kind)
    return str(label) if label else _("Recorded event")


def actor_names(actors: Iterable[str]) -> dict[str, str]:
    """Who each actor reference is, in words ({"user:4": "李娜", "system": "系统"}); two queries at most."""
    from lms.people.models import ApiToken, User

    refs = set(actors)
    names = {"system": _("the system"), "replay": _("scenario replay")}
    user_ids = [int(r.partition(":")[2]) for r in refs if r.startswith("user:") and r.partition(":")[2].isdigit()]
    token_ids = [int(r.partition(":")[2]) for r in refs
                 if r.startswith("api-token:") and r.partition(":")[2].isdigit()]
    if user_ids:
        for user in db.session.scalars(select(User).where(User.id.in_(user_ids))):
            names[f"user:{user.id}"] = user.employee.name if user.employee else user.username
    if token_ids:
        for token in db.session.scalars(select(ApiToken).where(ApiToken.id.in_(token_ids))):
            names[f"api-token:{token.id}"] = _("integration “%(name)s”", name=token.name)
    return {ref: names.get(ref, _("someone else")) for ref in refs}
