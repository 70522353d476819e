"""The absence tick: detect and count, then send the steps that are due."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from lms import clock, jobs
from lms.absence import detection, steps
from lms.absence.rules import RulesMissing
from lms.extensions import db

log = logging.getLogger(__name__)


@jobs.tick_handler("absence.scan", every=timedelta(minutes=1))
def scan_and_send(now: datetime) -> None:
    # The scan records days without rules and never counts them; should any part still find no rule set
    # in force, that is a state for HR to fix (health reports it), not a failed pass.
    try:
        detection.scan(now)
        steps.send_due_steps(now)
    except RulesMissing as exc:
        db.session.rollback()
        log.warning("absence.scan: no rule set in force for %s (%s); nothing is counted until one is",
                    clock.local(now).date().isoformat(), exc)


@jobs.tick_handler("absence.service", every=timedelta(minutes=15))
def service_deadlines(now: datetime) -> None:
    """Electronic dispatches the employee acknowledged are served; keep each notice's service to-do current;
    record `deadline_passed` once an effective deadline's day ends; end the employments whose termination
    notice is served (or whose recorded ending date has come)."""
    from lms.absence import service_tick, termination

    service_tick.acknowledge_electronic(now)
    service_tick.mark_deadlines_passed(now)
    termination.apply_due_separations(now)
