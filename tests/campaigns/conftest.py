"""Campaign fixtures: the small content tree (course `handbook`, exam `onboarding`) synced."""

from __future__ import annotations

import pytest
from sqlalchemy import event

from lms.extensions import db


@pytest.fixture
def synced(app, content):
    content.sync()
    return content


@pytest.fixture
def count_statements(app):
    """A context manager counting the SQL statements run inside it."""
    import contextlib

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
