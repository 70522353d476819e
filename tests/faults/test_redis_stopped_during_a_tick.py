"""Redis stops in the middle of a pass's work and starts again, empty: nothing is lost, nothing sent twice.

A private Redis (killed, not the machine's). The pass at 11:00 opens the learner's case and queues its
steps; a worker sends them, which queues each SMS hand-off in Redis; then Redis dies with those jobs.
The database is the truth: once Redis is back, the retry pass finds the hand-offs no worker took and
each SMS leaves once. The worker's own scheduler thread outlives the outage too.
"""

from __future__ import annotations

import threading
from datetime import date, datetime

import pytest
from sqlalchemy import select

from lms import clock, jobs
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db
from lms.notify.models import Delivery
from tests.absence.conftest import add_leave, everyone_present
from tests.faults.conftest import counts, wait_until


def at(hour: int, minute: int) -> str:
    return clock.as_utc(datetime(2026, 6, 15, hour, minute)).isoformat()


def work(redis_url: str, when: str, max_jobs: int | None = None) -> None:
    """An RQ worker in this process (the test's app context) at the instant `when`, in burst mode."""
    from redis import Redis
    from rq import SimpleWorker

    worker = SimpleWorker([jobs.queue(redis_url)], connection=Redis.from_url(redis_url))
    with clock.frozen(datetime.fromisoformat(when)):
        worker.work(burst=True, max_jobs=max_jobs, logging_level="WARNING")


@pytest.fixture
def absent_learner(app, absence_setup, private_redis):
    org = absence_setup
    add_leave(org.learner, date(2026, 6, 1), date(2026, 6, 14))
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 19), but=[org.learner])
    app.config["REDIS_URL"] = private_redis.url
    return org


def test_the_sms_queued_when_redis_died_leave_once_after_it_returns(app, absent_learner, private_redis):
    before = counts()
    assert not jobs.run_tick(at(11, 0)).failed  # case opened, alert 1 due: its sends go to Redis
    steps_queued = len(jobs.queue(private_redis.url))
    assert steps_queued > 0
    work(private_redis.url, at(11, 0), max_jobs=steps_queued)  # the steps are sent: their SMS hand-offs wait in Redis
    handed_off = len(jobs.queue(private_redis.url))
    assert handed_off > 0

    private_redis.stop()  # with the SMS jobs in it
    during = jobs.run_tick(at(11, 6))  # the retry pass finds them but cannot reach Redis: it fails, the pass goes on
    assert "absence.scan" in during  # the pass went on
    assert counts()["sms_sent"] == before["sms_sent"]

    private_redis.start()  # empty
    for minute in (7, 8):
        assert not jobs.run_tick(at(11, minute)).failed
        work(private_redis.url, at(11, minute))

    after = counts()
    assert after["cases"] - before["cases"] == 1
    assert after["messages"] - before["messages"] == 3  # alert 1 to the learner, her manager, HR
    deliveries = db.session.scalars(select(Delivery)).all()
    sms = [d for d in deliveries if d.channel == "sms"]
    assert len(sms) == handed_off
    assert {d.status for d in deliveries} == {"sent"}, [(d.channel, d.status) for d in deliveries]
    assert after["sms_sent"] - before["sms_sent"] == len(sms)  # each SMS left once
    sent = [e.payload["delivery_id"] for e in db.session.scalars(
        select(EvidenceEvent).where(body_field("kind") == "notify.sent"))]
    assert sorted(sent) == sorted(d.id for d in deliveries)  # one record of each sending, none twice
    assert "notify.retry_due" in during.failed  # it had tried while Redis was down, and said so


def test_the_workers_scheduler_thread_outlives_a_redis_outage(app, private_redis):
    app.config.update(REDIS_URL=private_redis.url, LMS_TICK_SECONDS=1)
    private_redis.stop()
    stop = threading.Event()
    ticker = threading.Thread(target=jobs._ticker, args=(app, stop), daemon=True)
    ticker.start()
    try:
        threading.Event().wait(1.5)  # a beat or two against a dead Redis
        assert ticker.is_alive()
        private_redis.start()
        wait_until(lambda: len(jobs.queue(private_redis.url)) > 0, timeout=5,
                   what="the scheduler to enqueue a pass once Redis is back")
    finally:
        stop.set()
        ticker.join(timeout=5)
