"""Logs: one line per request with its request id, as plain text (the default) or JSON (`LMS_LOG_FORMAT=json`).

Every request gets an id: the caller's `X-Request-ID` when it is a sane token (letters, digits, `._:-`, at most
128 characters: a proxy's id then joins its log to ours), else a new one. The response carries it back in
`X-Request-ID`, and every log record made while the request runs carries it too. The request line is logged by
`lms.request` at INFO: method, path, status, duration in milliseconds, request id, the client's address (behind a
proxy, LMS_PROXY_COUNT makes it the real client's). A path holding a secret (the
reply link's token) is logged as its route (`/absence/r/<token>`).

JSON lines go to standard error, one object a line, for any log shipper; the text format is Flask's.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import uuid
from datetime import UTC, datetime

from flask import Flask, g, has_request_context, request

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")
request_log = logging.getLogger("lms.request")
# Attributes every LogRecord has; anything else on a record was passed in `extra` and goes into the JSON line.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


def current_request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None


class RequestIdFilter(logging.Filter):
    """Stamps each record made during a request with that request's id."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not getattr(record, "request_id", None):
            record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line.update({k: v for k, v in vars(record).items() if k not in _STANDARD and v is not None})
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever sys.stderr is when the record is emitted (gunicorn and pytest replace it)."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value):
        pass


def register_logging(app: Flask) -> None:
    request_log.setLevel(logging.INFO)
    app_log = logging.getLogger(app.import_name)  # "lms": the parent of every module's logger
    for handler in [h for h in app_log.handlers if getattr(h, "lms_json", False)]:
        app_log.removeHandler(handler)  # create_app runs more than once in a process (tests, the CLI)
    if app.config.get("LMS_LOG_FORMAT") == "json":
        handler = _StderrHandler()
        handler.lms_json = True
        handler.setFormatter(JsonFormatter())
        handler.addFilter(RequestIdFilter())
        app_log.addHandler(handler)  # Flask then adds no handler of its own
        app_log.propagate = False  # one line per record, not a second one from the root logger
    else:
        app_log.propagate = True
        app.logger  # noqa: B018 - Flask attaches its stderr handler (the text format) unless one is there

    @app.before_request
    def start_request():
        sent = request.headers.get(REQUEST_ID_HEADER, "")
        g.request_id = sent if _SANE_ID.fullmatch(sent) else uuid.uuid4().hex
        g.request_started = time.perf_counter()

    @app.after_request
    def log_request(response):
        request_id = g.get("request_id") or uuid.uuid4().hex
        response.headers[REQUEST_ID_HEADER] = request_id
        path = request.path
        if request.url_rule is not None and "token" in (request.view_args or {}):
            path = request.url_rule.rule  # never a secret in the log
        started = g.get("request_started")
        duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
        request_log.info("%s %s %s %sms id=%s client=%s", request.method, path, response.status_code, duration_ms,
                         request_id, request.remote_addr,
                         extra={"request_id": request_id, "method": request.method, "path": path,
                                "status": response.status_code, "duration_ms": duration_ms,
                                "client": request.remote_addr})
        return response
