"""PostgreSQL restarted while requests run: each answer is a page, a 503 page or a 503 JSON error (never a
500), the app recovers by itself, and a client that retries its punches on 503 stores each exactly once.

A private cluster (the machine's is shared); the same app object throughout: nothing is restarted but
the database.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from lms.absence.models import Punch
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db
from tests.conftest import auth, make_test_config
from tests.faults.conftest import counts

DOWN_FOR = 1.0  # seconds between the stop and the start


@pytest.fixture
def app_config(private_postgres):
    return make_test_config(private_postgres.url)


class Traffic:
    """Clients in threads, each request's status recorded; anything but 200/201/503 is a failure."""

    def __init__(self):
        self.stop = threading.Event()
        self.answers: list[tuple[str, int]] = []
        self.failures: list[str] = []
        self.stored_batches: list[int] = []
        self.threads: list[threading.Thread] = []

    def run(self, name: str, request, check) -> None:
        def loop():
            while not self.stop.is_set():
                try:
                    response = request()
                except Exception as exc:  # an exception the app let through: a 500 in production
                    self.failures.append(f"{name}: {exc!r}")
                    time.sleep(0.01)
                    continue
                self.answers.append((name, response.status_code))
                problem = check(response)
                if problem:
                    self.failures.append(f"{name}: {response.status_code} {problem}")
                time.sleep(0.01)

        thread = threading.Thread(target=loop, name=name)
        self.threads.append(thread)
        thread.start()

    def join(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)

    def statuses(self, name: str) -> set[int]:
        return {status for who, status in self.answers if who == name}


def json_error(response) -> str | None:
    if response.status_code == 200:
        return None
    if response.status_code != 503:
        return "unexpected status"
    body = response.get_json(silent=True) or {}
    if body.get("error", {}).get("status") != 503 or "cannot be reached" not in body["error"].get("message", ""):
        return f"not the JSON error: {response.get_data(as_text=True)[:200]}"
    return None if response.headers.get("Retry-After") else "no Retry-After"


def error_page(response) -> str | None:
    if response.status_code == 200:
        return None
    page = response.get_data(as_text=True)
    if response.status_code != 503 or "The database cannot be reached right now" not in page:
        return f"not the 503 page: {page[:200]}"
    return None


def test_requests_during_a_restart_answer_503_and_the_app_recovers_without_a_restart(
        app, absence_setup, hr_token, login_as, private_postgres):
    org = absence_setup
    hr_page, api, writer = login_as("hr"), app.test_client(), app.test_client()
    numbers = (org.learner.employee_no, org.colleague.employee_no)
    before = counts()
    db.session.close()  # the test's own session holds no connection across the restart
    traffic = Traffic()
    traffic.run("api", lambda: api.get("/api/v1/employees", headers=auth(hr_token)), json_error)
    traffic.run("page", lambda: hr_page.get("/people/employees"), error_page)

    batches = iter(range(1_000))
    pending: list[int] = []

    def post_punches():
        if not pending:
            pending.append(next(batches))
        batch = pending[0]
        instant = datetime(2026, 5, 1, tzinfo=UTC) + timedelta(minutes=batch)
        response = writer.post("/api/v1/punches", headers=auth(hr_token), json={"punches": [
            {"employee_no": number, "punched_at": instant.isoformat()} for number in numbers]})
        if response.status_code in (200, 201):  # stored (200: stored by the try whose answer was lost)
            traffic.stored_batches.append(pending.pop())
        return response

    def write_answer(response) -> str | None:  # a 503 leaves the batch pending: the client sends it again
        return None if response.status_code in (200, 201) else json_error(response)

    traffic.run("punches", post_punches, write_answer)
    try:
        time.sleep(0.5)
        private_postgres.stop("fast")  # in-flight statements are cut off, new connections refused
        time.sleep(DOWN_FOR)
        private_postgres.start()
        time.sleep(1.0)
    finally:
        traffic.join()

    assert traffic.failures == []
    for name in ("api", "page", "punches"):
        assert 503 in traffic.statuses(name), f"{name} never met the outage"
        assert traffic.statuses(name) & {200, 201}, f"{name} never got through"
    # The same app, no restart: every client's next request works.
    assert api.get("/api/v1/employees", headers=auth(hr_token)).status_code == 200
    assert hr_page.get("/people/employees").status_code == 200

    # Each batch the client saw stored is there once; none is there twice or half.
    stored = sorted(traffic.stored_batches)
    assert len(stored) == len(set(stored)) and stored
    after = counts()
    assert after["punches"] - before["punches"] == 2 * len(stored)
    assert len(db.session.scalars(select(Punch.punched_at).distinct()).all()) == len(stored)
    imported = db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "absence.punches_imported")).all()
    assert sorted(event.payload["new"] for event in imported) == [2] * len(stored)


def test_the_first_request_after_a_restart_is_answered(app, org, hr_token, private_postgres):
    """The pool's connections died with the server; a stale one is noticed before use (pre-ping)."""
    client = app.test_client()
    db.session.close()
    assert client.get("/api/v1/employees", headers=auth(hr_token)).status_code == 200  # the pool holds one
    private_postgres.stop("fast")
    private_postgres.start()
    response = client.get("/api/v1/employees", headers=auth(hr_token))
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
