"""Absence cases: what every part of the workflow shares, and the reads pages and the API use.

The workflow lives beside this module, one module per part (SPEC §4):

- `detection`: the scan — who is absent on which day, opening cases, queueing steps, counting;
- `thresholds`: whether counted days reach the threshold (3 consecutive working days, 5 a month);
- `steps`: sending the staged messages, each once, re-checked at send time;
- `reconcile`: punches and leave that arrive late;
- `decisions`: replies, HR's decisions, notes and to-dos.

Everything runs from database state and `clock.now()`; every number comes from the rule set
in force (`rules`), never from constants here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from lms import clock, evidence
from lms.absence.models import (
    OPEN_STATES,
    AbsenceCase,
    CaseStep,
    CaseTodo,
    Monitoring,
)
from lms.extensions import db
from lms.inputs import within_date_range

# Steps move a case forward; a later step never moves it back.
STATE_AFTER_STEP = {"alert1": "alerted", "alert2": "warned", "reminder": "reminded"}
STATE_ORDER = {state: n for n, state in enumerate(OPEN_STATES)}


class CaseError(ValueError):
    """An action a case cannot take in its state; the message says why."""


def subject(case_id: int) -> str:
    return evidence.subject_of("case", case_id)


def day_end(day: date) -> datetime:
    """The UTC instant a local day is over: after it, the day's absence is a fact."""
    return clock.as_utc(datetime.combine(day + timedelta(days=1), time(0)))


def stale_from(due_at: datetime) -> datetime:
    """When a step due at `due_at` comes too late to help anyone: once the local day it falls on is
    over. A late shift's alert, due after midnight, is live that night, not stale at midnight."""
    return day_end(clock.local(due_at).date())


# ---------------------------------------------------------------- monitoring


def monitoring() -> Monitoring | None:
    return db.session.get(Monitoring, 1)


class MonitoringAlreadyOn(CaseError):
    """Monitoring is on already (it is switched on once)."""


class MonitoringRefused(CaseError):
    """A start date or its confirmation that cannot be accepted; `field` names what to correct."""

    def __init__(self, field: str, message):
        super().__init__(message)
        self.field = field


# How far from today monitoring may start: a year back at most (days found after the fact need HR's
# confirmation one by one), a year ahead at most (a typo, not a plan). Never outside 1900–2100.
MONITORING_REACH_DAYS = 366
REASON_MAX = 500


def check_monitoring_start(started_on: date, *, confirm_past: bool = False, reason: str | None = None) -> str | None:
    """The reason to store if `started_on` may start monitoring today; raises MonitoringRefused otherwise.

    A date before today (company-local) is accepted only with `confirm_past` and a reason.
    """
    today = clock.today()
    if not within_date_range(started_on):
        raise MonitoringRefused("started_on", _l("Enter a date between 1900 and 2100."))
    if started_on < today - timedelta(days=MONITORING_REACH_DAYS):
        raise MonitoringRefused("started_on", _l(
            "%(day)s is more than a year ago: monitoring can start at most a year back (from %(first)s).",
            day=started_on.isoformat(), first=(today - timedelta(days=MONITORING_REACH_DAYS)).isoformat()))
    if started_on > today + timedelta(days=MONITORING_REACH_DAYS):
        raise MonitoringRefused("started_on", _l(
            "%(day)s is more than a year ahead: monitoring can start at most a year from today (%(last)s).",
            day=started_on.isoformat(), last=(today + timedelta(days=MONITORING_REACH_DAYS)).isoformat()))
    if started_on >= today:
        return None
    if not confirm_past:
        raise MonitoringRefused("confirm_past", _l(
            "%(day)s is in the past (today is %(today)s): absences on the days since then would be found after "
            "the fact. Confirm that the date is in the past and give the reason, or start from today.",
            day=started_on.isoformat(), today=today.isoformat()))
    reason = (reason or "").strip()
    if not reason:
        raise MonitoringRefused("reason", _l("Say why monitoring starts on a past date."))
    if len(reason) > REASON_MAX:
        raise MonitoringRefused("reason", _l("At most %(n)s characters.", n=REASON_MAX))
    return reason


