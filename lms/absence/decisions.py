"""What the employee says and what HR decides: replies (signed link, in-app, HR's or the manager's
phone note, API), HR's decisions (accept — all days or some —, warn, continue), HR's confirmation
of days found after the fact, notes and to-dos.

A decision holds until a newer fact arrives (a punch after it, a new reply): `decided_at` is
what reconcile compares returns with."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms import clock, evidence, notify
from lms.absence import leave, thresholds
from lms.absence.cases import CaseError, resolve, step_key, subject
from lms.absence.models import (
    REPLY_CHANNELS,
    AbsenceCase,
    CaseDay,
    CaseReply,
    CaseTodo,
    Leave,
)
from lms.extensions import db
from lms.people.models import ApiToken, User
from lms.people.records import InvalidRecords
from lms.ui import external_url

# ---------------------------------------------------------------- replies and HR decisions


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt="absence-reply")


def reply_token(case: AbsenceCase) -> str:
    return _serializer().dumps([case.id, case.employee_id])  # a list keeps the SMS link short


def reply_url(case: AbsenceCase) -> str:
    """The signed link in the SMS: no login needed, this case only, valid until the case ends (a
    notice period outlasts any fixed lifetime; once the case has ended the link answers 410)."""
    return external_url("absence.reply_by_link", token=reply_token(case))


def case_for_token(token: str) -> AbsenceCase | None:
    """The case a reply link is for, or None if the link is forged or the case is gone."""
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    if not (isinstance(data, list) and len(data) == 2 and all(isinstance(n, int) for n in data)):
        return None
    case = db.session.get(AbsenceCase, data[0])
    return case if case is not None and case.employee_id == data[1] else None


def record_reply(case: AbsenceCase, text: str, channel: str, actor=None, received_at: datetime | None = None
                 ) -> CaseReply:
    """The employee explained (or HR or the manager heard it on the phone): escalation pauses and HR decides."""
    text = (text or "").strip()
    now = clock.now()
    received_at = clock.as_utc(received_at) if received_at else now
    if channel not in REPLY_CHANNELS:
        raise CaseError(_l("Unknown reply channel “%(channel)s”.", channel=channel))
    if not text:
        raise CaseError(_l("The reply is empty."))
    if len(text) > 2000:
        raise CaseError(_l("The reply is longer than 2,000 characters."))
    if received_at > now + timedelta(minutes=5):
        raise CaseError(_l("The reply's time is in the future."))
    # An emergency report on the first absent day's morning comes before the scan opens the case; a reply
    # before that day cannot be about it (and would move paused_at back years).
    if received_at < clock.as_utc(datetime.combine(case.first_day, time.min)):
        raise CaseError(_l("The reply's time is before the case's first day (%(day)s).",
                           day=case.first_day.isoformat()))
    if not case.is_open:
        raise CaseError(_l("This case is already resolved."))
    reply = CaseReply(case_id=case.id, channel=channel, text=text, received_at=received_at,
                      recorded_by=evidence.actor_of(actor))
    db.session.add(reply)
    case.paused_at = case.paused_at or received_at
    if not any(t.kind == "decide_reply" and t.done_at is None for t in case.todos):
        db.session.add(CaseTodo(case_id=case.id, kind="decide_reply", created_at=now))
    db.session.flush()
    evidence.record("absence.reply_received", subject(case.id), {
        "reply_id": reply.id, "channel": channel, "text": text, "received_at": received_at}, actor=actor)
    db.session.commit()
    return reply


DECISIONS = ("accept", "warn", "continue")
REPLY_DECISIONS = {"accept": "accepted", "warn": "warned", "continue": "continued"}


def decide(case: AbsenceCase, decision: str, actor, note: str = "", leave_type: str | None = None,
           days: list[date] | None = None) -> None:
    """HR's answer to a reply or a return (SPEC §4): accept, warn, or continue the procedure.

    Accepting resolves the case: its counted days become approved leave of `leave_type` (one
    leave record per run of days), or, without a type, excused absence. Accepting only some of
    the counted days (`days`) un-counts those and the procedure goes on for the rest — a threshold
    that no longer holds is withdrawn. Warning resolves the case too, but the days stay counted
    (they are unpaid, and on the record) and the employee is sent a written warning naming them.
    """
    if decision not in DECISIONS:
        raise CaseError(_l("Decide “accept”, “warn” or “continue”."))
    if not case.is_open:
        raise CaseError(_l("This case is already resolved."))
    if case.paused_at is None:
        raise CaseError(_l("Nothing is waiting for a decision on this case."))
    counted = [d for d in case.days if d.status == "counted"]
    if decision == "warn" and not counted:
        raise CaseError(_l("No day is counted as absence without leave: there is nothing to warn about."))
    if days is not None and decision != "accept":
        raise CaseError(_l("Days can be named only when accepting an explanation."))
    partial = None
    if days is not None:
        counted_days = {d.day for d in counted}
        strange = sorted(set(days) - counted_days)
        if not days or strange:
            raise CaseError(_l("%(days)s is not a counted day of this case.",
                               days=", ".join(d.isoformat() for d in strange) or "—"))
        partial = sorted(set(days)) if set(days) != counted_days else None
    if decision == "accept" and leave_type and counted:
        _record_as_leave(case, partial or [d.day for d in counted], leave_type, actor, note)
        db.session.refresh(case)
    now, actor_ref = clock.now(), evidence.actor_of(actor)
    case.decided_at = now
    for reply in case.replies:
        if reply.decision is None:
            reply.decision = REPLY_DECISIONS[decision]
            reply.decided_at, reply.decided_by = now, actor_ref
    for todo in case.todos:
        if todo.kind in ("decide_reply", "decide_return") and todo.done_at is None:
            todo.done_at, todo.done_by = now, actor_ref
    evidence.record("absence.decided", subject(case.id), {
        "decision": decision, "leave_type": leave_type if decision == "accept" else None,
        "days": partial, "note": note.strip()[:1000]}, actor=actor)
    if partial:
        _accept_days(case, partial, actor)
        case.paused_at = None  # the rest of the procedure goes on
        thresholds.threshold_now(case, now)
    elif decision == "accept":
        excused = [d for d in case.days if d.status == "counted"]
        for case_day in excused:
            case_day.status = "excused"
        if excused:
            evidence.record("absence.days_excused", subject(case.id), {"days": [d.day for d in excused]},
                            actor=actor)
        if case.is_open:
            resolve(case, "leave" if leave_type else "excused", actor=actor, commit=False)
    elif decision == "warn":
        resolve(case, "warned", actor=actor, commit=False)
        db.session.commit()
        notify.send(step_key(case.id, "warning", "employee"), case.employee_id, "absence_warning", {
            "employee_name": case.employee.name, "days": [d.day.isoformat() for d in counted],
            "rule_version": case.rule_version, "note": note.strip()}, ("inapp", "sms"),
            evidence_subject=subject(case.id), actor=actor)
    else:
        case.paused_at = None
        thresholds.threshold_now(case, now)  # the days counted while it was paused
    db.session.commit()


def _accept_days(case: AbsenceCase, days: list[date], actor) -> None:
    """HR accepted the explanation for these days only: each still counted is excused; a threshold
    that no longer holds is withdrawn."""
    excused = [d for d in case.days if d.day in days and d.status == "counted"]
    for case_day in excused:
        case_day.status = "excused"
    if excused:
        evidence.record("absence.days_excused", subject(case.id), {"days": [d.day for d in excused]}, actor=actor)
    for day in days:
        if thresholds.withdraw_if_not_held(case, day, "accepted", actor):
            break


CONFIRMATIONS = ("absence", "excused")


def confirm_days(case: AbsenceCase, days: list[date], as_: str, actor, note: str = "") -> None:
    """HR's review of days found after the fact (or left by a case that resolved by itself): each is
    confirmed as 旷工 — from then on it counts toward the thresholds — or excused."""
    if as_ not in CONFIRMATIONS:
        raise CaseError(_l("Confirm the days as absence without leave or excuse them."))
    waiting = {d.day: d for d in case.days if d.status == "counted" and d.needs_confirmation and d.confirmed_at is None}
    strange = sorted(set(days) - set(waiting))
    if not days or strange:
        raise CaseError(_l("%(days)s is not a day waiting for confirmation on this case.",
                           days=", ".join(d.isoformat() for d in strange) or "—"))
    now, actor_ref = clock.now(), evidence.actor_of(actor)
    chosen = [waiting[day] for day in sorted(set(days))]
    for case_day in chosen:
        if as_ == "absence":
            case_day.confirmed_at, case_day.confirmed_by = now, actor_ref
        else:
            case_day.status = "excused"
    evidence.record("absence.days_confirmed" if as_ == "absence" else "absence.days_excused", subject(case.id), {
        "days": [d.day for d in chosen], "because": "hr_review", "note": note.strip()[:1000]}, actor=actor)
    if not case.days_to_confirm:
        for todo in case.todos:
            if todo.kind == "confirm_days" and todo.done_at is None:
                todo.done_at, todo.done_by = now, actor_ref
    if case.is_open and case.state == "review" and not case.counted_days:
        resolve(case, "excused", actor=actor, commit=False)
    # A confirmed day may complete a threshold: on this case, or on the employee's open case.
    open_case = case if case.is_open else db.session.scalar(select(AbsenceCase).where(
        AbsenceCase.employee_id == case.employee_id, AbsenceCase.state != "resolved"))
    if as_ == "absence" and open_case is not None:
        thresholds.threshold_now(open_case, now)
    db.session.commit()


def days_to_confirm(limit: int = 200) -> list[tuple[AbsenceCase, list[date]]]:
    """Cases with counted days HR has not yet confirmed, oldest first, for the review page."""


    ids = select(CaseDay.case_id).where(CaseDay.status == "counted", CaseDay.needs_confirmation.is_(True),
                                        CaseDay.confirmed_at.is_(None)).distinct()
    waiting = db.session.scalars(select(AbsenceCase).where(AbsenceCase.id.in_(ids)).options(
        selectinload(AbsenceCase.employee), selectinload(AbsenceCase.days))
        .order_by(AbsenceCase.first_day).limit(limit)).all()
    return [(case, case.days_to_confirm) for case in waiting]


def _name_of(actor) -> str:
    """Who decided, as a leave record names its approver: the HR officer's name if we know it, or
    the integration's (the API token's) name."""
    if isinstance(actor, User):
        return actor.employee.name if actor.employee else actor.username
    if isinstance(actor, ApiToken):
        return actor.name
    return evidence.actor_of(actor)


def _record_as_leave(case: AbsenceCase, days: list[date], leave_type: str, actor, note: str) -> None:
    """The counted days as approved leave: one record per run of days not split by other leave."""
    existing = db.session.scalars(select(Leave).where(Leave.employee_id == case.employee_id,
                                                      Leave.ends_on >= days[0], Leave.starts_on <= days[-1])).all()
    runs: list[list[date]] = [[days[0]]]
    for day in days[1:]:
        gap = [runs[-1][-1] + timedelta(days=n) for n in range(1, (day - runs[-1][-1]).days)]
        split = any(other.starts_on <= gap_day <= other.ends_on for other in existing for gap_day in gap)
        if split:
            runs.append([day])
        else:
            runs[-1].append(day)
    records = [(n, {"employee_no": case.employee.employee_no, "type": leave_type, "start": run[0], "end": run[-1],
                    "approved_by": _name_of(actor), "note": (note.strip() or f"case {case.id}")[:500]})
               for n, run in enumerate(runs, start=1)]
    try:
        leave.record_leaves(records, source=f"case:{case.id}", actor=actor)
    except InvalidRecords as exc:
        raise CaseError("; ".join(str(error.message) for error in exc.errors)) from exc


def add_note(case: AbsenceCase, text: str, actor) -> None:
    """An HR note on the case: it lives in the evidence log, with who wrote it and when."""
    text = (text or "").strip()
    if not text:
        raise CaseError(_l("The note is empty."))
    evidence.record("absence.note", subject(case.id), {"text": text[:2000]}, actor=actor)
    db.session.commit()


# To-dos that close with what was done and when (第五十条: the certificate, the file and insurance transfers;
# 《社会保险法》第五十八条: the registration of a new hire).
RECORDED_TODOS = ("send_certificate", "transfer_file", "transfer_insurance", "register_si")


def complete_todo(todo: CaseTodo, actor, what: str | None = None, done_on: date | None = None) -> None:
    """HR marks a to-do done (on a case, or about an employee: 未报到); the after-termination to-dos say what
    was done and on which day, as evidence."""
    if todo.done_at is not None:
        raise CaseError(_l("This to-do is already done."))
    if todo.kind == "file_si_stop":  # closed by the filing itself, with its date and receipt
        raise CaseError(_l("Record the social-insurance stop filing (its date and receipt) on the employee's page: "
                           "that closes this to-do."))
    what = (what or "").strip()
    if todo.kind in RECORDED_TODOS:
        if not what:
            raise CaseError(_l("Say what was done (e.g. to whom the file went, the transfer's reference)."))
        done_on = done_on or clock.today()
        if done_on > clock.today():
            raise CaseError(_l("The day it was done is in the future."))
    todo.done_at, todo.done_by = clock.now(), evidence.actor_of(actor)
    about = subject(todo.case_id) if todo.case_id else evidence.subject_of("employee", todo.employee_id)
    evidence.record("absence.todo_done", about, {
        "todo": todo.kind, "what": what or None, "done_on": done_on, "due_on": todo.due_on,
        "late": bool(done_on and todo.due_on and done_on > todo.due_on)}, actor=actor)
    db.session.commit()
