"""The same Alembic migrations build the models' schema on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import sqlite3

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
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


def test_the_papers_of_existing_attempts_move_to_their_own_table_and_back(tmp_path):
    """7c2d9e4f1a03 moves each attempt's paper out of its row: none is lost on the way up or down. (The
    statements are the same on both databases; rows are written here with SQLite's foreign keys off.)"""
    path = tmp_path / "papers.sqlite3"
    app = create_app(make_test_config(f"sqlite:///{path}"))
    papers = {1: [{"n": 1, "id": "q-1", "type": "truefalse"}], 2: [{"n": 1, "id": "q-2", "stem": {"zh": "旷工"}}]}
    with app.app_context():
        upgrade(revision="4ecac064a1e6")
        db.engine.dispose()
        with sqlite3.connect(path) as raw:
            for attempt_id, paper in papers.items():
                raw.execute("INSERT INTO exam_attempt (id, employee_id, exam_slug, exam_version_id, number, "
                            "started_at, deadline_at, paper, slots, answers, is_late) VALUES "
                            "(?, 1, 'onboarding', 1, ?, '2026-12-01 01:00:00', '2026-12-01 01:30:00', ?, '[\"1\"]', "
                            "'{}', 0)",
                            (attempt_id, attempt_id, json.dumps(paper)))
        upgrade()
        with db.engine.connect() as conn:
            moved = dict(conn.execute(text("SELECT attempt_id, questions FROM exam_paper")).all())
        assert {key: json.loads(value) for key, value in moved.items()} == papers
        downgrade(revision="4ecac064a1e6")
        with db.engine.connect() as conn:
            back = dict(conn.execute(text("SELECT id, paper FROM exam_attempt")).all())
        assert {key: json.loads(value) for key, value in back.items()} == papers
        db.engine.dispose()
