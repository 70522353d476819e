"""The scheduler pass: registered handlers run when due, as of the instant asked for."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from lms import clock, jobs
from lms.extensions import db


@pytest.fixture
def seen():
    calls: list[datetime] = []

    @jobs.tick_handler("test.hourly", every=timedelta(hours=1))
    def hourly(now):
        calls.append((now, clock.now()))

    yield calls
    jobs.unregister("test.hourly")


def test_a_handler_runs_once_per_interval_as_of_the_given_time(app, seen):
    at = "2026-06-15T11:00:00+08:00"
    assert "test.hourly" in jobs.run_tick(at)
    assert jobs.run_tick(at) == []  # the same instant again: nothing new
    assert "test.hourly" not in jobs.run_tick("2026-06-15T11:30:00+08:00")
    assert "test.hourly" in jobs.run_tick("2026-06-15T12:00:00+08:00")
    expected = datetime(2026, 6, 15, 3, 0, tzinfo=UTC)
    assert seen[0] == (expected, expected)  # the handler and clock.now() both see the tick's time
    assert len(seen) == 2


def test_moving_the_clock_back_runs_again(app, seen):
    jobs.run_tick("2026-06-16T09:00:00+08:00")
    assert "test.hourly" in jobs.run_tick("2026-06-15T09:00:00+08:00")


def test_every_pass_records_the_scheduler_heartbeat(app):
    jobs.run_tick("2026-06-15T11:00:00+08:00")
    beat = db.session.get(jobs.TickRun, jobs.SCHEDULER)
    assert beat.last_run_at == datetime(2026, 6, 15, 3, 0, tzinfo=UTC)


def test_flask_tick_command(app, runner, seen):
    result = runner.invoke(args=["tick", "--at", "2026-06-15T11:00:00+08:00"])
    assert result.exit_code == 0, result.output
    assert "test.hourly" in result.output
    bad = runner.invoke(args=["tick", "--at", "yesterday"])
    assert bad.exit_code != 0 and "ISO-8601" in bad.output


def test_without_redis_enqueue_runs_in_process(app):
    result = jobs.enqueue(jobs.run_tick, "2026-06-15T11:00:00+08:00")
    assert "notify.retry_due" in result  # ran here and now, and returned what it ran
    assert set(db.session.scalars(select(jobs.TickRun.handler))) == {jobs.SCHEDULER, *result}


def test_the_clock_is_settable_and_local_dates_use_shanghai(app):
    with clock.frozen(datetime(2026, 6, 14, 17, 0, tzinfo=UTC)):
        assert clock.today().isoformat() == "2026-06-15"  # 01:00 in Shanghai
        assert clock.local(clock.now()).hour == 1
    assert clock.as_utc(datetime(2026, 6, 15, 9, 0)).hour == 1  # naive = company-local


@pytest.fixture
def broken():
    """A handler that raises until told otherwise."""
    state = {"fail": True, "calls": 0}

    @jobs.tick_handler("test.broken", every=timedelta(hours=1))
    def fails(now):
        state["calls"] += 1
        db.session.add(jobs.TickRun(handler="test.half-done", last_run_at=now))  # undone by the rollback
        db.session.flush()
        if state["fail"]:
            raise RuntimeError("the printer is on fire")

    yield state
    jobs.unregister("test.broken")


def test_a_failing_handler_is_logged_and_the_pass_goes_on(app, seen, broken, caplog):
    at = "2026-06-15T11:00:00+08:00"
    result = jobs.run_tick(at)
    assert "test.hourly" in result and "test.broken" not in result  # sorted: broken runs first, hourly still runs
    assert result.failed == ["test.broken"]
    assert any(r.levelname == "ERROR" and "test.broken" in r.getMessage() for r in caplog.records)
    state = db.session.get(jobs.TickRun, "test.broken")
    assert state.last_run_at is None and state.is_failing
    assert state.last_failed_at == datetime(2026, 6, 15, 3, 0, tzinfo=UTC)
    assert state.last_error == "RuntimeError: the printer is on fire"
    assert db.session.get(jobs.TickRun, "test.half-done") is None
    assert db.session.get(jobs.TickRun, jobs.SCHEDULER).last_run_at == datetime(2026, 6, 15, 3, 0, tzinfo=UTC)


def test_a_failed_handler_is_not_marked_as_run_and_is_tried_again(app, seen, broken):
    jobs.run_tick("2026-06-15T11:00:00+08:00")
    again = jobs.run_tick("2026-06-15T11:01:00+08:00")
    assert again.failed == ["test.broken"] and broken["calls"] == 2  # hourly is not due; broken is
    broken["fail"] = False
    assert "test.broken" in jobs.run_tick("2026-06-15T11:02:00+08:00")
    state = db.session.get(jobs.TickRun, "test.broken")
    assert state.last_run_at == datetime(2026, 6, 15, 3, 2, tzinfo=UTC) and not state.is_failing
    assert state.last_failed_at == datetime(2026, 6, 15, 3, 1, tzinfo=UTC)  # kept: when it last failed
    assert "test.broken" not in jobs.run_tick("2026-06-15T11:03:00+08:00")  # run now: due again in an hour


def test_flask_tick_names_the_failed_handler_and_exits_1(app, runner, seen, broken):
    result = runner.invoke(args=["tick", "--at", "2026-06-15T11:00:00+08:00"])
    assert result.exit_code == 1
    assert "test.hourly" in result.output and "FAILED test.broken" in result.output
