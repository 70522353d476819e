"""The self-service tick: reminders for undecided requests, emergency reports joined to cases opened after
them, and HR's to-do for reports never followed up."""

from __future__ import annotations

from datetime import datetime, timedelta

from lms import jobs


@jobs.tick_handler("requests.follow_up", every=timedelta(minutes=5))
def follow_up(now: datetime) -> None:
    from lms.requests import emergency, leave_requests

    emergency.attach_reports(now)
    leave_requests.remind_pending(now)
    emergency.raise_overdue(now)
