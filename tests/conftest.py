"""Shared fixtures: an app on a migrated database, named people, and signed-in clients.

The database is SQLite by default; set TEST_DATABASE_URL to a PostgreSQL server URL to run
the same suite there (each xdist worker gets its own database). Tests that need a service
use `require_service()`: they skip when it is absent, unless LMS_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
from datetime import date, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url

from lms import create_app
from lms.extensions import db
from lms.people import services
from lms.people.models import Employee

# Tests never write a generated secret into instance/.
os.environ.setdefault("SECRET_KEY", "test-secret")

PASSWORD = "correct-horse-battery"


def require_service(name: str, reason: str) -> None:
    """Skip on a laptop without `name`; fail in CI (LMS_REQUIRE_SERVICES=1)."""
    if os.environ.get("LMS_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{name} is required in this run but unavailable: {reason}")
    pytest.skip(f"{name} unavailable: {reason} (with LMS_REQUIRE_SERVICES=1 this fails instead)")


def postgres_admin_url() -> str:
    return os.environ.get("LMS_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def redis_url() -> str:
    return os.environ.get("LMS_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


# Checkouts of the project (git worktrees) may run the suite on one server at the same time: each
# names its databases with a tag of its own path, so their workers never drop each other's.
CHECKOUT_TAG = hashlib.sha1(str(Path(__file__).resolve().parents[1]).encode()).hexdigest()[:6]


def create_postgres_database(name: str, admin_url: str | None = None) -> str:
    """A fresh, empty PostgreSQL database, named `name` plus this checkout's tag; returns its URL."""
    name = f"{name}_{CHECKOUT_TAG}"
    url = make_url(admin_url or postgres_admin_url()).set(drivername="postgresql+psycopg")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, worker_id) -> str:
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured and configured.startswith("postgres"):
        suffix = re.sub(r"\W", "", worker_id)
        return create_postgres_database(f"lms_test_{suffix}", configured)
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def _migrated(database_url):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "SECRET_KEY": "test-secret"})
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


def make_test_config(database_url: str, **extra) -> dict:
    return {
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "LMS_DATA_KEY": "test-data-key",
        "SESSION_COOKIE_SECURE": False,
        "REMEMBER_COOKIE_SECURE": False,
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "REDIS_URL": None,
        "LMS_LOCALE": "en",
        # Cheap password hashing keeps the suite fast; production uses argon2's defaults.
        "LMS_ARGON2_TIME_COST": 1,
        "LMS_ARGON2_MEMORY_KIB": 8,
        "LMS_ARGON2_PARALLELISM": 1,
        **extra,
    }


@pytest.fixture
def app_config(_migrated) -> dict:
    """Override per test module to change settings (e.g. enable CSRF)."""
    return make_test_config(_migrated)


class IsolatedClient(FlaskClient):
    """Each request gets its own app context, as in production.

    The `app` fixture keeps an app context open for the test's own queries; without this,
    requests would share its `g` (and so Flask-Login's cached user) with each other.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    app.test_client_class = IsolatedClient
    with app.app_context():
        yield app
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


# Rows the migrations seed, kept between tests (city_rule: only the rules the migrations ship).
SEEDED_TABLES = {"evidence_append_lock", "alembic_version", "city_rule"}


def _empty_tables() -> None:
    """Clear every table, stepping around the evidence log's append-only triggers."""
    tables = [t for t in reversed(db.metadata.sorted_tables) if t.name not in SEEDED_TABLES]
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SET LOCAL session_replication_role = replica"))  # triggers off
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            triggers = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'")).all()
            for name, _sql in triggers:
                conn.execute(text(f'DROP TRIGGER "{name}"'))
            for table in tables:
                conn.execute(table.delete())
            for _name, sql in triggers:
                conn.execute(text(sql))
        conn.execute(text("DELETE FROM city_rule WHERE created_by <> 'system'"))


