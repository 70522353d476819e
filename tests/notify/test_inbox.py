"""The in-app inbox: unread count in the layout, opening a message is a read receipt."""

from __future__ import annotations

import re

from sqlalchemy import select

from lms import notify
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db


def test_the_recipient_reads_her_message_and_the_receipt_is_recorded(login_as, org):
    message = notify.send("hello", org.learner, "channel_check", {"name": "王芳", "sender": "李娜"}, ["inapp"])
    delivery = message.deliveries[0]
    client = login_as("learner")
    home = client.get("/").get_data(as_text=True)
    assert re.search(r'data-test="unread">1<', home)
    inbox = client.get("/inbox").get_data(as_text=True)
    assert message.subject in inbox
    page = client.get(f"/inbox/{delivery.id}").get_data(as_text=True)
    assert "李娜" in page and "Read at" in page
    db.session.expire_all()
    assert delivery.status == "read" and delivery.read_at is not None
    receipt = db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "notify.read")).one()
    assert receipt.actor == f"user:{org.users['learner'].id}"
    assert 'data-test="unread"' not in client.get("/").get_data(as_text=True)
    client.get(f"/inbox/{delivery.id}")  # reading again is not a second receipt
    assert len(db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "notify.read")).all()) == 1


def test_nobody_else_can_open_her_message(login_as, org):
    message = notify.send("hello", org.learner, "channel_check", {"name": "王芳", "sender": "李娜"}, ["inapp"])
    for who in ("manager", "hr", "outsider"):
        assert login_as(who).get(f"/inbox/{message.deliveries[0].id}").status_code == 404
    db.session.expire_all()
    assert message.deliveries[0].read_at is None
