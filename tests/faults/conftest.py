"""Private services for the fault tests: a Redis and a PostgreSQL cluster of their own, to stop and start.

The machine's PostgreSQL and Redis are shared (CI, other checkouts): a fault test never touches them.
Each private service runs on a free port with its data in a temporary directory, and is stopped at the
end. Without the binaries (or, for PostgreSQL as root, without the `postgres` OS user) the tests skip
on a laptop and fail under LMS_REQUIRE_SERVICES=1, as every service test does.
"""

from __future__ import annotations

import io
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import func, select

from lms import create_app
from lms.extensions import db
from tests.absence.conftest import absence_setup  # noqa: F401 - a fixture the fault tests share
from tests.conftest import require_service

PG_BIN = Path(os.environ.get("LMS_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, timeout: float = 10.0, what: str = "the condition") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


class PrivateRedis:
    """A redis-server of this test's own, without persistence: stopping it loses what it held."""

    def __init__(self, binary: str):
        self.binary, self.port, self.process = binary, free_port(), None
        self.url = f"redis://127.0.0.1:{self.port}/0"

    def _pings(self) -> bool:
        from redis import Redis
        from redis.exceptions import RedisError

        try:
            return bool(Redis.from_url(self.url, socket_connect_timeout=0.2).ping())
        except RedisError:
            return False

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._pings, what=f"the private Redis on port {self.port}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()  # as a crash or an OOM kill: no goodbye, no save
            self.process.wait(timeout=10)
        self.process = None


@pytest.fixture
def private_redis():
    binary = shutil.which("redis-server")
    if binary is None:
        require_service("redis-server", "the binary is not on PATH")
    server = PrivateRedis(binary)
    server.start()
    yield server
    server.stop()


class PrivatePostgres:
    """A PostgreSQL cluster in a temporary directory, on a free port; as root it runs as `postgres`."""

    def __init__(self):
        self.port = free_port()
        self.directory = Path(tempfile.mkdtemp(prefix="lms-faults-pg-"))
        self.data = self.directory / "data"
        self.as_user: list[str] = []
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            account = pwd.getpwnam("postgres")
            os.chown(self.directory, account.pw_uid, account.pw_gid)
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run([*self.as_user, *args], capture_output=True, text=True, timeout=60, check=check)

    def init(self) -> None:
        self._run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust", "-N",
                  "--no-instructions", "-E", "UTF8", "--locale", "C")

    def start(self) -> None:
        options = (f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c full_page_writes=off -c shared_buffers=16MB -c max_connections=30")
        self._run(str(PG_BIN / "pg_ctl"), "start", "-w", "-D", str(self.data), "-o", options,
                  "-l", str(self.directory / "log"))

    def stop(self, mode: str = "fast") -> None:
        self._run(str(PG_BIN / "pg_ctl"), "stop", "-w", "-m", mode, "-D", str(self.data), check=False)

    def sql(self, statement: str) -> str:
        return self._run(str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                         "-d", "postgres", "-Atc", statement).stdout.strip()

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture(scope="session")
def private_postgres():
    """A migrated private cluster, one per xdist worker, removed at the end of the session."""
    if not (PG_BIN / "postgres").exists():
        require_service("PostgreSQL binaries", f"{PG_BIN} has no postgres")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            require_service("PostgreSQL", "running as root needs a `postgres` OS user to run a private cluster")
    server = PrivatePostgres()
    try:
        server.init()
        server.start()
        app = create_app({"TESTING": True, "DATABASE_URL": server.url, "SECRET_KEY": "test-secret"})
        with app.app_context():
            upgrade()
            db.engine.dispose()
        yield server
    finally:
        server.remove()


def counts() -> dict[str, int]:
    """What "nothing lost, nothing twice" is measured by: the rows of each kind of lasting record."""
    from lms.absence.models import AbsenceCase, Punch
    from lms.evidence.models import EvidenceEvent
    from lms.notify.models import Delivery, Message, SmsOutbox

    db.session.expire_all()
    return {name: db.session.scalar(select(func.count()).select_from(model)) for name, model in {
        "evidence_events": EvidenceEvent, "messages": Message, "deliveries": Delivery, "sms_sent": SmsOutbox,
        "cases": AbsenceCase, "punches": Punch}.items()}


def punch_export(employee_nos: list[str], days: int = 28, per_day: int = 30) -> bytes:
    """The generic layout: every employee punches `per_day` times a day in June 2026 (one row each)."""
    lines = ["employee_no,punched_at"]
    for day in range(days):
        start = datetime(2026, 6, 1, 8, 0) + timedelta(days=day)
        for minute in range(per_day):
            lines += [f"{number},{(start + timedelta(minutes=minute)).isoformat(sep=' ')}" for number in employee_nos]
    return ("\n".join(lines) + "\n").encode()


def upload(client, data: bytes, name: str = "clock.csv"):
    """HR uploads the export on the punches page."""
    return client.post("/absence/punches", data={"file": (io.BytesIO(data), name), "layout": "generic"},
                       content_type="multipart/form-data")
