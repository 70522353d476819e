"""The edge of the system: how a delivery leaves it, one adapter per channel.

Every adapter takes the delivery's idempotency key and hands it to the far side (the
e-mail's Message-ID, the SMS provider's request id), so a resend after a crash between
hand-off and record is recognised as the same message. Adapters raise DeliveryError;
`permanent=True` means retrying cannot help (no address, a provider's 4xx).
"""

from __future__ import annotations

import json
import smtplib
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, parseaddr

from flask import current_app
from sqlalchemy import select

from lms.extensions import db
from lms.notify.models import SmsOutbox


class DeliveryError(Exception):
    def __init__(self, reason: str, permanent: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent


@dataclass(frozen=True)
class Outgoing:
    """What an adapter needs: where, what, and the key that makes it the same message."""

    address: str
    subject: str
    text: str
    idempotency_key: str


def sms_text(subject: str, body: str) -> str:
    """The exact SMS text: subject and body on one message."""
    return f"{subject}：{body}" if body else subject


# ---------------------------------------------------------------- e-mail


def send_email(outgoing: Outgoing) -> str:
    """Hand the e-mail to the SMTP server; returns its Message-ID."""
    config = current_app.config
    if not config.get("LMS_SMTP_HOST"):
        raise DeliveryError("SMTP is not configured (LMS_SMTP_HOST)", permanent=True)
    sender = config["LMS_MAIL_FROM"]
    domain = parseaddr(sender)[1].rpartition("@")[2] or "lms.invalid"
    message = EmailMessage()
    message["From"] = sender
    message["To"] = formataddr(("", outgoing.address))
    message["Subject"] = outgoing.subject
    # The same logical message always carries the same Message-ID, so a resend after a
    # crash is one message in the recipient's mailbox.
    message["Message-ID"] = f"<{outgoing.idempotency_key}@{domain}>"
    message.set_content(outgoing.text)
    try:
        with smtplib.SMTP(config["LMS_SMTP_HOST"], config["LMS_SMTP_PORT"], timeout=30) as smtp:
            if config["LMS_SMTP_STARTTLS"]:
                smtp.starttls(context=ssl.create_default_context())
            if config.get("LMS_SMTP_USER"):
                smtp.login(config["LMS_SMTP_USER"], config["LMS_SMTP_PASSWORD"] or "")
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(f"the SMTP server refused the address: {exc.recipients}", permanent=True) from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP: {exc}") from exc
    return message["Message-ID"]


# ---------------------------------------------------------------- SMS


def send_sms(outgoing: Outgoing) -> str:
    """Send through the configured SMS driver; returns the provider's message id."""
    driver = current_app.config["LMS_SMS_DRIVER"]
    if driver == "http":
        return _send_sms_http(outgoing)
    if driver == "outbox":
        return _send_sms_outbox(outgoing)
    raise DeliveryError(f"unknown LMS_SMS_DRIVER {driver!r}", permanent=True)


def _send_sms_outbox(outgoing: Outgoing) -> str:
    """Keep the SMS in the outbox table, once per request id, as a provider would."""
    existing = db.session.scalar(select(SmsOutbox.id).where(SmsOutbox.request_id == outgoing.idempotency_key))
    if existing is None:
        db.session.add(SmsOutbox(request_id=outgoing.idempotency_key, mobile=outgoing.address, text=outgoing.text))
        db.session.flush()
    return f"outbox:{outgoing.idempotency_key}"


def _send_sms_http(outgoing: Outgoing) -> str:
    """POST the SMS to the provider; it de-duplicates on request_id."""
    config = current_app.config
    url = config.get("LMS_SMS_HTTP_URL")
    if not url or not url.startswith(("http://", "https://")):
        raise DeliveryError("LMS_SMS_DRIVER is http but LMS_SMS_HTTP_URL is not an http(s) URL", permanent=True)
    payload = json.dumps({
        "request_id": outgoing.idempotency_key,
        "mobile": outgoing.address,
        "text": outgoing.text,
        "callback_url": config["LMS_BASE_URL"].rstrip("/") + "/api/v1/sms/receipts",
    }, ensure_ascii=False).encode()
    request = urllib.request.Request(url, data=payload, method="POST", headers={  # noqa: S310 - http(s) only
        "Content-Type": "application/json; charset=utf-8",
        "Authorization": f"Bearer {config.get('LMS_SMS_HTTP_TOKEN') or ''}",
        "Idempotency-Key": outgoing.idempotency_key,
    })
    try:
        with urllib.request.urlopen(request, timeout=20) as response:  # noqa: S310 - http(s) only
            answer = json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        detail = exc.read()[:300].decode(errors="replace")
        raise DeliveryError(f"SMS provider answered {exc.code}: {detail}", permanent=400 <= exc.code < 500) from exc
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise DeliveryError(f"SMS provider unreachable: {exc}") from exc
    message_id = answer.get("message_id")
    if not message_id:
        raise DeliveryError("SMS provider answered without a message_id")
    return str(message_id)
