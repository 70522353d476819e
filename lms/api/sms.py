"""/api/v1/sms/receipts: delivery receipts from the SMS provider, signed with a shared secret."""

from __future__ import annotations

import hashlib
import hmac
from functools import wraps

from flask import current_app, request
from flask.views import MethodView
from flask_babel import gettext as _
from marshmallow import Schema, fields, validate

from lms import clock
from lms.api import Blueprint
from lms.api.employees import ErrorResponse
from lms.notify import services
from lms.ui import api_error

blp = Blueprint("api_sms", __name__, url_prefix="/api/v1/sms",
                description="Callbacks from the SMS provider (HMAC-signed, no bearer token).")

SIGNATURE_TOLERANCE_SECONDS = 300


def receipt_signature(secret: str, timestamp: str, body: bytes) -> str:
    """HMAC-SHA256 over "<timestamp>.<raw body>", as the provider computes it."""
    return "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def signed_by_provider(view):
    """Accept only requests signed with LMS_SMS_RECEIPT_SECRET within the last five minutes."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        secret = current_app.config.get("LMS_SMS_RECEIPT_SECRET")
        timestamp = request.headers.get("X-LMS-Timestamp", "")
        signature = request.headers.get("X-LMS-Signature", "")
        if not secret:
            return api_error(401, _("SMS receipts are not configured (LMS_SMS_RECEIPT_SECRET)."))
        expected = receipt_signature(secret, timestamp, request.get_data(cache=True))
        if not hmac.compare_digest(expected, signature):
            return api_error(401, _("The receipt's signature is not valid."), field="X-LMS-Signature")
        if not timestamp.isdigit() or abs(clock.now().timestamp() - int(timestamp)) > SIGNATURE_TOLERANCE_SECONDS:
            return api_error(401, _("The receipt's timestamp is too old or in the future."), field="X-LMS-Timestamp")
        return view(*args, **kwargs)

    return wrapped


class Receipt(Schema):
    message_id = fields.String(required=True, metadata={"description": "The id the provider returned on send."})
    status = fields.String(required=True, validate=validate.OneOf(["delivered", "failed"]))
    at = fields.AwareDateTime(load_default=None, metadata={"description": "When it was delivered (ISO-8601)."})
    error = fields.String(load_default=None)


class ReceiptAccepted(Schema):
    status = fields.String()


@blp.route("/receipts")
class Receipts(MethodView):
    decorators = [signed_by_provider]

    @blp.arguments(Receipt())
    @blp.response(200, ReceiptAccepted)
    @blp.alt_response(401, schema=ErrorResponse)
    @blp.alt_response(404, schema=ErrorResponse)
    def post(self, receipt):
        """Record a delivery receipt (repeats are accepted and change nothing)."""
        if not services.record_receipt(receipt["message_id"], receipt["status"], receipt["at"], receipt["error"]):
            return api_error(404, _("No SMS has provider id %(id)s.", id=receipt["message_id"]), field="message_id")
        return {"status": "recorded"}
