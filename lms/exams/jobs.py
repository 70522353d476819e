"""Exam jobs: the escalation of overdue coaching."""

from __future__ import annotations

from datetime import datetime, timedelta

from lms import jobs
from lms.exams import services


@jobs.tick_handler("exams.escalate_coaching", every=timedelta(minutes=15))
def escalate_coaching(now: datetime) -> None:
    services.escalate_overdue_coaching(now)