@contextlib.contextmanager
def guards_lifted():
    """Switch the append-only triggers (of the events and of the verifications) off for a deliberate
    tampering, then back on."""
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE evidence_event DISABLE TRIGGER USER"))
            conn.execute(text("ALTER TABLE evidence_verification DISABLE TRIGGER USER"))
            saved = []
        else:
            saved = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                      "AND tbl_name IN ('evidence_event', 'evidence_verification')")).all()
            for name, _sql in saved:
                conn.execute(text(f'DROP TRIGGER "{name}"'))
    try:
        with db.engine.begin() as conn:
            yield conn
    finally:
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("ALTER TABLE evidence_event ENABLE TRIGGER USER"))
                conn.execute(text("ALTER TABLE evidence_verification ENABLE TRIGGER USER"))
            for _name, sql in saved:
                conn.execute(text(sql))


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_employee(app):
    """Create an employee through the real service; returns the Employee."""
    counter = iter(range(1, 10_000))

    def make(name: str = "员工", manager: Employee | None = None, **fields) -> Employee:
        number = fields.pop("employee_no", f"T{next(counter):04d}")
        values = {
            "employee_no": number, "name": name, "department": fields.pop("department", "销售部"),
            "hire_date": fields.pop("hire_date", date(2025, 3, 1)),
            "manager_no": manager.employee_no if manager else None, **fields,
        }
        return services.create_employee(values)

    return make


@pytest.fixture
def make_user(app):
    def make(username: str, role: str, employee: Employee | None = None):
        return services.create_user(username, PASSWORD, role, employee.id if employee else None)

    return make


@pytest.fixture
def org(make_employee, make_user):
    """The named people: a learner, her manager and his manager, an HR officer, an outsider."""

    class Org:  # established staff (status active); new hires are made by the tests that need them
        director = make_employee("陈总监", position="销售总监", status="active")
        manager = make_employee("张伟", manager=director, position="销售经理", status="active")
        learner = make_employee("王芳", manager=manager, mobile="13812345678", status="active",
                                national_id="110105199003071239", email="wang@example.cn")
        colleague = make_employee("刘洋", manager=manager, status="active")
        hr_officer = make_employee("李娜", department="人力资源部", status="active")
        outsider = make_employee("赵强", department="物流部", status="active")

    Org.users = {
        "learner": make_user("learner", "employee", Org.learner),
        "manager": make_user("manager", "manager", Org.manager),
        "director": make_user("director", "manager", Org.director),
        "hr": make_user("hr", "hr", Org.hr_officer),
        "outsider": make_user("outsider", "employee", Org.outsider),
        "admin": make_user("admin", "admin"),
    }
    return Org


@pytest.fixture
def content(tmp_path):
    """A small rules-and-courses tree under tmp_path; `.write()` edits it, `.sync()` loads it."""
    from tests.content_tree import write_small_tree

    return write_small_tree(tmp_path / "content")


@pytest.fixture
def login_as(app, org):
    """A test client signed in as one of the named people."""

    def login(who: str):
        client = app.test_client()
        response = client.post("/login", data={"username": who, "password": PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return login


@pytest.fixture
def hr_token(app) -> str:
    """The bearer token of an HR integration (an HRIS or a time clock)."""
    return services.create_api_token("hris", "hr")[1]


def auth(token: str, **headers) -> dict:
    """Request headers carrying a bearer token."""
    return {"Authorization": f"Bearer {token}", **headers}


@pytest.fixture
def served_case(app, org, content):
    """The seed's case: the learner, threshold after 6.17, with a contact and a household address."""
    from lms import clock
    from lms.absence.models import AbsenceCase
    from tests.absence.conftest import switch_on

    switch_on(content)
    org.learner.contact_address = "上海市浦东新区世纪大道100号"
    org.learner.household_address = "江苏省南通市崇川区人民路1号"
    case = AbsenceCase(employee_id=org.learner.id, state="threshold_reached", first_day=date(2026, 6, 15),
                       rule_version="2026-01", opened_at=clock.as_utc(datetime(2026, 6, 15, 11, 0)),
                       threshold_reached_at=clock.as_utc(datetime(2026, 6, 18, 0, 0)))
    db.session.add(case)
    db.session.commit()
    return case


@pytest.fixture
def count_statements(app):
    """A context manager counting the SQL statements run inside it (what a page must not multiply per row)."""

    @contextlib.contextmanager
    def counting():
        seen = []

        def before(conn, cursor, statement, parameters, context, executemany):
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield seen
        finally:
            event.remove(db.engine, "before_cursor_execute", before)

    return counting
