"""The campaigns tick: launch templates due this period, enrol late joiners, send due reminders."""

from __future__ import annotations

from datetime import datetime, timedelta

from lms import clock
from lms.campaigns import reminders, retest, services, templates  # noqa: F401 - retest hooks into exams
from lms.jobs import tick_handler


@tick_handler("campaigns.tick", every=timedelta(minutes=5))
def campaigns_tick(now: datetime) -> None:
    today = clock.local(now).date()
    templates.launch_due_templates(today)
    services.enrol_late_joiners(today)
    reminders.send_due_reminders(now)
