"""An outsider guessing certificate verification codes or reply links (issue 19, item 7): the codes are 12 of 32
symbols (60 bits) and the links are signed, so guessing is hopeless, and misses are rate limited on top
(LMS_GUESS_LIMIT, shared by both pages, per client address); opening a genuine code uses up nothing."""

from __future__ import annotations

import pytest

from lms import create_app
from tests.conftest import IsolatedClient
from tests.exams.test_certificates import exam, pass_exam  # noqa: F401 - the fixture and the helper


@pytest.fixture
def limited(app, app_config):
    limited = create_app({**app_config, "RATELIMIT_ENABLED": True, "LMS_GUESS_LIMIT": "3 per minute"})
    limited.test_client_class = IsolatedClient
    return limited


def test_misses_on_either_page_are_limited_together(limited):
    client = limited.test_client()
    statuses = [client.get("/verify/ABCDEFGHJKLM").status_code, client.get("/absence/r/guess.one").status_code,
                client.post("/absence/r/guess.two", data={"text": "x"}).status_code]
    assert statuses == [404, 404, 404]
    refused = client.get("/verify/ABCDEFGHJKLN")
    assert refused.status_code == 429 and 0 < int(refused.headers["Retry-After"]) <= 60
    assert client.get("/absence/r/guess.three").status_code == 429


def test_opening_a_genuine_code_does_not_count(limited, login_as, exam):  # noqa: F811
    code = pass_exam(login_as("learner")).verification_code
    client = limited.test_client()
    assert [client.get(f"/verify/{code}").status_code for _ in range(6)] == [200] * 6
    assert [client.get("/verify/ABCDEFGHJKLM").status_code for _ in range(3)] == [404] * 3
    assert client.get("/verify/ABCDEFGHJKLM").status_code == 429


def test_behind_a_tls_proxy_each_client_counts_on_its_own(app, app_config):
    """LMS_PROXY_COUNT=1: the address the proxy saw, not the proxy's own, is what limits count (and logs show);
    without it, X-Forwarded-For is not believed, so a client cannot dodge the limit by sending one."""
    def misses(config, forwarded_for):
        limited = create_app({**app_config, "RATELIMIT_ENABLED": True, "LMS_GUESS_LIMIT": "2 per minute", **config})
        limited.test_client_class = IsolatedClient
        client = limited.test_client()
        return [client.get("/verify/ABCDEFGHJKLM", headers={"X-Forwarded-For": address}).status_code
                for address in forwarded_for]

    behind_proxy = misses({"LMS_PROXY_COUNT": 1}, ["203.0.113.1", "203.0.113.1", "203.0.113.2", "203.0.113.1"])
    assert behind_proxy == [404, 404, 404, 429]
    direct = misses({}, ["203.0.113.3", "203.0.113.4", "203.0.113.5"])
    assert direct == [404, 404, 429]
