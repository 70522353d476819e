"""Redis is down while a request hands work on: the request still answers, and nothing is lost.

A message's SMS is in the database before its job goes to Redis, so a request that sends one (and HR's
"try again" on a failed delivery) must not fail on Redis: the retry pass finds the delivery no job
took and hands it on once Redis is back; it leaves once. The evidence page's "verify now" cannot be
found again by a tick: there the answer says the verification did not start, instead of an error page.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lms import clock, jobs, notify
from lms.extensions import db
from lms.notify.models import Delivery
from lms.notify.services import LEASE
from tests.faults.conftest import counts
from tests.faults.test_redis_stopped_during_a_tick import work


def test_a_message_sent_while_redis_is_down_leaves_once_after_it_returns(app, org, private_redis):
    app.config["REDIS_URL"] = private_redis.url
    before = counts()
    private_redis.stop()
    message = notify.send("down-1", org.learner, "channel_check", {"name": "王芳", "sender": "李娜"}, ["sms"])
    delivery = db.session.scalars(select(Delivery).where(Delivery.message_id == message.id)).one()
    assert delivery.status == "pending" and counts()["sms_sent"] == before["sms_sent"]

    private_redis.start()  # empty: the hand-off was never in it
    later = (clock.now() + LEASE + timedelta(minutes=1)).isoformat()
    assert not jobs.run_tick(later).failed  # the retry pass finds the delivery no job took
    work(private_redis.url, later)
    db.session.expire_all()
    assert db.session.get(Delivery, delivery.id).status == "sent"
    assert counts()["sms_sent"] - before["sms_sent"] == 1


def test_hr_retrying_a_delivery_while_redis_is_down_gets_the_page_not_an_error(app, org, private_redis,
                                                                              login_as):
    app.config["REDIS_URL"] = private_redis.url
    message = notify.send("down-2", org.learner, "channel_check", {"name": "王芳", "sender": "李娜"}, ["sms"])
    delivery = db.session.scalars(select(Delivery).where(Delivery.message_id == message.id)).one()
    delivery.status = "failed"  # as after the provider refused it for good
    db.session.commit()
    private_redis.stop()
    response = login_as("hr").post(f"/notify/problems/{delivery.id}/retry")
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Delivery, delivery.id).status == "pending"  # the tick hands it on when Redis is back


def test_verify_now_while_redis_is_down_says_it_did_not_start(app, org, private_redis, login_as):
    app.config["REDIS_URL"] = private_redis.url
    private_redis.stop()
    client = login_as("hr")
    assert client.post("/evidence/verify").status_code == 302
    page = client.get("/evidence/").get_data(as_text=True)
    assert "did not start" in page or "未能开始" in page
    assert "Verification started" not in page and "已开始" not in page