def start_monitoring(started_on: date, actor=None, *, confirm_past: bool = False,
                     reason: str | None = None) -> Monitoring:
    """Switch absence monitoring on from a date; no scan ever looks at a day before it.

    A date before today is refused unless `confirm_past` is set and a reason given; both are kept
    on the row and in the evidence event. Raises MonitoringRefused (naming the field) or
    MonitoringAlreadyOn.
    """
    current = monitoring()
    if current is not None:
        raise MonitoringAlreadyOn(_l("Monitoring has been on since %(day)s.", day=current.started_on.isoformat()))
    past_reason = check_monitoring_start(started_on, confirm_past=confirm_past, reason=reason)
    is_past = past_reason is not None
    row = Monitoring(id=1, started_on=started_on, started_by=evidence.actor_of(actor), started_at=clock.now(),
                     is_past_confirmed=is_past, past_reason=past_reason)
    try:
        db.session.add(row)
        evidence.record("absence.monitoring_started", "absence:monitoring", {
            "started_on": started_on, "confirm_past": is_past, "reason": past_reason}, actor=actor)
        db.session.commit()
    except IntegrityError as exc:  # switched on by someone else at the same moment
        db.session.rollback()
        current = monitoring()
        raise MonitoringAlreadyOn(_l("Monitoring has been on since %(day)s.",
                                     day=current.started_on.isoformat() if current else "?")) from exc
    return row


def resolve(case: AbsenceCase, resolution: str, actor=None, at: datetime | None = None, commit: bool = True) -> None:
    """Close the case: queued steps are skipped, open to-dos done."""
    if not case.is_open:
        raise CaseError(_l("This case is already resolved."))
    now = clock.now()
    case.state, case.resolution, case.resolved_at, case.paused_at = "resolved", resolution, at or now, None
    db.session.execute(update(CaseStep).where(CaseStep.case_id == case.id, CaseStep.status == "queued").values(
        status="skipped", skip_reason="case_resolved", done_at=now))
    db.session.execute(update(CaseTodo).where(CaseTodo.case_id == case.id, CaseTodo.done_at.is_(None)).values(
        done_at=now, done_by=evidence.actor_of(actor)))
    evidence.record("absence.case_resolved", subject(case.id), {"resolution": resolution, "at": at or now},
                    actor=actor)
    if commit:
        db.session.commit()


def step_key(case_id: int, key: str, role: str) -> str:
    return f"absence:{case_id}:{key}:{role}"


def parse_step_key(step_key: str) -> tuple[str, str] | None:
    """(step, recipient role) of an absence message's step key, else None."""
    parts = step_key.split(":")
    if len(parts) < 4 or parts[0] != "absence":
        return None
    return ":".join(parts[2:-1]), parts[-1]



# ---------------------------------------------------------------- reading


def cases_for_employee(employee_id: int) -> list[AbsenceCase]:
    return list(db.session.scalars(select(AbsenceCase).where(AbsenceCase.employee_id == employee_id)
                                   .order_by(AbsenceCase.opened_at.desc())))


def open_cases() -> list[AbsenceCase]:
    """Every open case with what its page summary needs, in few queries."""
    return list(db.session.scalars(select(AbsenceCase).where(AbsenceCase.state != "resolved").options(
        selectinload(AbsenceCase.employee), selectinload(AbsenceCase.days), selectinload(AbsenceCase.steps),
        selectinload(AbsenceCase.replies), selectinload(AbsenceCase.todos)).order_by(AbsenceCase.first_day)))


def case_messages(case_ids: Iterable[int], with_recipients: bool = True) -> dict[int, list]:
    """Each case's absence messages with their deliveries (and recipients unless `with_recipients` is
    False): {case id: [(message, step, role)]}. A delivery's `message` is read from the session."""
    from lms.notify.models import Message

    subjects = {subject(case_id): case_id for case_id in case_ids}
    result: dict[int, list] = {case_id: [] for case_id in subjects.values()}
    if not subjects:
        return result
    loads = [selectinload(Message.deliveries)] + ([selectinload(Message.recipient)] if with_recipients else [])
    messages = db.session.scalars(select(Message).where(Message.evidence_subject.in_(list(subjects))).options(*loads)
                                  .order_by(Message.created_at, Message.id))
    for message in messages:
        parsed = parse_step_key(message.step_key)
        if parsed:
            result[subjects[message.evidence_subject]].append((message, *parsed))
    return result
