"""Channels with send-once delivery: in-app inbox, e-mail over SMTP, SMS through an adapter.

`send(step_key, recipient, template, context, channels)` is the way in; see services.py.
"""

from lms.notify.services import hand_off_written, send

__all__ = ["hand_off_written", "send"]
