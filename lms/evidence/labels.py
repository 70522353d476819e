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
    "absence.calendar_override": _l("Calendar day changed"),
    "absence.calendar_year_entered": _l("Holiday calendar entered"),
    "absence.leave_recorded": _l("Leave recorded"),
    "absence.notice_issued": _l("Return-to-work notice issued"),
    "absence.punches_imported": _l("Punches imported"),
    "absence.roster_saved": _l("Roster saved"),
    "absence.shift_assigned": _l("Shift group assigned"),
    "absence.shift_group_saved": _l("Shift group saved"),
    "campaigns.assigned": _l("Refresher assigned"),
    "campaigns.completed": _l("Refresher completed"),
    "campaigns.created": _l("Campaign created"),
    "campaigns.launched": _l("Campaign launched"),
    "courses.chapter_opened": _l("Chapter opened"),
    "courses.enrolled": _l("Enrolled in a course"),
    "courses.post_hidden": _l("Discussion post hidden"),
    "courses.rules_loaded": _l("Rule set loaded"),
    "courses.version_loaded": _l("Course version loaded"),
    "documents.template_loaded": _l("Document template loaded"),
    "exams.bank_loaded": _l("Question bank loaded"),
    "exams.exam_loaded": _l("Exam loaded"),
    "exams.coaching_requested": _l("Coaching requested from the manager"),
    "exams.coaching_recorded": _l("Coaching recorded"),
    "exams.coaching_escalated": _l("Coaching overdue: escalated"),
    "people.employee_created": _l("Employee record created"),
    "people.employee_updated": _l("Employee record changed"),
    "people.national_id_viewed": _l("National ID number revealed"),
    "requests.correction_requested": _l("Missed-punch correction requested"),
    "requests.correction_decided": _l("Missed-punch correction decided"),
    "requests.details_changed": _l("Contact details changed"),
    "requests.emergency_reported": _l("Emergency reported"),
    "requests.emergency_not_followed_up": _l("Emergency report not followed by a leave request"),
    "requests.emergency_todo_done": _l("Emergency to-do done"),
    "requests.leave_requested": _l("Leave requested"),
    "requests.leave_decided": _l("Leave request decided"),
    "requests.leave_withdrawn": _l("Leave request withdrawn"),
    "requests.manager_away": _l("Manager marked as away"),
    "requests.service_address_confirmed": _l("Service address confirmed"),
}


def event_label(kind: str) -> str:
    label = EVENT_LABELS.get(kind)
    return str(label) if label else _("Recorded event")


def actor_names(actors: Iterable[str]) -> dict[str, str]:
    """Who each actor reference is, in words ({"user:4": "李娜", "system": "系统"}); two queries at most."""
    from lms.people.models import ApiToken, User

    refs = set(actors)
    names = {"system": _("the system"), "replay": _("scenario replay"), "demo": _("demo data")}
    user_ids = [int(r.partition(":")[2]) for r in refs if r.startswith("user:") and r.partition(":")[2].isdigit()]
    employee_ids = [int(r.partition(":")[2]) for r in refs
                    if r.startswith("employee:") and r.partition(":")[2].isdigit()]
    if employee_ids:
        from lms.people.models import Employee

        for employee in db.session.scalars(select(Employee).where(Employee.id.in_(employee_ids))):
            names[f"employee:{employee.id}"] = employee.name
    token_ids = [int(r.partition(":")[2]) for r in refs
                 if r.startswith("api-token:") and r.partition(":")[2].isdigit()]
    if user_ids:
        for user in db.session.scalars(select(User).where(User.id.in_(user_ids))):
            names[f"user:{user.id}"] = user.employee.name if user.employee else user.username
    if token_ids:
        for token in db.session.scalars(select(ApiToken).where(ApiToken.id.in_(token_ids))):
            names[f"api-token:{token.id}"] = _("integration “%(name)s”", name=token.name)
    return {ref: names.get(ref, _("someone else")) for ref in refs}


# What a subject is about when it is not a person or a case: its kind in words (the raw subject stays in a tooltip).
SUBJECT_KINDS = {
    "rules": _l("Rule set %(value)s"), "course": _l("Course"), "bank": _l("Question bank"), "exam": _l("Exam"),
    "document_template": _l("Document template"), "shift_group": _l("Shift group"),
    "absence": _l("Absence monitoring"), "punches": _l("Time-clock punches"), "campaign": _l("Refresher campaign"),
}


def subject_labels(subjects: Iterable[str]) -> dict[str, str]:
    """What each subject is, in words ({"employee:4": "王芳（E0013）", "case:2": "王芳的缺勤案件"}); two queries."""
    from lms.absence.models import AbsenceCase
    from lms.people.models import Employee

    refs = set(subjects)

    def ids(prefix: str) -> list[int]:
        return [int(r.partition(":")[2]) for r in refs if r.startswith(prefix + ":") and r.partition(":")[2].isdigit()]

    labels: dict[str, str] = {}
    employee_ids, case_ids = ids("employee"), ids("case")
    if employee_ids:
        for employee in db.session.scalars(select(Employee).where(Employee.id.in_(employee_ids))):
            labels[f"employee:{employee.id}"] = f"{employee.name}（{employee.employee_no}）"
    if case_ids:
        rows = db.session.execute(select(AbsenceCase.id, Employee.name).join(
            Employee, Employee.id == AbsenceCase.employee_id).where(AbsenceCase.id.in_(case_ids)))
        for case_id, name in rows:
            labels[f"case:{case_id}"] = _("absence case of %(name)s", name=name)
    for ref in refs - labels.keys():
        prefix, _sep, value = ref.partition(":")
        label = SUBJECT_KINDS.get(prefix)
        if prefix in ("employee", "case"):  # no such record: its reference is all there is to show
            labels[ref] = ref
        else:
            labels[ref] = str(label) % {"value": value} if label else _("Other record")
    return labels


def kind_choices() -> list[tuple[str, str]]:
    """Every event kind people can filter by, as (kind, label), sorted by label."""
    return sorted(((kind, str(label)) for kind, label in EVENT_LABELS.items()), key=lambda pair: pair[1])
