"""E-mail over a real SMTP server, SMS through a real HTTP provider, retries and receipts."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms import clock, jobs, notify
from lms.api.sms import receipt_signature
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db
from lms.notify.models import Delivery

SECRET = "receipt-secret"


@pytest.fixture
def app_config(app_config, smtp_server, sms_provider):
    return {**app_config, "LMS_SMTP_HOST": "127.0.0.1", "LMS_SMTP_PORT": smtp_server.port,
            "LMS_MAIL_FROM": "合规培训 <hr@example.cn>", "LMS_SMS_DRIVER": "http",
            "LMS_SMS_HTTP_URL": sms_provider.url, "LMS_SMS_HTTP_TOKEN": "provider-token",
            "LMS_SMS_RECEIPT_SECRET": SECRET}


def send(org, channels, step="step"):
    return notify.send(step, org.learner, "channel_check", {"name": "王芳", "sender": "李娜"}, channels)


def events(kind: str) -> list[EvidenceEvent]:
    return db.session.scalars(select(EvidenceEvent).where(body_field("kind") == kind)).all()


def test_an_email_reaches_the_smtp_server_with_the_step_as_message_id(app, org, smtp_server):
    message = send(org, ["email"])
    db.session.expire_all()
    delivery = message.deliveries[0]
    assert delivery.status == "sent"
    [mail] = smtp_server.messages
    assert mail["to"] == ["wang@example.cn"]
    assert mail["subject"] == message.subject and "王芳" in mail["body"]
    assert mail["message_id"] == delivery.provider_message_id
    assert delivery.idempotency_key in mail["message_id"]


def test_an_sms_reaches_the_provider_once_with_its_request_id(app, org, sms_provider):
    message = send(org, ["sms"])
    db.session.expire_all()
    delivery = message.deliveries[0]
    [request] = sms_provider.requests
    assert request["authorization"] == "Bearer provider-token"
    assert request["body"]["request_id"] == delivery.idempotency_key
    assert request["body"]["mobile"] == "13812345678"
    assert request["body"]["callback_url"].endswith("/api/v1/sms/receipts")
    assert (delivery.status, delivery.provider_message_id) == ("sent", "sms-1")


def test_a_failing_server_is_retried_with_backoff_then_given_up(app, org, smtp_server, login_as):
    smtp_server.refuse_with = "451 4.3.0 try again later"
    start = clock.now()
    with clock.frozen(start):
        message = send(org, ["email"])
    delivery = db.session.get(Delivery, message.deliveries[0].id)
    assert (delivery.status, delivery.attempts) == ("pending", 1)
    assert delivery.next_attempt_at == start + timedelta(minutes=1)
    jobs.run_tick((start + timedelta(seconds=30)).isoformat())  # not due yet
    db.session.expire_all()
    assert delivery.attempts == 1
    moment = start
    for _ in range(4):
        moment += timedelta(hours=2)
        jobs.run_tick(moment.isoformat())
    db.session.expire_all()
    assert (delivery.status, delivery.attempts) == ("failed", 5)
    assert "451" in delivery.last_error
    assert len(events("notify.failed")) == 4 and len(events("notify.gave_up")) == 1
    page = login_as("hr").get("/notify/problems").get_data(as_text=True)
    assert "451" in page and "Try again" in page

    smtp_server.refuse_with = None
    response = login_as("hr").post(f"/notify/problems/{delivery.id}/retry")
    assert response.status_code == 302
    db.session.expire_all()
    assert delivery.status == "sent" and len(smtp_server.messages) == 1
    assert events("notify.retry_requested")[0].actor == f"user:{org.users['hr'].id}"


def test_a_provider_rejection_is_permanent(app, org, sms_provider):
    sms_provider.fail_next = [400]
    message = send(org, ["sms"])
    db.session.expire_all()
    assert (message.deliveries[0].status, message.deliveries[0].attempts) == ("failed", 1)


def _post_receipt(client, payload: dict, secret: str = SECRET, age: int = 0):
    body = json.dumps(payload).encode()
    timestamp = str(int(clock.now().timestamp()) - age)
    return client.post("/api/v1/sms/receipts", data=body, content_type="application/json",
                       headers={"X-LMS-Timestamp": timestamp,
                                "X-LMS-Signature": receipt_signature(secret, timestamp, body)})


def test_signed_delivery_receipts_are_recorded_once(app, org, client):
    message = send(org, ["sms"])
    response = _post_receipt(client, {"message_id": "sms-1", "status": "delivered",
                                      "at": "2026-06-15T11:00:05+08:00"})
    assert response.status_code == 200, response.json
    assert _post_receipt(client, {"message_id": "sms-1", "status": "delivered"}).status_code == 200
    db.session.expire_all()
    delivery = message.deliveries[0]
    assert delivery.status == "delivered" and delivery.delivered_at.isoformat() == "2026-06-15T03:00:05+00:00"
    [receipt] = events("notify.delivered")
    assert receipt.payload["delivery_id"] == delivery.id


@pytest.mark.parametrize(("secret", "age", "field"), [
    ("wrong-secret", 0, "X-LMS-Signature"),
    (SECRET, 3600, "X-LMS-Timestamp"),
])
def test_unsigned_or_stale_receipts_are_refused(app, org, client, secret, age, field):
    send(org, ["sms"])
    response = _post_receipt(client, {"message_id": "sms-1", "status": "delivered"}, secret=secret, age=age)
    assert response.status_code == 401 and response.json["error"]["field"] == field
    assert events("notify.delivered") == []


def test_a_receipt_for_an_unknown_sms_is_404(app, client):
    response = _post_receipt(client, {"message_id": "nope", "status": "failed"})
    assert response.status_code == 404 and response.json["error"]["field"] == "message_id"
    assert _post_receipt(client, {"message_id": "x", "status": "lost"}).status_code == 422
