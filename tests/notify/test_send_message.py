"""send(): once per step and recipient, in the recipient's language, every step on the evidence log."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms import notify
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db
from lms.notify.models import Delivery, Message, SmsOutbox
from lms.people import services as people


def kinds(subject: str) -> list[str]:
    events = db.session.scalars(select(EvidenceEvent).where(body_field("subject") == subject)
                                .order_by(EvidenceEvent.seq)).all()
    return [e.kind for e in events if e.kind.startswith("notify.")]


def send_check(org, step="step-1", channels=("inapp", "sms")):
    return notify.send(step, org.learner, "channel_check", {"name": "王芳", "sender": "李娜"}, channels)


def test_a_message_goes_out_on_each_channel_and_is_recorded(app, org):
    message = send_check(org)
    db.session.expire_all()
    statuses = {d.channel: d.status for d in message.deliveries}
    assert statuses == {"inapp": "sent", "sms": "sent"}  # no Redis: the SMS job ran in-process
    outbox = db.session.scalars(select(SmsOutbox)).one()
    assert outbox.mobile == "13812345678" and "王芳" in outbox.text and message.subject in outbox.text
    subject = f"employee:{org.learner.id}"
    assert kinds(subject) == ["notify.message_created", "notify.sent", "notify.attempt", "notify.sent"]
    sms_sent = db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "notify.sent")
                                  .order_by(EvidenceEvent.seq.desc())).first()
    assert sms_sent.payload["text"] == outbox.text  # the exact text sent
    assert sms_sent.payload["address"] == "13812345678"


def test_the_same_step_twice_sends_nothing_new(app, org):
    first = send_check(org)
    events_before = db.session.scalar(select(func.count(EvidenceEvent.seq)))
    second = send_check(org)
    assert second.id == first.id
    assert db.session.scalar(select(func.count(Message.id))) == 1
    assert db.session.scalar(select(func.count(SmsOutbox.id))) == 1
    assert db.session.scalar(select(func.count(EvidenceEvent.seq))) == events_before


def test_the_same_step_to_another_person_is_another_message(app, org):
    send_check(org)
    notify.send("step-1", org.manager, "channel_check", {"name": "张伟", "sender": "李娜"}, ["inapp"])
    assert db.session.scalar(select(func.count(Message.id))) == 2


def test_the_message_is_written_in_the_recipients_language(app, org):
    people.set_locale(org.users["learner"], "zh_CN")
    chinese = send_check(org, step="zh")
    people.set_locale(org.users["learner"], "en")
    english = send_check(org, step="en")
    assert (chinese.locale, english.locale) == ("zh_CN", "en")
    assert english.subject == "Test message from the compliance training system"
    assert chinese.subject != english.subject and "测试" in chinese.subject


def test_a_missing_address_fails_at_once_and_shows_on_the_problems_page(app, org, login_as):
    message = send_check(org, channels=("email",))  # the learner has an e-mail address …
    assert message.deliveries[0].status == "failed"  # … but SMTP is not configured here
    nobody = notify.send("s", org.colleague, "channel_check", {"name": "刘洋", "sender": "x"}, ["sms"])
    delivery = nobody.deliveries[0]
    assert (delivery.status, delivery.address) == ("failed", None)
    assert "has no mobile number" in delivery.last_error
    page = login_as("hr").get("/notify/problems").get_data(as_text=True)
    assert "has no mobile number" in page and "LMS_SMTP_HOST" in page


def test_unknown_channels_are_refused(app, org):
    with pytest.raises(ValueError):
        notify.send("x", org.learner, "channel_check", {"name": "", "sender": ""}, ["fax"])
    assert db.session.scalar(select(func.count(Delivery.id))) == 0


def test_hr_channel_check_page_sends_a_test_message(login_as, org):
    client = login_as("hr")
    response = client.post("/notify/check", data={"employee_no": org.learner.employee_no,
                                                  "channels": ["inapp", "sms"]})
    assert response.status_code == 200
    assert "Test message sent to 王芳" in response.get_data(as_text=True)
    bad = client.post("/notify/check", data={"employee_no": "NOPE", "channels": ["inapp"]})
    assert bad.status_code == 422 and "No employee has this number." in bad.get_data(as_text=True)
    assert login_as("learner").get("/notify/check").status_code == 403


def test_the_problems_page_shows_a_page_at_a_time_newest_first(app, org, login_as, count_statements):
    from lms.paging import PAGE_SIZE

    for n in range(PAGE_SIZE + 3):  # the colleague has no mobile: each SMS fails at once
        notify.send(f"p{n}", org.colleague, "channel_check", {"name": "刘洋", "sender": f"发件人{n:03d}"}, ["sms"])
    hr = login_as("hr")
    first = hr.get("/notify/problems").get_data(as_text=True)
    second = hr.get("/notify/problems?page=2").get_data(as_text=True)
    assert first.count("has no mobile number") == PAGE_SIZE and second.count("has no mobile number") == 3
    assert "page=2" in first and "page=1" in second
    with count_statements() as few:
        hr.get("/notify/problems")
    for n in range(PAGE_SIZE, 2 * PAGE_SIZE):
        notify.send(f"p{n}", org.colleague, "channel_check", {"name": "刘洋", "sender": "x"}, ["sms"])
    with count_statements() as many:
        hr.get("/notify/problems")
    assert len(many) == len(few)  # no query per row
