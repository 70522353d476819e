"""The database turns read-only (a failover to a standby, an administrator's switch) while HR is signed in:
the import answers a clear 503 (the page, and the API's JSON error), stores nothing; writable again, the
same app imports the file whole.

A private PostgreSQL cluster: `ALTER SYSTEM SET default_transaction_read_only` and a reload reach the
sessions already open in the app's pool, as a real switch would.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest

from lms.extensions import db
from tests.conftest import auth, make_test_config
from tests.faults.conftest import counts, punch_export, upload


@pytest.fixture
def app_config(private_postgres):
    return make_test_config(private_postgres.url)


@pytest.fixture
def read_only(private_postgres):
    """Switch the cluster read-only and back (even if the test fails)."""

    def switch(on: bool) -> None:
        if on:
            private_postgres.sql("ALTER SYSTEM SET default_transaction_read_only = on")
        else:
            private_postgres.sql("ALTER SYSTEM RESET default_transaction_read_only")
        private_postgres.sql("SELECT pg_reload_conf()")
        time.sleep(0.3)  # the reload reaches each open session before its next statement

    yield switch
    switch(False)


def test_an_import_on_a_read_only_database_stores_nothing_and_says_so(app, org, login_as, hr_token, read_only):
    hr = login_as("hr")
    api = app.test_client()
    numbers = [e.employee_no for e in (org.learner, org.colleague, org.manager, org.director)]
    export = punch_export(numbers)
    before = counts()
    db.session.close()

    read_only(True)
    response = upload(hr, export)
    page = response.get_data(as_text=True)
    assert response.status_code == 503, page[:500]
    assert "The database is read-only right now, so this change was not saved" in page
    response = api.post("/api/v1/punches", headers=auth(hr_token), json={"punches": [
        {"employee_no": numbers[0], "punched_at": datetime(2026, 7, 1, 1, 0, tzinfo=UTC).isoformat()}]})
    assert response.status_code == 503
    assert response.get_json()["error"]["message"].startswith("The database is read-only right now")
    assert counts() == before
    db.session.close()

    read_only(False)
    response = upload(hr, export)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    after = counts()
    assert after["punches"] - before["punches"] == export.count(b"\n") - 1
    assert after["evidence_events"] - before["evidence_events"] == 1
