"""`flask evidence verify` names the first broken link; an intact chain verifies clean."""

from __future__ import annotations

import contextlib
import time

import pytest
from sqlalchemy import text

from lms.evidence import record, services
from lms.evidence.chain import event_hash
from lms.extensions import db


@contextlib.contextmanager
def guards_lifted():
    """Switch the append-only triggers off for a deliberate tampering, then back on."""
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE evidence_event DISABLE TRIGGER USER"))
            saved = []
        else:
            saved = conn.execute(text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                      "AND tbl_name = 'evidence_event'")).all()
            for name, _sql in saved:
                conn.execute(text(f'DROP TRIGGER "{name}"'))
    try:
        with db.engine.begin() as conn:
            yield conn
    finally:
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("ALTER TABLE evidence_event ENABLE TRIGGER USER"))
            for _name, sql in saved:
                conn.execute(text(sql))


@pytest.fixture
def chain(app):
    for number in range(1, 7):
        record("exam.graded", f"employee:{number}", {"score": 80 + number})
    db.session.commit()


def _tamper_payload(conn):
    body = conn.execute(text("SELECT body FROM evidence_event WHERE seq = 3")).scalar()
    conn.execute(text("UPDATE evidence_event SET body = :b WHERE seq = 3"),
                 {"b": body.replace('"score":83', '"score":93')})


def _rehash_forged_event(conn):
    body = conn.execute(text("SELECT body FROM evidence_event WHERE seq = 3")).scalar()
    forged = body.replace('"score":83', '"score":93')
    conn.execute(text("UPDATE evidence_event SET body = :b, hash = :h WHERE seq = 3"),
                 {"b": forged, "h": event_hash(forged)})


def _delete_event(conn):
    conn.execute(text("DELETE FROM evidence_event WHERE seq = 3"))


def _delete_last_event(conn):
    conn.execute(text("DELETE FROM evidence_event WHERE seq = 6"))


def _rewrite_last_event(conn):
    body = conn.execute(text("SELECT body FROM evidence_event WHERE seq = 6")).scalar()
    forged = body.replace('"score":86', '"score":96')
    conn.execute(text("UPDATE evidence_event SET body = :b, hash = :h WHERE seq = 6"),
                 {"b": forged, "h": event_hash(forged)})


def _renumber_event(conn):
    conn.execute(text("UPDATE evidence_event SET seq = 99 WHERE seq = 6"))


@pytest.mark.parametrize(("tamper", "broken", "says"), [
    (_tamper_payload, 3, "content changed"),
    (_rehash_forged_event, 4, "does not match the previous event's hash"),
    (_delete_event, 3, "event 3 is missing"),
    (_renumber_event, 6, "event 6 is missing"),
    (_delete_last_event, 6, "saw 6 events"),  # a cut tail still links: the last verified head tells
    (_rewrite_last_event, 6, "differs from the one verified"),
])
def test_a_tampered_row_is_named(runner, chain, tamper, broken, says):
    assert runner.invoke(args=["evidence", "verify"]).exit_code == 0
    with guards_lifted() as conn:
        tamper(conn)
    result = runner.invoke(args=["evidence", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN at event {broken}:" in result.output and says in result.output, result.output
    last = services.latest_verification()
    assert (last.is_intact, last.broken_seq) == (False, broken)


def test_an_untampered_chain_of_100000_events_verifies_clean(app, runner):
    started = time.perf_counter()
    services.record_many(("absence.day_counted", f"case:{n % 997}", {"day": n, "note": "未打卡"})
                         for n in range(100_000))
    db.session.commit()
    built = time.perf_counter() - started
    result = runner.invoke(args=["evidence", "verify"])
    assert result.exit_code == 0, result.output
    length, head = services.chain_head()
    assert f"intact: 100000 events, head {head}" in result.output
    assert length == 100_000
    print(f"built in {built:.1f}s")


def test_the_hr_page_shows_events_by_subject_and_the_verify_result(login_as, chain):
    client = login_as("hr")
    page = client.get("/evidence/?subject=employee:3").get_data(as_text=True)
    assert "employee:3" in page and "employee:4" not in page and '&#34;score&#34;: 83' in page
    assert client.post("/evidence/verify").status_code == 302
    page = client.get("/evidence/").get_data(as_text=True)
    assert f'data-test="chain-length">{services.chain_head()[0]}<' in page and "intact" in page


@pytest.mark.parametrize("who", ["learner", "manager", "outsider"])
def test_only_hr_and_admins_see_the_log(login_as, chain, who):
    assert login_as(who).get("/evidence/").status_code == 403


def test_text_with_backslashes_quotes_and_control_characters_verifies(app, runner):
    """Bodies as the database streams them (PostgreSQL's COPY escapes these) hash as they were written."""
    record("absence.reply_received", "case:1", {"text": 'C:\\temp\\"引号"\n第二行\ttab \\n literal \r\x0b\x0c\x08'})
    record("absence.note", "case:1", {"text": "\\\\server\\share", "emoji": "🙂"})
    db.session.commit()
    result = runner.invoke(args=["evidence", "verify"])
    assert result.exit_code == 0 and "intact: 2 events" in result.output, result.output
