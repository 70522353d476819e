"""Channels with send-once delivery: in-app inbox, e-mail over SMTP, SMS through an adapter.

`send(step_key, recipient, template, context, channels)` is the way in; see services.py. `draft` and
`send_draft` split it in two (read and render, then write), and `hand_off_written` follows a
`send(commit=False)`.
"""

from lms.notify.services import Draft, draft, hand_off_written, send, send_draft

__all__ = ["Draft", "draft", "hand_off_written", "send", "send_draft"]
