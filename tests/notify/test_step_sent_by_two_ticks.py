"""A reminder step that two scheduler passes both consider due arrives once on every channel."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from lms import clock, jobs, notify
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db
from lms.notify.models import Message


@pytest.fixture
def app_config(app_config, smtp_server, sms_provider):
    return {**app_config, "LMS_SMTP_HOST": "127.0.0.1", "LMS_SMTP_PORT": smtp_server.port,
            "LMS_SMS_DRIVER": "http", "LMS_SMS_HTTP_URL": sms_provider.url}


@pytest.fixture
def daily_reminder(org):
    """A handler like the absence module's: it decides from the date alone what is due."""

    @jobs.tick_handler("test.daily_reminder", every=timedelta(minutes=1))
    def remind(now: datetime):
        notify.send(f"reminder:{clock.local(now).date().isoformat()}", org.learner.id, "channel_check",
                    {"name": "王芳", "sender": "系统"}, ["inapp", "sms", "email"])

    yield
    jobs.unregister("test.daily_reminder")


def test_two_passes_on_the_same_day_send_the_step_once(app, org, daily_reminder, smtp_server, sms_provider):
    jobs.run_tick("2026-06-16T11:00:00+08:00")
    jobs.run_tick("2026-06-16T11:05:00+08:00")  # due again by its interval, but the step was sent
    assert db.session.scalar(select(func.count(Message.id))) == 1
    assert len(smtp_server.messages) == 1 and len(sms_provider.requests) == 1
    jobs.run_tick("2026-06-17T11:00:00+08:00")  # the next day is a new step
    assert db.session.scalar(select(func.count(Message.id))) == 2
    sent = db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "notify.sent")).all()
    assert sorted(e.payload["channel"] for e in sent) == ["email", "email", "inapp", "inapp", "sms", "sms"]
