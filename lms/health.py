"""What keeps the system from doing its job right now: read by /healthz and shown to HR as a banner.

Each reason has a stable `code` (for monitoring tools) and a message for people. The checks
are a handful of small queries — never a walk of the evidence chain — and name no person.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from lms import clock
from lms.absence.calendar import unknown_days
from lms.absence.cases import monitoring
from lms.absence.rules import RulesMissing, rules_in_force
from lms.courses.models import RuleSet
from lms.evidence.models import EvidenceVerification
from lms.extensions import db
from lms.jobs import SCHEDULER, TickRun

log = logging.getLogger(__name__)

CALENDAR_DAYS_AHEAD = 30
SCHEDULER_STALE_AFTER = timedelta(minutes=5)
EVIDENCE_VERIFIED_WITHIN = timedelta(days=1)


@dataclass(frozen=True)
class Reason:
    code: str
    message: object  # a lazy string: rendered in the reader's language
    details: dict = field(default_factory=dict)  # plain values for tools (a date, a handler's name)
    link: tuple[str, dict] | None = None  # (endpoint, arguments) of the page where HR fixes it

    def as_dict(self) -> dict:
        return {"code": self.code, "message": str(self.message), **self.details}


def _when(moment: datetime) -> str:
    return clock.local(moment).strftime("%Y-%m-%d %H:%M")


def _rules(today: date, now: datetime) -> list[Reason]:
    try:
        rules_in_force()
        return []
    except RulesMissing:
        pass
    upcoming = db.session.scalar(select(RuleSet.effective_from).where(RuleSet.effective_from > today)
                                 .order_by(RuleSet.effective_from).limit(1))
    if upcoming is not None:
        message = _l("No rule set is in force today (%(day)s): no absence is counted before the next one takes "
                     "effect on %(next)s.", day=today.isoformat(), next=upcoming.isoformat())
    else:
        message = _l("No rule set is in force today (%(day)s): no absence is counted. Load the rules "
                     "(flask content sync).", day=today.isoformat())
    return [Reason("no_rules", message, {"next_effective_from": upcoming.isoformat() if upcoming else None})]


def _monitoring(today: date, now: datetime) -> list[Reason]:

    if monitoring() is not None:
        return []
    return [Reason("monitoring_off", _l("Absence monitoring is off: no absence is detected. Switch it on on the "
                                        "absence page or with flask absence monitor."), link=("absence.review", {}))]


def _calendar(today: date, now: datetime) -> list[Reason]:

    unknown = unknown_days(today, today + timedelta(days=CALENDAR_DAYS_AHEAD))
    if not unknown:
        return []
    return [Reason("calendar_unknown", _l(
        "The working-day calendar does not know %(day)s (%(n)s unknown dates in the next %(days)s days): absence "
        "on them is not counted. Enter the year from the State Council notice.",
        day=unknown[0].isoformat(), n=len(unknown), days=CALENDAR_DAYS_AHEAD),
        {"date": unknown[0].isoformat()}, link=("absence.calendar_page", {"year": unknown[0].year}))]


def _ticks(today: date, now: datetime) -> list[Reason]:

    runs = {run.handler: run for run in db.session.scalars(select(TickRun))}
    found = []
    beat = runs.pop(SCHEDULER, None)
    if beat is None or beat.last_run_at is None:
        found.append(Reason("scheduler_stale", _l(
            "The scheduler has never run: no absence is detected and no message is sent. Start flask worker "
            "(or flask tick --every 60).")))
    elif now - beat.last_run_at > SCHEDULER_STALE_AFTER:
        found.append(Reason("scheduler_stale", _l(
            "The scheduler last ran at %(at)s, more than %(minutes)s minutes ago: absences are not detected and "
            "messages wait. Check flask worker.", at=_when(beat.last_run_at),
            minutes=int(SCHEDULER_STALE_AFTER.total_seconds() // 60)),
            {"last_run_at": beat.last_run_at.isoformat()}))
    for name, run in sorted(runs.items()):
        if run.is_failing:
            found.append(Reason("tick_failed", _l(
                "The scheduled task %(name)s failed at %(at)s; it is tried again on every pass. The server log "
                "has the error.", name=name, at=_when(run.last_failed_at)),
                {"handler": name, "failed_at": run.last_failed_at.isoformat()}))
    return found


def _evidence(today: date, now: datetime) -> list[Reason]:

    latest = db.session.scalars(select(EvidenceVerification).order_by(EvidenceVerification.id.desc()).limit(1)).first()
    found = []
    if latest is not None and not latest.is_intact:
        found.append(Reason("evidence_broken", _l(
            "The verification of the evidence log at %(at)s found a break at event %(seq)s.",
            at=_when(latest.verified_at), seq=latest.broken_seq), {"broken_seq": latest.broken_seq},
            link=("evidence.events", {})))
    last_ok = latest.verified_at if latest is not None and latest.is_intact else db.session.scalar(
        select(EvidenceVerification.verified_at).where(EvidenceVerification.is_intact.is_(True))
        .order_by(EvidenceVerification.id.desc()).limit(1))
    if last_ok is None:
        found.append(Reason("evidence_unverified", _l(
            "The evidence log has never been verified. Run flask evidence verify (daily)."),
            {"verified_at": None}, link=("evidence.events", {})))
    elif now - last_ok > EVIDENCE_VERIFIED_WITHIN:
        found.append(Reason("evidence_unverified", _l(
            "The evidence log was last verified intact at %(at)s, more than a day ago. Run flask evidence verify "
            "(daily).", at=_when(last_ok)), {"verified_at": last_ok.isoformat()}, link=("evidence.events", {})))
    return found


CHECKS = (_rules, _monitoring, _calendar, _ticks, _evidence)


def reasons() -> list[Reason]:
    """Everything that needs attention now, in a fixed order; empty when all is well.

    A database error propagates (the caller answers 503); any other failure of one check is
    reported as a reason of its own instead of hiding the others.
    """
    now = clock.now()
    today = clock.local(now).date()
    found: list[Reason] = []
    for check in CHECKS:
        try:
            found.extend(check(today, now))
        except DBAPIError:
            raise
        except Exception:
            log.exception("health check %s failed", check.__name__)
            name = check.__name__.lstrip("_")
            found.append(Reason("check_failed", _l("The health check %(name)s failed; the server log has the error.",
                                                   name=name), {"check": name}))
    return found
