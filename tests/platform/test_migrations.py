"""The same Alembic migrations build the models' schema on SQLite and on PostgreSQL."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect
from sqlalchemy.exc import OperationalError

from lms import create_app
from lms.config import PROJECT_DIR
from lms.extensions import db, include_in_autogenerate
from tests.conftest import create_postgres_database, make_test_config, require_service


def _schema_differences() -> list:
    with db.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"compare_type": True, "include_object": include_in_autogenerate})
        return compare_metadata(context, db.metadata)


# SQLAlchemy cannot reflect the evidence log's expression indexes; it says so, and we know.
pytestmark = pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")


def _round_trip(url: str) -> None:
    app = create_app(make_test_config(url))
    with app.app_context():
        upgrade()
        assert _schema_differences() == []
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()
        assert _schema_differences() == []
        db.engine.dispose()


def test_migrations_match_the_models_on_sqlite(tmp_path):
    _round_trip(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")


def test_migrations_match_the_models_on_postgresql():
    name = f"lms_migrations_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    try:
        url = create_postgres_database(name)
    except OperationalError as exc:
        require_service("PostgreSQL", str(exc).splitlines()[0])
    _round_trip(url)


@pytest.mark.parametrize("revision_file", sorted(
    p.name for p in (PROJECT_DIR / "migrations" / "versions").glob("*.py")))
def test_revision_files_are_named_by_date_and_time(revision_file):
    stamp = revision_file.split("_")[:2]
    assert len(stamp[0]) == 8 and stamp[0].isdigit() and len(stamp[1]) == 4 and stamp[1].isdigit()
