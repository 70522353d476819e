"""The return-to-work notice 《限期返岗通知书》: its draft (the facts it states), its preconditions, issuing.

The notice is drafted while a case's threshold holds and issued by HR after review. Each fact comes
from the record: the counted days, the messages sent to the employee and their delivery, the rule
clause `absence.threshold` in the version the threshold was reached under, and the employee's
training proof for that clause dated before the first absent day (or a warning on the draft where
there is none: the notice may still be issued, and the gap is on record in its facts).

Dispatch and service belong to the service module; the notice states the deadline D computed from
the planned dispatch date (`deadlines.stated_deadline`); HR may state a later date, never an earlier.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from lms import clock, evidence
from lms.absence import cases, deadlines, service, thresholds
from lms.absence.models import STEP_KINDS, AbsenceCase
from lms.courses.models import Attestation, Chapter, CourseVersion, RuleSet
from lms.documents import services as documents
from lms.documents.models import Document
from lms.exams.models import Certificate
from lms.extensions import db
from lms.people import sensitive
from lms.people.access import hr_employee_ids
from lms.people.models import Employee, User

KIND = "return_to_work"
CLAUSE = "absence.threshold"
PROCEDURE = deadlines.PROCEDURE_CLAUSE
CONSEQUENCE = "unreachable.consequence"


class NoticeRefused(cases.CaseError):
    """A precondition of the notice does not hold; the message says which."""


class DeadlineTooEarly(cases.CaseError):
    """HR stated a deadline before D: the notice may give more time, never less."""


@dataclass
class Draft:
    """What the notice would state if issued now, and what HR should know before issuing it."""

    facts: dict
    dispatch_on: date
    minimum_deadline: date  # D for the planned dispatch date
    deadline: date  # what the notice states (D or HR's later date)
    warnings: list = field(default_factory=list)
    has_training_proof: bool = False


def check(case: AbsenceCase) -> tuple:
    """The threshold holding now, as `thresholds.holding()` gives it; NoticeRefused naming the first
    precondition that fails."""
    if case.state != "threshold_reached":
        raise NoticeRefused(_l("The threshold does not hold for this case (state: %(state)s): no return-to-work "
                               "notice may be issued.", state=case.state))
    if case.paused_at is not None:
        raise NoticeRefused(_l("A reply or a return awaits HR's decision: decide on it before issuing the notice."))
    unruled = [d.day.isoformat() for d in case.days if d.status == "counted" and d.rule_version is None]
    if unruled:
        raise NoticeRefused(_l("No rule version was in force on %(days)s: these days cannot be stated in a notice.",
                               days=", ".join(unruled)))
    held = thresholds.holding(case)
    if held is None:
        raise NoticeRefused(_l("The counted days no longer reach the threshold: no return-to-work notice may be "
                               "issued."))
    return held


def default_dispatch_day(today: date | None = None) -> date:
    """The next working day after `today` (the day the notice would go out if issued today); the day after
    today where the calendar does not know the days (the deadline then says so)."""
    tomorrow = (today or clock.today()) + timedelta(days=1)
    try:
        return deadlines.next_working_day_from(tomorrow)
    except deadlines.DeadlineUnknown:
        return tomorrow


def _rule_set(rules) -> RuleSet:
    """The rule set `rules` were read from, with its clauses (loaded with them by `holding()`)."""
    return rules.rule_set or db.session.get(RuleSet, rules.rule_set_id, options=[selectinload(RuleSet.clauses)])


def _local_text(moment: datetime | None) -> str | None:
    return clock.local(moment).strftime("%Y-%m-%d %H:%M") if moment else None


def _training(employee_id: int, before: datetime) -> dict:
    """Certificates and attestations covering the clause, issued before `before`."""
    certificates = [{"number": c.number, "issued_on": clock.local(c.issued_at).date().isoformat(),
                     "score": str(c.score), "exam_title": c.exam_title_zh, "pdf_sha256": c.pdf_sha256}
                    for c in db.session.scalars(select(Certificate).where(
                        Certificate.employee_id == employee_id, Certificate.revoked_at.is_(None),
                        Certificate.issued_at < before).order_by(Certificate.issued_at))
                    if CLAUSE in {clause["id"] for clause in c.clauses or []}]
    attestations = [{"at": _local_text(a.attested_at), "displayed_sha256": a.displayed_sha256,
                     "chapter_sha256": a.chapter_sha256, "chapter": a.chapter.title_zh,
                     "course": a.chapter.course_version.title_zh, "evidence_seq": a.evidence_seq}
                    for a in db.session.scalars(select(Attestation).where(
                        Attestation.employee_id == employee_id, Attestation.attested_at < before)
                        .options(selectinload(Attestation.chapter).selectinload(Chapter.course_version)
                                 .selectinload(CourseVersion.course))
                        .order_by(Attestation.attested_at))
                    if CLAUSE in (a.chapter.rule_ids or [])]
    return {"certificates": certificates, "attestations": attestations}


def _hr_contact(actor) -> dict:
    person = actor.employee if isinstance(actor, User) and actor.employee_id else None
    if person is None:
        ids = hr_employee_ids()
        person = db.session.get(Employee, ids[0]) if ids else None
    if person is None:
        return {"name": "人力资源部", "phone": None, "email": None}
    return {"name": person.name, "phone": person.mobile, "email": person.email}


def draft(case: AbsenceCase, actor=None, *, dispatch_on: date | None = None, deadline: date | None = None) -> Draft:
    """The notice's facts as of now; raises NoticeRefused (a precondition) or DeadlineTooEarly."""
    _day, criterion, days, rules = check(case)
    # The employee with their department, in one query (unless the session has them already); held by the
    # case, so that issuing reads them from it, not again.
    employee = db.session.get(Employee, case.employee_id, options=[joinedload(Employee.department)])
    set_committed_value(case, "employee", employee)
    counted = sorted(d for d in case.counted_days)
    first = counted[0]
    rule_set = _rule_set(rules)
    clauses = {c.clause_id: c for c in rule_set.clauses}
    clause = clauses[CLAUSE]
    dispatch_on = dispatch_on or default_dispatch_day()
    if dispatch_on < clock.today():
        raise DeadlineTooEarly(_l("The planned dispatch date %(day)s is in the past.", day=dispatch_on.isoformat()))
    procedure = clauses.get(PROCEDURE)
    if procedure is None or not procedure.values.get("postal_allowance_days"):
        raise NoticeRefused(_l("Rule set %(v)s states no postal allowance and return period: no deadline can be "
                               "computed.", v=rule_set.version))
    try:
        minimum = deadlines.stated_deadline(dispatch_on, procedure.values)
    except deadlines.DeadlineUnknown as exc:
        raise NoticeRefused(_l("The working-day calendar does not know the days around the deadline (%(why)s): "
                               "enter the year first.", why=str(exc))) from exc
    if deadline is not None and deadline < minimum:
        raise DeadlineTooEarly(_l("The deadline %(day)s is earlier than %(minimum)s, the earliest the rules allow "
                                  "for dispatch on %(dispatch)s.", day=deadline.isoformat(),
                                  minimum=minimum.isoformat(), dispatch=dispatch_on.isoformat()))
    deadline = deadline or minimum
    messages = []
    for message, step, role in cases.case_messages([case.id], with_recipients=False)[case.id]:
        if role != "employee" or step.split(":")[0] not in STEP_KINDS:
            continue
        for delivery in message.deliveries:
            messages.append({"step": step.split(":")[0], "day": step.partition(":")[2] or None,
                             "at": _local_text(delivery.sent_at or message.created_at), "channel": delivery.channel,
                             "status": delivery.status, "delivered_at": _local_text(delivery.delivered_at),
                             "read_at": _local_text(delivery.read_at)})
    training = _training(employee.id, clock.as_utc(datetime.combine(first, time(0))))
    national_id = None
    if employee.national_id_encrypted:
        national_id = sensitive.mask(sensitive.decrypt(employee.national_id_encrypted))
    consequence = clauses.get(CONSEQUENCE)
    facts = {
        "case_id": case.id,
        "employee": {"name": employee.name, "employee_no": employee.employee_no,
                     "department": employee.department.name, "position": employee.position,
                     "national_id_masked": national_id},
        "absent_days": [{"date": d.isoformat(), "weekday": d.weekday()} for d in counted],
        "threshold": {"criterion": criterion, "days": [d.isoformat() for d in days]},
        "messages": messages,
        "rule": {"version": rule_set.version, "title": rule_set.title_zh, "adopted_on": rule_set.adopted_on.isoformat(),
                 "effective_from": rule_set.effective_from.isoformat(), "sha256": rule_set.sha256,
                 "clause_id": CLAUSE, "clause_title": clause.title_zh, "clause_text": clause.text_zh,
                 "consequence_text": consequence.text_zh if consequence else None},
        "training": training,
        "dispatch_on": dispatch_on.isoformat(),
        "deadline": deadline.isoformat(),
        "minimum_deadline": minimum.isoformat(),
        "hr": _hr_contact(actor),
    }
    has_proof = bool(training["certificates"] or training["attestations"])
    warnings = [] if has_proof else [str(_l(
        "No certificate or attestation of clause %(clause)s dated before %(day)s: the notice cannot show that the "
        "employee was taught this rule. You may still issue it; the gap is on record.",
        clause=CLAUSE, day=first.isoformat()))]
    return Draft(facts, dispatch_on, minimum, deadline, warnings, has_proof)


