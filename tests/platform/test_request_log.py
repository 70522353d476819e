"""One log line per request with its request id; JSON when LMS_LOG_FORMAT=json (issue 19, item 8)."""

from __future__ import annotations

import io
import json
import logging

import pytest

from lms import create_app
from tests.conftest import make_test_config


def test_each_request_gets_an_id_returned_in_the_response_and_logged(app, client, caplog):
    with caplog.at_level(logging.INFO, logger="lms.request"):
        first = client.get("/livez")
        second = client.get("/livez")
    ids = [first.headers["X-Request-ID"], second.headers["X-Request-ID"]]
    assert len(set(ids)) == 2 and all(len(i) == 32 for i in ids)
    lines = [r for r in caplog.records if r.name == "lms.request"]
    assert [(r.method, r.path, r.status, r.request_id) for r in lines] == [
        ("GET", "/livez", 200, ids[0]), ("GET", "/livez", 200, ids[1])]
    assert all(isinstance(r.duration_ms, float) and r.duration_ms >= 0 for r in lines)


def test_a_callers_request_id_is_honoured_and_a_strange_one_replaced(app, client):
    assert client.get("/livez", headers={"X-Request-ID": "proxy-7f3a.42"}).headers["X-Request-ID"] == "proxy-7f3a.42"
    forged = client.get("/livez", headers={"X-Request-ID": "x\" injected=1"}).headers["X-Request-ID"]
    assert forged != "x\" injected=1" and len(forged) == 32
    assert client.get("/livez", headers={"X-Request-ID": "a" * 129}).headers["X-Request-ID"] != "a" * 129


def test_errors_and_refusals_are_logged_too(app, client, caplog):
    with caplog.at_level(logging.INFO, logger="lms.request"):
        client.get("/people/employees")  # not signed in: a redirect to the sign-in page
        client.get("/no/such/page")
    assert [(r.path, r.status) for r in caplog.records if r.name == "lms.request"] == [
        ("/people/employees", 302), ("/no/such/page", 404)]


def test_a_reply_links_token_is_never_logged(app, client, caplog):
    with caplog.at_level(logging.INFO, logger="lms.request"):
        client.get("/absence/r/secret-token-value")
    [line] = [r for r in caplog.records if r.name == "lms.request"]
    assert line.path == "/absence/r/<token>" and "secret-token-value" not in line.getMessage()


@pytest.fixture
def json_app(_migrated):
    app = create_app(make_test_config(_migrated, LMS_LOG_FORMAT="json"))
    [handler] = [h for h in logging.getLogger("lms").handlers if getattr(h, "lms_json", False)]
    out = io.StringIO()
    app.extensions["test_log"] = out
    original = type(handler).stream
    type(handler).stream = property(lambda self: out, lambda self, v: None)
    yield app
    type(handler).stream = original
    create_app(make_test_config(_migrated))  # the text format again for the tests after this one


def test_json_format_writes_one_object_a_line_with_the_request_id(json_app):
    client = json_app.test_client()
    with json_app.app_context():
        response = client.get("/livez", headers={"X-Request-ID": "lb-123"})
    lines = [json.loads(line) for line in json_app.extensions["test_log"].getvalue().splitlines()]
    requests = [line for line in lines if line["logger"] == "lms.request"]
    assert response.headers["X-Request-ID"] == "lb-123"
    assert len(requests) == 1
    line = requests[0]
    assert {k: line[k] for k in ("level", "method", "path", "status", "request_id")} == {
        "level": "INFO", "method": "GET", "path": "/livez", "status": 200, "request_id": "lb-123"}
    assert line["duration_ms"] >= 0 and line["time"].endswith("+00:00")
    assert not logging.getLogger("lms").propagate


def test_json_lines_of_other_loggers_carry_the_request_id(json_app):
    @json_app.get("/_log_test")
    def log_something():
        logging.getLogger("lms.somewhere").warning("something odd", extra={"case_id": 7})
        return "ok"

    with json_app.app_context():
        json_app.test_client().get("/_log_test", headers={"X-Request-ID": "abc"})
    lines = [json.loads(line) for line in json_app.extensions["test_log"].getvalue().splitlines()]
    [odd] = [line for line in lines if line["logger"] == "lms.somewhere"]
    assert odd["message"] == "something odd" and odd["request_id"] == "abc" and odd["case_id"] == 7
