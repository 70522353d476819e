"""A delivery job killed after the hand-off and before the record: the recipient still sees one message.

The job runs in a real process (`flask tick`), which the SMTP server or SMS provider kills
with SIGKILL the moment the message reaches it. The next pass takes the delivery again
once its claim expires and sends it with the same idempotency key.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lms import clock, jobs, notify
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db
from lms.notify.models import Delivery

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app_config(app_config, smtp_server, sms_provider):
    return {**app_config, "LMS_SMTP_HOST": "127.0.0.1", "LMS_SMTP_PORT": smtp_server.port,
            "LMS_SMS_DRIVER": "http", "LMS_SMS_HTTP_URL": sms_provider.url}


def tick_in_a_process_that_gets_killed(app, at, arm) -> int:
    """Run `flask tick --at` in a child; `arm(kill)` installs the far side's trigger."""
    env = {**os.environ, "FLASK_APP": "wsgi", "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "SECRET_KEY": "test-secret", "LMS_DATA_KEY": "test-data-key", "LMS_LOCALE": "en",
           "LMS_SMTP_HOST": "127.0.0.1", "LMS_SMTP_PORT": str(app.config["LMS_SMTP_PORT"]),
           "LMS_SMS_DRIVER": "http", "LMS_SMS_HTTP_URL": app.config["LMS_SMS_HTTP_URL"]}
    env.pop("REDIS_URL", None)
    child = subprocess.Popen([sys.executable, "-m", "flask", "tick", "--at", at.isoformat()], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    arm(lambda: os.kill(child.pid, signal.SIGKILL))
    child.communicate(timeout=60)
    return child.returncode


def attempts_recorded(delivery_id: int) -> list[EvidenceEvent]:
    events = db.session.scalars(select(EvidenceEvent).where(body_field("kind").in_(
        ["notify.attempt", "notify.failed", "notify.sent"])).order_by(EvidenceEvent.seq)).all()
    return [(e.kind, e.payload.get("attempt")) for e in events if e.payload.get("delivery_id") == delivery_id]


def test_a_killed_email_job_still_arrives_as_one_message(app, org, smtp_server):
    start = clock.now()
    smtp_server.refuse_with = "451 busy"  # first try fails, so the retry runs in the child
    with clock.frozen(start):
        message = notify.send("crash", org.learner, "channel_check", {"name": "王芳", "sender": "李娜"}, ["email"])
    delivery_id = message.deliveries[0].id
    smtp_server.refuse_with = None

    def arm(kill):
        def on_data():
            smtp_server.on_data = None
            kill()  # the server has the message; the job dies before it can record that
        smtp_server.on_data = on_data

    returncode = tick_in_a_process_that_gets_killed(app, start + timedelta(minutes=2), arm)
    assert returncode == -signal.SIGKILL
    db.session.expire_all()
    delivery = db.session.get(Delivery, delivery_id)
    assert (delivery.status, delivery.attempts) == ("sending", 2)  # handed over, never recorded

    jobs.run_tick((start + timedelta(minutes=3)).isoformat())  # the dead worker's claim still holds
    db.session.expire_all()
    assert len(smtp_server.messages) == 1
    jobs.run_tick((start + timedelta(minutes=8)).isoformat())
    db.session.expire_all()
    assert delivery.status == "sent"
    assert len(smtp_server.messages) == 2 and smtp_server.distinct() == 1  # one message in the mailbox
    assert attempts_recorded(delivery_id) == [("notify.attempt", 1), ("notify.failed", 1),
                                              ("notify.attempt", 2), ("notify.attempt", 3), ("notify.sent", 3)]


def test_a_killed_sms_job_is_sent_once_by_the_provider(app, org, sms_provider):
    start = clock.now()
    sms_provider.fail_next = [503]
    with clock.frozen(start):
        message = notify.send("crash", org.learner, "channel_check", {"name": "王芳", "sender": "李娜"}, ["sms"])
    delivery_id = message.deliveries[0].id

    def arm(kill):
        def on_request():
            sms_provider.on_request = None
            kill()
        sms_provider.on_request = on_request

    assert tick_in_a_process_that_gets_killed(app, start + timedelta(minutes=2), arm) == -signal.SIGKILL
    jobs.run_tick((start + timedelta(minutes=8)).isoformat())
    db.session.expire_all()
    delivery = db.session.get(Delivery, delivery_id)
    assert delivery.status == "sent" and delivery.provider_message_id == "sms-1"
    assert len(sms_provider.requests) == 3  # 503, the killed hand-off, the retry
    assert len(sms_provider.delivered) == 1  # one SMS on the phone
