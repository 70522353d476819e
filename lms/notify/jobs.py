"""Notify jobs: delivery attempts and the retry pass."""

from __future__ import annotations

from datetime import datetime, timedelta

from lms import jobs
from lms.notify import services


@jobs.tick_handler("notify.retry_due", every=timedelta(minutes=1))
def retry_due(now: datetime) -> None:
    """Hand every delivery whose retry time has come (or whose worker died) to a job."""
    for delivery_id in services.due_deliveries(now):
        jobs.enqueue(services.deliver, delivery_id)
