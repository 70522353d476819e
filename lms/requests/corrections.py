"""补卡: missed-punch corrections within the rule's working days (attendance.missed_punch), verified by
the manager; approval records a punch with source `correction`, which un-counts the day on an open case
like a late punch (the punch import's reconcile does that)."""

from __future__ import annotations

from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms import clock, evidence, notify
from lms.absence import punches
from lms.absence.cases import day_end
from lms.extensions import db
from lms.people.models import Employee, User
from lms.requests.leave_requests import _actor_name, deciders, escalated, may_decide
from lms.requests.models import PunchCorrection
from lms.requests.rules import RequestRefused, rule_value, working_days_after
from lms.ui import external_url


def correction_deadline(employee_id: int, day: date) -> tuple[date, int, str]:
    """The last day a correction for `day` may be submitted: the rule's N-th working day after it."""
    rule = rule_value(day, "attendance.missed_punch", "correction_within_working_days")
    return working_days_after(employee_id, day, rule.value), rule.value, rule.version


def submit_correction(employee: Employee, day: date | None, arrived_at: datetime | None, reason: str,
                      actor=None) -> PunchCorrection:
    """The employee states when they arrived on `day`; refused (citing the rule) when too late."""
    reason = (reason or "").strip()
    if day is None:
        raise RequestRefused(_l("Give the day (YYYY-MM-DD)."), field="day", status=422)
    if arrived_at is None:
        raise RequestRefused(_l("Give the time you arrived."), field="arrived_at", status=422)
    if not reason:
        raise RequestRefused(_l("Give the reason."), field="reason", status=422)
    if len(reason) > 2000:
        raise RequestRefused(_l("The reason is longer than 2,000 characters."), field="reason", status=422)
    arrived_at = clock.as_utc(arrived_at)
    now = clock.now()
    if clock.local(arrived_at).date() != day:
        raise RequestRefused(_l("The arrival time is not on %(day)s.", day=day.isoformat()), field="arrived_at",
                             status=422)
    if arrived_at > now:
        raise RequestRefused(_l("The arrival time is in the future."), field="arrived_at", status=422)
    last_day, within, version = correction_deadline(employee.id, day)
    if now >= day_end(last_day):
        raise RequestRefused(_l("Too late: a missed punch must be corrected within %(n)s working days (rule "
                                "attendance.missed_punch, rules %(version)s); for %(day)s the last day was "
                                "%(last)s.", n=within, version=version, day=day.isoformat(),
                                last=last_day.isoformat()), field="day")
    if db.session.scalar(select(PunchCorrection.id).where(PunchCorrection.employee_id == employee.id,
                                                          PunchCorrection.day == day,
                                                          PunchCorrection.state == "pending")):
        raise RequestRefused(_l("A correction for %(day)s is already waiting.", day=day.isoformat()), field="day")
    correction = PunchCorrection(employee_id=employee.id, day=day, arrived_at=arrived_at, reason=reason,
                                 state="pending", submitted_at=now, submitted_by=evidence.actor_of(actor),
                                 rule_version=version)
    db.session.add(correction)
    db.session.flush()
    evidence.record("requests.correction_requested", evidence.subject_of("employee", employee.id), {
        "correction": correction.id, "day": day, "arrived_at": arrived_at, "reason": reason,
        "last_day": last_day, "rules_version": version}, actor=actor)
    db.session.commit()
    context = {"employee": employee.name, "day": day.isoformat(),
               "time": clock.local(arrived_at).strftime("%H:%M"), "link": external_url("requests.inbox")}
    for recipient in deciders(employee, escalate=not employee.manager_id):
        notify.send(f"requests:correction:{correction.id}:new", recipient, "punch_correction", context,
                    ["inapp", "sms"])
    return correction


def correction_for_decider(user: User, correction_id: int) -> PunchCorrection | None:
    correction = db.session.get(PunchCorrection, correction_id)
    if correction is None or not may_decide(user, correction.employee, correction.submitted_at):
        return None
    return correction


def decide_correction(correction: PunchCorrection, user: User, decision: str, note: str = "",
                      actor=None) -> PunchCorrection:
    """The manager verified (approve → a punch with source `correction`) or not (reject, with why)."""
    note = (note or "").strip()
    if decision not in ("approve", "reject"):
        raise RequestRefused(_l("Decide approve or reject."), field="decision", status=422)
    if decision == "reject" and not note:
        raise RequestRefused(_l("Say why the correction is rejected."), field="note", status=422)
    if len(note) > 500:
        raise RequestRefused(_l("The note is longer than 500 characters."), field="note", status=422)
    if correction.state != "pending":
        raise RequestRefused(_l("This correction was already decided."), field="decision")
    if not may_decide(user, correction.employee, correction.submitted_at):
        raise RequestRefused(_l("You may not decide this correction."), status=404)
    correction.state = "approved" if decision == "approve" else "rejected"
    correction.decided_at, correction.decided_by = clock.now(), _actor_name(user)
    correction.decider_id, correction.decision_note = user.employee_id, note or None
    evidence.record("requests.correction_decided", evidence.subject_of("employee", correction.employee_id), {
        "correction": correction.id, "decision": decision, "note": note, "decided_by": correction.decided_by,
        "escalated": escalated(correction.submitted_at, correction.employee)}, actor=actor or user)
    correction_id = correction.id
    if decision == "reject":
        db.session.commit()
        return correction
    batch = punches.PunchBatch(rows=[(1, {"employee_no": correction.employee.employee_no,
                                          "punched_at": clock.local(correction.arrived_at).isoformat()})])
    # save_punches commits the decision with the punch (or rolls both back) and reconciles open cases.
    punches.save_punches(batch, source="correction", actor=actor or user,
                         details={"correction": correction_id, "approved_by": correction.decided_by})
    return db.session.get(PunchCorrection, correction_id)
