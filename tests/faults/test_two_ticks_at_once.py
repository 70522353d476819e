"""Two scheduler passes at once: the second scans nothing and says so; the first does all, once.

On the suite's database (SQLite: a file lock beside it; PostgreSQL: an advisory lock), with a real
second pass: `flask tick` started while the first pass is still inside its handlers.
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import select

from lms import jobs
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db
from tests.absence.conftest import add_leave, everyone_present
from tests.faults.conftest import counts

AT = "2026-06-15T11:00:00+08:00"  # the learner's first day away: alert 1 is due


@pytest.fixture
def first_pass_held(app):
    """A handler that runs first in every pass and holds the first pass until released."""
    calls, entered, release = [], threading.Event(), threading.Event()

    @jobs.tick_handler("aaa.fault_probe", every=timedelta(minutes=1))  # sorts before absence.scan
    def probe(now: datetime):
        calls.append(threading.current_thread().name)
        if len(calls) == 1:
            entered.set()
            release.wait(timeout=30)

    yield calls, entered, release
    release.set()
    jobs.unregister("aaa.fault_probe")


def test_a_second_pass_while_one_runs_scans_nothing_and_says_so(app, absence_setup, runner, first_pass_held, caplog):
    org = absence_setup
    add_leave(org.learner, date(2026, 6, 1), date(2026, 6, 14))
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 19), but=[org.learner])
    calls, entered, release = first_pass_held
    before = counts()

    outcome = {}

    def first_pass():
        with app.app_context():
            try:
                outcome["result"] = jobs.run_tick(AT)
            finally:
                db.session.remove()

    thread = threading.Thread(target=first_pass, name="first-pass")
    thread.start()
    assert entered.wait(timeout=30), "the first pass never reached its handlers"

    second = runner.invoke(args=["tick", "--at", AT])  # a cron's `flask tick`, while the first is inside
    release.set()
    thread.join(timeout=60)

    assert second.exit_code == 0, second.output
    assert "another pass is running; this one did nothing" in second.output
    assert "another pass is running" in caplog.text
    assert calls == ["first-pass"], f"both passes scanned: {calls}"
    assert "absence.scan" in outcome["result"] and not outcome["result"].failed

    after = counts()
    # One case, alert 1 once to each of its three recipients, each delivery recorded once.
    assert after["cases"] - before["cases"] == 1
    assert after["messages"] - before["messages"] == 3
    kinds = [e.kind for e in db.session.scalars(select(EvidenceEvent).where(
        body_field("kind").in_(("absence.case_opened", "notify.message_created", "notify.sent"))))]
    assert kinds.count("absence.case_opened") == 1
    assert kinds.count("notify.message_created") == 3
    assert kinds.count("notify.sent") == after["deliveries"] - before["deliveries"]

    # The lock is freed with the pass: the next one runs (and finds nothing new to do).
    again = jobs.run_tick(AT)
    assert not again.busy
    assert counts() == after
