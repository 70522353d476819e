"""Insurance jobs: registration to-dos for new hires, and HR told when one is late."""

from __future__ import annotations

from datetime import datetime, timedelta

from lms import jobs
from lms.insurance import stop


@jobs.tick_handler("insurance.registration", every=timedelta(minutes=15))
def registration(now: datetime) -> None:
    stop.open_registration_todos(now)
    stop.escalate_late_registrations(now)
