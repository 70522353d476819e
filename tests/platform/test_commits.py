"""Autosaves commit without waiting for the disk; everything else, and evidence always, waits."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from lms.commits import commit_without_waiting_for_disk
from lms.evidence import record
from lms.evidence.models import EvidenceEvent
from lms.extensions import db
from lms.people.models import Department

FULL, NORMAL = 2, 1


def flush_setting():
    """What this database does at commit: PostgreSQL's synchronous_commit, SQLite's synchronous level."""
    if db.engine.dialect.name == "postgresql":
        return db.session.execute(text("SHOW synchronous_commit")).scalar()
    return db.session.execute(text("PRAGMA synchronous")).scalar()


def test_an_autosave_commits_without_the_flush_and_the_next_transaction_flushes_again(app):
    postgres = db.engine.dialect.name == "postgresql"
    assert flush_setting() == ("on" if postgres else FULL)
    db.session.commit()

    with commit_without_waiting_for_disk():
        db.session.add(Department(name="自动保存"))
        assert flush_setting() == ("off" if postgres else NORMAL)

    assert db.session.scalar(select(Department.name)) == "自动保存"  # committed, in a new transaction
    assert flush_setting() == ("on" if postgres else FULL)
    db.session.rollback()
    with db.engine.connect() as other:  # the pooled connection came back flushing every commit
        assert other.execute(text("SHOW synchronous_commit" if postgres else "PRAGMA synchronous")).scalar() \
            == ("on" if postgres else FULL)


def test_evidence_is_never_committed_without_the_flush(app):
    with pytest.raises(RuntimeError, match="evidence must reach the disk"), commit_without_waiting_for_disk():
        db.session.add(Department(name="不应保存"))
        record("test.autosave", "case:1", {"n": 1})
    db.session.rollback()
    assert db.session.scalar(select(Department.name)) is None
    assert db.session.scalar(select(EvidenceEvent.seq)) is None
