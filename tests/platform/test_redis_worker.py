"""A real job through a real Redis and a real `flask worker` process."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from lms import jobs
from lms.extensions import db
from tests.conftest import redis_url, require_service

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def redis_connection():
    from redis import Redis
    from redis.exceptions import ConnectionError as RedisConnectionError

    url = redis_url()
    connection = Redis.from_url(url)
    try:
        connection.ping()
    except RedisConnectionError as exc:
        require_service("Redis", f"{url}: {exc}")
    # A database per xdist worker, so parallel runs do not take each other's jobs.
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    url = url.rsplit("/", 1)[0] + f"/{10 + int(worker.removeprefix('gw') or 0) % 5}"
    connection = Redis.from_url(url)
    connection.flushdb()
    yield url
    connection.flushdb()


def test_a_job_runs_in_a_worker_process_with_its_own_app_context(app, redis_connection, _migrated):
    app.config["REDIS_URL"] = redis_connection
    job = jobs.enqueue(jobs.run_tick, "2026-06-15T11:00:00+08:00")
    assert job.get_status() == "queued"  # not run in-process: it went to Redis

    env = {**os.environ, "FLASK_APP": "wsgi", "DATABASE_URL": _migrated, "REDIS_URL": redis_connection,
           "SECRET_KEY": "test-secret", "LMS_DATA_KEY": "test-data-key"}
    worker = subprocess.run([sys.executable, "-m", "flask", "worker", "--burst"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert worker.returncode == 0, worker.stderr

    deadline = time.monotonic() + 10
    while job.get_status(refresh=True) != "finished" and time.monotonic() < deadline:
        time.sleep(0.1)
    assert job.get_status() == "finished", worker.stderr
    db.session.expire_all()
    beat = db.session.get(jobs.TickRun, jobs.SCHEDULER)
    assert beat is not None, "the worker's job did not write to the database"
    assert beat.last_run_at == datetime(2026, 6, 15, 3, 0, tzinfo=UTC)


def test_the_worker_refuses_to_start_without_redis(runner):
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code != 0 and "REDIS_URL" in result.output
