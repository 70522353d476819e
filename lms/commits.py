"""Commits that do not wait for the disk, for writes that are cheap to lose in a power cut; commits that
keep what the session holds, for a request that answers from what it has just written."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.pool import Pool

from lms.evidence.services import appended_in_transaction
from lms.extensions import db

_RELAXED = "lms_commit_relaxed"


@contextmanager
def commit_without_waiting_for_disk() -> Iterator[None]:
    """Run the block's writes and commit them without waiting for the disk flush.

    For autosaves only (an exam's answers as the learner goes). The commit is as atomic as any,
    and a lost connection or a crash of the application loses nothing; only a power cut or a
    crash of the database within a fraction of a second can take the last autosaves back, and
    the learner clicks again. Waiting for the flush cost a sixth of the busiest request.
    Evidence is never written this way: a block that appended an event is refused.

    PostgreSQL: `SET LOCAL synchronous_commit TO OFF`, for this transaction only. SQLite (WAL):
    `synchronous=NORMAL` for this commit; the connection is back to FULL before it returns to the
    pool. SQLite cannot change that inside a transaction, so a session already writing commits
    with the full flush.
    """
    connection = db.session.connection()
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
    elif connection.dialect.name == "sqlite" and not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("PRAGMA synchronous=NORMAL")
        connection.connection.info[_RELAXED] = True
    yield
    if appended_in_transaction():
        raise RuntimeError("evidence must reach the disk before its commit returns: commit it normally")
    db.session.commit()


def commit_keeping_objects() -> None:
    """Commit without expiring the session's objects (as every other commit does).

    For a request that answers from the rows it has just written: the new exam attempt's paper would
    otherwise be read back and parsed again, a quarter of the start's time, to say what it already
    holds. Safe where the objects are this transaction's own writes and reads, and the request ends
    soon after; anywhere else, commit normally.
    """
    session = db.session()
    session.expire_on_commit = False
    try:
        session.commit()
    finally:
        session.expire_on_commit = True


@event.listens_for(Pool, "checkin")
def _flush_every_commit_again(dbapi_connection, connection_record) -> None:
    if connection_record.info.pop(_RELAXED, False):
        dbapi_connection.execute("PRAGMA synchronous=FULL")
