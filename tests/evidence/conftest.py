"""Fixtures for the evidence tests: an app on its own PostgreSQL database, whatever the suite runs on."""

from __future__ import annotations

import os

import pytest
from flask_migrate import upgrade
from sqlalchemy.exc import OperationalError

from lms import create_app
from lms.extensions import db
from tests.conftest import create_postgres_database, make_test_config, require_service


@pytest.fixture
def postgres_url():
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    try:
        return create_postgres_database(f"lms_evidence_{worker}")
    except OperationalError as exc:
        require_service("PostgreSQL", str(exc).splitlines()[0])


@pytest.fixture
def postgres_app(postgres_url):
    app = create_app(make_test_config(postgres_url))
    with app.app_context():
        upgrade()
        yield app
        db.session.remove()
        db.engine.dispose()
