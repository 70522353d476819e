"""The sign-in limit holds across processes (issue 19, item 3): failed sign-ins are counted per account in the
database — a delay, then a lock with an HR notice and an evidence event — whatever the rate limiter's storage;
429 answers carry Retry-After; /healthz names the limiter's storage; gunicorn warns without Redis."""

from __future__ import annotations

import os
import re
import selectors
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from lms import clock, create_app
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db
from lms.notify.models import Message
from lms.people import signin
from lms.people.models import SignInFailure, User
from tests.conftest import PASSWORD, IsolatedClient

START = datetime(2026, 6, 1, 9, 0)


def _try(client, password: str = "wrong"):
    return client.post("/login", data={"username": "learner", "password": password})


def _user() -> User:
    user = db.session.scalars(select(User).where(User.username == "learner")).one()
    db.session.refresh(user)
    return user


def test_after_five_failures_each_try_waits_even_with_the_right_password(client, org):
    with clock.frozen(START):
        for _ in range(signin.DELAY_AFTER):
            assert _try(client).status_code == 401
        waiting = _try(client, PASSWORD)
    assert waiting.status_code == 429 and waiting.headers["Retry-After"] == "30"
    assert "wait 30 seconds" in waiting.get_data(as_text=True)
    with clock.frozen(START + signin.DELAY + timedelta(seconds=1)):
        assert _try(client, PASSWORD).status_code == 302  # the right password, after the wait
    assert _user().failed_sign_ins == 0


def _fail_until_locked(client) -> datetime:
    moment = START
    for number in range(1, signin.LOCK_AFTER + 1):
        with clock.frozen(moment):
            assert _try(client).status_code == 401, number
        moment += signin.DELAY + timedelta(seconds=1)
    return moment


def test_ten_failures_lock_the_account_tell_hr_and_leave_evidence(client, org):
    after = _fail_until_locked(client)
    with clock.frozen(after):
        locked = _try(client, PASSWORD)
    assert locked.status_code == 429 and 0 < int(locked.headers["Retry-After"]) <= 15 * 60
    assert "locked" in locked.get_data(as_text=True)
    user = _user()
    event = db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "people.account_locked")).one()
    assert event.subject == f"user:{user.id}" and event.payload["failures"] == signin.LOCK_AFTER
    [notice] = db.session.scalars(select(Message).where(Message.template == "account_locked")).all()
    assert notice.recipient_id == org.hr_officer.id and "王芳" in notice.subject
    with clock.frozen(user.locked_until + timedelta(seconds=1)):
        assert _try(client, PASSWORD).status_code == 302  # the lock ends by itself


def _answers_until_locked(client, username: str) -> list[tuple[int, str | None, str]]:
    """Each answer to wrong passwords on a schedule that locks an account, and to one more try:
    (status, Retry-After, the page's message)."""
    answers, moment = [], START
    for _ in range(signin.LOCK_AFTER + 1):
        for delay in (0, signin.DELAY.total_seconds() + 1):  # at once (refused while waiting), then after it
            with clock.frozen(moment + timedelta(seconds=delay)):
                response = client.post("/login", data={"username": username, "password": "wrong"})
            message = re.search(r'class="[^"]*(?:error|flash)[^"]*"[^>]*>([^<]+)<', response.get_data(as_text=True))
            answers.append((response.status_code, response.headers.get("Retry-After"),
                            message.group(1).strip() if message else ""))
        moment += signin.DELAY + timedelta(seconds=2)
    return answers


def test_a_made_up_username_is_delayed_and_locked_exactly_like_a_real_one(app, org, client):
    """Otherwise "wait 30 seconds" would tell an attacker which usernames exist."""
    real = _answers_until_locked(client, "learner")
    made_up = _answers_until_locked(client, "no-such-person")
    assert made_up == real
    waits = [int(after) for status, after, _message in real if status == 429]
    assert any(w <= 30 for w in waits) and waits[-1] > 30  # delayed, then locked
    assert all(message for _status, _after, message in real)
    stored = db.session.scalars(select(SignInFailure)).all()
    assert len(stored) == 1 and "no-such-person" not in stored[0].name_hmac  # a keyed hash, not the name
    assert db.session.scalars(select(Message).where(Message.template == "account_locked")).all()  # the real one
    # Made-up names are forgotten a day after their last failure, so typing random names fills nothing.
    with clock.frozen(START + timedelta(days=2)):
        client.post("/login", data={"username": "another-made-up-name", "password": "wrong"})
    assert len(db.session.scalars(select(SignInFailure)).all()) == 1


