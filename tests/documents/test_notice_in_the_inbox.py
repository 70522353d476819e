"""The employee finds the issued notice in the in-app inbox, and can still reply from it."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from lms.absence import notices
from lms.extensions import db
from lms.notify.models import Delivery, Message
from tests.documents.conftest import at


def test_the_notice_reaches_the_inbox_and_its_reply_link_works(seed_case, login_as, org):
    with at(datetime(2026, 6, 18, 10, 0)):
        document = notices.issue_return_notice(seed_case, org.users["hr"], dispatch_on=date(2026, 6, 19))
    message = db.session.scalars(select(Message).where(Message.step_key.like(f"%notice:{document.number}%"))).one()
    [delivery] = db.session.scalars(select(Delivery).where(Delivery.message_id == message.id)).all()
    assert delivery.channel == "inapp" and delivery.status == "sent"
    learner = login_as("learner")
    assert document.number in learner.get("/inbox").get_data(as_text=True)
    page = learner.get(f"/inbox/{delivery.id}").get_data(as_text=True)
    assert "2026-06-25" in page and f"/absence/my/cases/{seed_case.id}/reply" in page
    with at(datetime(2026, 6, 19, 9, 0)):
        reply = learner.post(f"/absence/my/cases/{seed_case.id}/reply", data={"text": "我明天回来上班"})
    assert reply.status_code == 200
    db.session.expire_all()
    assert seed_case.paused_at is not None  # HR decides; a second notice would wait for that decision
