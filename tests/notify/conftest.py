"""Real peers for the channels: an SMTP server and an SMS provider on loopback."""

from __future__ import annotations

import json
import socket
import threading
from email import message_from_bytes
from email.header import decode_header, make_header
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from aiosmtpd.controller import Controller


class Mailbox:
    """What the SMTP server received; `on_data` lets a test act mid-delivery."""

    def __init__(self):
        self.messages = []
        self.on_data = None
        self.refuse_with = None  # e.g. "451 try again later"

    async def handle_DATA(self, server, session, envelope):
        if self.refuse_with:
            return self.refuse_with
        parsed = message_from_bytes(envelope.content)
        self.messages.append({
            "to": envelope.rcpt_tos, "message_id": parsed["Message-ID"],
            "subject": str(make_header(decode_header(parsed["Subject"]))),
            "body": parsed.get_payload(decode=True).decode(parsed.get_content_charset() or "utf-8"),
        })
        if self.on_data:
            self.on_data()
        return "250 OK"

    def distinct(self) -> int:
        """How many messages the recipient's mail client shows (it folds equal Message-IDs)."""
        return len({m["message_id"] for m in self.messages})


@pytest.fixture
def smtp_server():
    mailbox = Mailbox()
    with socket.socket() as probe:  # aiosmtpd checks its own port, so it needs a real number
        probe.bind(("127.0.0.1", 0))
        mailbox.port = probe.getsockname()[1]
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port)
    controller.start()
    yield mailbox
    controller.stop()


class SmsProvider:
    """A provider that de-duplicates on request_id, as real ones do with their idempotency keys."""

    def __init__(self):
        self.requests = []   # every POST received
        self.delivered = {}  # request_id → message
        self.fail_next = []  # HTTP statuses to answer before succeeding
        self.on_request = None


@pytest.fixture
def sms_provider():
    provider = SmsProvider()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's naming
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            provider.requests.append({"body": body, "authorization": self.headers["Authorization"]})
            if provider.fail_next:
                self.send_response(provider.fail_next.pop(0))
                self.end_headers()
                self.wfile.write(b'{"error": "busy"}')
                return
            first = body["request_id"] not in provider.delivered
            if first:
                provider.delivered[body["request_id"]] = {**body, "message_id": f"sms-{len(provider.delivered) + 1}"}
            if provider.on_request:
                provider.on_request()
            answer = json.dumps({"message_id": provider.delivered[body["request_id"]]["message_id"]}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    provider.url = f"http://127.0.0.1:{server.server_port}/send"
    yield provider
    server.shutdown()
    thread.join(timeout=5)
