"""`flask backup create` / `flask backup restore` (issue 19, item 8): a backup restored into an EMPTY database
holds the same evidence chain, which verifies there, and every uploaded file, byte for byte. Runs on the suite's
database: SQLite, or PostgreSQL with TEST_DATABASE_URL (a second, empty database on the same server)."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DatabaseError

from lms import create_app
from lms.documents import files
from lms.documents.models import StoredFile
from lms.evidence import record
from lms.evidence.models import EvidenceEvent
from lms.extensions import db
from tests.conftest import create_postgres_database, make_test_config, postgres_admin_url

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
PDF = b"%PDF-1.4\n" + "证据 scan".encode() * 500


@pytest.fixture
def empty_database(app, tmp_path):
    """A database of the suite's kind with no table in it."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    if url.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    restored = create_postgres_database("lms_restore", postgres_admin_url())
    yield restored
    name = make_url(restored).database
    engine = create_engine(make_url(postgres_admin_url()).set(drivername="postgresql+psycopg"),
                           isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


@pytest.fixture
def kept(app, org):
    """Some history: evidence events and two uploaded files."""
    for number in range(1, 6):
        record("exam.graded", f"employee:{org.learner.id}", {"score": 80 + number})
    photo = files.store(PNG, "envelope.png", "hr:test")
    scan = files.store(PDF, "receipt.pdf", "hr:test")
    db.session.commit()
    return {photo.sha256: PNG, scan.sha256: PDF}


def _events(session) -> list[tuple[int, str]]:
    return list(session.execute(select(EvidenceEvent.seq, EvidenceEvent.hash).order_by(EvidenceEvent.seq)))


def test_a_backup_restored_into_an_empty_database_verifies_and_has_every_file(app, runner, kept, empty_database,
                                                                              tmp_path):
    events = _events(db.session)
    backup = tmp_path / "lms.backup"
    made = runner.invoke(args=["backup", "create", str(backup)])
    assert made.exit_code == 0, made.output
    assert (tmp_path / "lms.backup.sha256").read_text().split()[0] == hashlib.sha256(backup.read_bytes()).hexdigest()

    restored_app = create_app(make_test_config(empty_database))
    with restored_app.app_context():
        done = restored_app.test_cli_runner().invoke(args=["backup", "restore", str(backup)])
        assert done.exit_code == 0, done.output
        assert f"evidence chain intact: {len(events)} events" in done.output
        assert _events(db.session)[:len(events)] == events  # the same chain, plus the restore's own verification
        verified = restored_app.test_cli_runner().invoke(args=["evidence", "verify"])
        assert verified.exit_code == 0, verified.output
        stored = {f.sha256: f.data for f in db.session.scalars(select(StoredFile))}
        assert stored == kept
        assert all(hashlib.sha256(data).hexdigest() == sha for sha, data in stored.items())
        # The log is append-only there too: its triggers came back with it.
        with pytest.raises(DatabaseError):
            db.session.execute(text("UPDATE evidence_event SET body = body WHERE seq = 1"))
        db.session.rollback()
        # The restored database takes new records: its id sequences came along too.
        files.store(PNG + b"more", "later.png", "hr:test")
        db.session.commit()
        assert db.session.scalar(select(func.count()).select_from(StoredFile)) == 3
        db.session.remove()
        db.engine.dispose()


def test_restore_refuses_a_database_that_is_not_empty(app, runner, kept, tmp_path):
    backup = tmp_path / "lms.backup"
    assert runner.invoke(args=["backup", "create", str(backup)]).exit_code == 0
    before = _events(db.session)
    refused = runner.invoke(args=["backup", "restore", str(backup)])
    assert refused.exit_code == 1 and "restore into an empty database" in refused.output
    assert _events(db.session) == before  # nothing was touched


def test_restore_refuses_a_damaged_backup(app, runner, kept, empty_database, tmp_path):
    backup = tmp_path / "lms.backup"
    assert runner.invoke(args=["backup", "create", str(backup)]).exit_code == 0
    data = bytearray(backup.read_bytes())
    data[len(data) // 2] ^= 0xFF
    backup.write_bytes(bytes(data))
    restored_app = create_app(make_test_config(empty_database))
    with restored_app.app_context():
        refused = restored_app.test_cli_runner().invoke(args=["backup", "restore", str(backup)])
        assert refused.exit_code == 1 and "the backup is damaged" in refused.output
        assert inspect(db.engine).get_table_names() == []
        db.engine.dispose()