def issue_return_notice(case: AbsenceCase, actor, *, dispatch_on: date | None = None, deadline: date | None = None,
                        replaces: Document | None = None) -> Document:
    """Issue the notice: draft, render, number, hash, evidence; close the to-do; the employee's inbox."""
    from lms.notify.services import send

    prepared = draft(case, actor, dispatch_on=dispatch_on, deadline=deadline)
    if replaces is not None and replaces.case_id != case.id:
        raise NoticeRefused(_l("%(number)s belongs to another case.", number=replaces.number))
    try:
        document = documents.issue(KIND, case.employee, case, {
            **prepared.facts, "training_missing": not prepared.has_training_proof}, actor, replaces=replaces,
            stated_deadline=prepared.deadline)
    except documents.DocumentError as exc:
        db.session.rollback()
        raise NoticeRefused(str(exc)) from exc
    now = clock.now()
    for todo in case.todos:
        if todo.kind == "prepare_return_notice" and todo.done_at is None:
            todo.done_at, todo.done_by = now, evidence.actor_of(actor)
    # Just issued, not sent: the next action is to send it by the planned dispatch date.
    service.sync_todos(case, service.CaseService(document=document, next_action="dispatch_notice"))
    send(cases.step_key(case.id, f"notice:{document.number}", "employee"), case.employee, "absence_notice", {
        "employee_name": case.employee.name, "number": document.number, "deadline": prepared.deadline.isoformat(),
        "days": [d["date"] for d in prepared.facts["absent_days"]], "case_id": case.id}, ("inapp",),
        evidence_subject=cases.subject(case.id), actor=actor)  # commits the document with the message
    return document