def test_the_count_is_shared_by_processes_with_their_own_limiter_memory(app, org, app_config):
    """Two apps stand for two gunicorn workers: each has its own memory:// limiter, one database."""
    workers = []
    for _ in range(2):
        worker = create_app({**app_config, "RATELIMIT_ENABLED": True, "LMS_LOGIN_LIMIT": "100 per minute"})
        worker.test_client_class = IsolatedClient
        workers.append(worker.test_client())
    with clock.frozen(START):
        for number in range(signin.DELAY_AFTER):
            assert _try(workers[number % 2]).status_code == 401
        assert _try(workers[0], PASSWORD).status_code == 429
        assert _try(workers[1], PASSWORD).status_code == 429


def test_the_api_sign_in_counts_and_answers_429_with_retry_after(client, org):
    with clock.frozen(START):
        for _ in range(signin.DELAY_AFTER):
            wrong = client.post("/api/v1/auth/token", json={"username": "learner", "password": "wrong"})
            assert wrong.status_code == 401
        refused = client.post("/api/v1/auth/token", json={"username": "learner", "password": PASSWORD})
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "30"
    assert refused.json["error"]["field"] == "username"


def test_the_rate_limiters_429_carries_retry_after(app, org, app_config):
    limited = create_app({**app_config, "RATELIMIT_ENABLED": True, "LMS_LOGIN_LIMIT": "2 per minute"})
    limited.test_client_class = IsolatedClient
    client = limited.test_client()
    statuses = [client.post("/login", data={"username": "nobody", "password": "x"}).status_code for _ in range(3)]
    assert statuses[:2] == [401, 401] and statuses[2] == 429
    response = client.post("/login", data={"username": "nobody", "password": "x"})
    assert response.status_code == 429 and 0 < int(response.headers["Retry-After"]) <= 60


def test_healthz_names_the_limiters_storage(app, app_config):
    assert app.test_client().get("/healthz").json["rate_limit_storage"] == "memory"
    shared = create_app({**app_config, "RATELIMIT_STORAGE_URI": "redis://:secret@127.0.0.1:6379/0"})
    body = shared.test_client().get("/healthz").get_data(as_text=True)
    assert '"rate_limit_storage":"redis"' in body.replace(" ", "") and "secret" not in body


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.mark.parametrize(("workers", "redis", "warns"), [(2, None, True), (1, None, False),
                                                         (2, "redis://127.0.0.1:6379/15", False)])
def test_gunicorn_warns_at_start_with_several_workers_and_no_redis(tmp_path, workers, redis, warns):
    root = Path(__file__).resolve().parents[2]
    env = {key: value for key, value in os.environ.items() if key != "REDIS_URL"}
    env.update({"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "SECRET_KEY": "test-secret"})
    if redis:
        env["REDIS_URL"] = redis
    gunicorn = Path(sys.executable).with_name("gunicorn")
    process = subprocess.Popen([str(gunicorn), "-w", str(workers), "-b", f"127.0.0.1:{_free_port()}", "wsgi:app"],
                               cwd=root, env=env, stderr=subprocess.PIPE, text=True)
    log = []
    try:
        selector = selectors.DefaultSelector()
        selector.register(process.stderr, selectors.EVENT_READ)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not any("Booting worker" in line for line in log):
            if selector.select(timeout=1):
                log.append(process.stderr.readline())
        # when_ready runs before the first worker boots: its warning, if any, is in the log by now
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert any("Booting worker" in line for line in log), log
    assert any("no REDIS_URL" in line for line in log) is warns, log
