"""The absence tick: detect and count, then send the steps that are due."""

from __future__ import annotations

from datetime import datetime, timedelta

from lms import jobs
from lms.absence import detection, steps


@jobs.tick_handler("absence.scan", every=timedelta(minutes=1))
def scan_and_send(now: datetime) -> None:
    detection.scan(now)
    steps.send_due_steps(now)
