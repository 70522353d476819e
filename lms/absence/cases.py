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
from lms.people.models import User

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


def start_monitoring(started_on: date, actor=None) -> Monitoring:
    """Switch absence monitoring on from a date; no scan ever looks at a day before it."""
    current = monitoring()
    if current is not None:
        raise CaseError(_l("Monitoring has been on since %(day)s.", day=current.started_on.isoformat()))
    row = Monitoring(id=1, started_on=started_on, started_by=evidence.actor_of(actor), started_at=clock.now())
    db.session.add(row)
    evidence.record("absence.monitoring_started", "absence:monitoring", {"started_on": started_on}, actor=actor)
    db.session.commit()
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


def hr_employee_ids(exclude: int | None = None) -> list[int]:
    """HR officers with an employee record (the inbox belongs to an employee)."""
    return [e for e in db.session.scalars(select(User.employee_id).where(
        User.role == "hr", User.is_enabled.is_(True), User.employee_id.is_not(None))) if e != exclude]


# ---------------------------------------------------------------- reading


def cases_for_employee(employee_id: int) -> list[AbsenceCase]:
    return list(db.session.scalars(select(AbsenceCase).where(AbsenceCase.employee_id == employee_id)
                                   .order_by(AbsenceCase.opened_at.desc())))


def open_cases() -> list[AbsenceCase]:
    """Every open case with what its page summary needs, in few queries."""
    return list(db.session.scalars(select(AbsenceCase).where(AbsenceCase.state != "resolved").options(
        selectinload(AbsenceCase.employee), selectinload(AbsenceCase.days), selectinload(AbsenceCase.steps),
        selectinload(AbsenceCase.replies), selectinload(AbsenceCase.todos)).order_by(AbsenceCase.first_day)))


def case_messages(case_ids: Iterable[int]) -> dict[int, list]:
    """Each case's absence messages with their deliveries: {case id: [(message, step, role)]}."""
    from lms.notify.models import Delivery, Message

    subjects = {subject(case_id): case_id for case_id in case_ids}
    result: dict[int, list] = {case_id: [] for case_id in subjects.values()}
    if not subjects:
        return result
    messages = db.session.scalars(select(Message).where(Message.evidence_subject.in_(list(subjects))).options(
        selectinload(Message.deliveries).selectinload(Delivery.message), selectinload(Message.recipient))
        .order_by(Message.created_at, Message.id))
    for message in messages:
        parsed = parse_step_key(message.step_key)
        if parsed:
            result[subjects[message.evidence_subject]].append((message, *parsed))
    return result
