"""`flask evidence verify` names the first broken link; an intact chain verifies clean."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from lms.evidence import chain as chain_module
from lms.evidence import record, services
from lms.evidence.chain import GENESIS, ChainReport, build_body, chain_from_runs, event_hash, linked_runs
from lms.extensions import db
from tests.conftest import guards_lifted, require_service


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
    # 6 and the event of the verification that saw it (7): the chain still links, up to 5.
    conn.execute(text("DELETE FROM evidence_event WHERE seq >= 6"))


def _rewrite_last_event(conn):
    conn.execute(text("DELETE FROM evidence_event WHERE seq = 7"))  # the verification's event, linked to 6
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
    length, head = services.chain_head()
    result = runner.invoke(args=["evidence", "verify"])
    assert result.exit_code == 0, result.output
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


def test_a_chain_stored_out_of_seq_order_verifies_and_a_break_in_it_is_named(postgres_app):
    """PostgreSQL is read in storage order, in parallel: a table whose storage is shuffled
    (CLUSTER by hash) is still one intact chain, and a change in it is still named."""
    services.record_many(("test.event", f"employee:{n % 7}", {"n": n}) for n in range(3_000))
    db.session.commit()
    with db.engine.begin() as conn:
        conn.execute(text("CLUSTER evidence_event USING uq_evidence_event_hash"))
        stored_first = conn.execute(text("SELECT seq FROM evidence_event WHERE ctid < '(1,0)'::tid")).scalars().all()
    assert stored_first != sorted(stored_first) or min(stored_first) != 1  # the storage order really is shuffled

    runs = services._runs(3_000, workers=2)  # the fast path alone, without the ordered fallback
    assert len(runs) > 2 and chain_from_runs(runs, 3_000) == ChainReport(3_000, services.chain_head()[1])
    report = services.verify_chain(save=False, workers=2)
    assert (report.ok, report.length, report.head_hash) == (True, 3_000, services.chain_head()[1])

    with guards_lifted() as conn:
        body = conn.execute(text("SELECT body FROM evidence_event WHERE seq = 1234")).scalar()
        conn.execute(text("UPDATE evidence_event SET body = :b WHERE seq = 1234"),
                     {"b": body.replace('"n":1233', '"n":9999')})
    report = services.verify_chain(save=False, workers=2)
    assert (report.broken_seq, report.length) == (1234, 1233) and "content changed" in report.problem


def chain_rows(count: int) -> list[tuple[int, bytes, bytes]]:
    """(seq, body, hash) rows of an intact chain, as the verifier reads them."""
    rows, prev = [], GENESIS
    for seq in range(1, count + 1):
        # A payload that itself holds `","seq":` and a prev_hash: only the top-level one is the link.
        payload = {"n": seq, "note": '他说","seq":7', "inner": {"prev_hash": "f" * 64, "seq": 1}}
        body = build_body(seq, datetime(2026, 11, 26, tzinfo=UTC), "system", "case:1", "test.event", payload, prev)
        prev = event_hash(body)
        rows.append((seq, body.encode(), prev.encode()))
    return rows


def test_runs_read_in_any_order_join_into_the_chain_only_when_every_link_holds():
    bodies = chain_rows(40)
    prev = bodies[-1][2].decode()
    shuffled = random.Random(7).sample(bodies, len(bodies))
    runs = linked_runs([shuffled[:25], shuffled[25:]])
    assert len(runs) > 1
    assert chain_from_runs(runs, 40) == ChainReport(40, prev)
    assert chain_from_runs(runs, 41) is None  # an event the runs do not reach

    without_17 = [row for row in shuffled if row[0] != 17]
    assert chain_from_runs(linked_runs([without_17]), 40) is None
    forged_17 = bodies[16][1].replace(b'"n":17', b'"n":71')
    assert linked_runs([[*bodies[:16], (17, forged_17, bodies[16][2]), *bodies[17:]]]) is None
    rehashed = [*bodies[:16], (17, forged_17, event_hash(forged_17.decode()).encode()), *bodies[17:]]
    assert chain_from_runs(linked_runs([rehashed]), 40) is None  # event 18 no longer links to the forged 17


def compiled_link_breaks():
    if chain_module.link_breaks is chain_module._link_breaks_in_python:
        require_service("the C build of the chain check", "lms/evidence/_chainscan.c was not compiled "
                                                          "(needs a C compiler and OpenSSL's headers)")
    return chain_module.link_breaks


def test_the_compiled_check_agrees_with_the_python_reference_on_intact_and_tampered_rows():
    compiled, reference = compiled_link_breaks(), chain_module._link_breaks_in_python
    rows = chain_rows(60)
    forged = rows[29][1].replace(b'"n":30', b'"n":31')
    cases = {
        "intact": (rows, 0, GENESIS.encode()),
        "second half": (rows[30:], 30, rows[29][2]),
        "shuffled": (random.Random(3).sample(rows, len(rows)), 0, GENESIS.encode()),
        "one missing": ([*rows[:10], *rows[11:]], 0, GENESIS.encode()),
        "wrong start": (rows, 5, GENESIS.encode()),
        "forged body": ([*rows[:29], (30, forged, rows[29][2]), *rows[30:]], 0, GENESIS.encode()),
        "rehashed forgery": ([*rows[:29], (30, forged, event_hash(forged.decode()).encode()), *rows[30:]], 0,
                             GENESIS.encode()),
        "seq out of step": ([*rows[:5], (99, rows[5][1], rows[5][2]), *rows[6:]], 0, GENESIS.encode()),
        "no link marker": ([(1, b'{"seq":1}', event_hash('{"seq":1}').encode())], 0, GENESIS.encode()),
        "empty": ([], 0, GENESIS.encode()),
    }
    for name, (batch, last_seq, last_hash) in cases.items():
        assert compiled(batch, last_seq, last_hash) == reference(batch, last_seq, last_hash), name
    assert compiled(rows, 0, GENESIS.encode()) == []
    assert compiled(cases["shuffled"][0], 0, GENESIS.encode())  # cuts where storage order leaves seq order
    assert compiled(cases["forged body"][0], 0, GENESIS.encode()) is None
    assert compiled(cases["rehashed forgery"][0], 0, GENESIS.encode()) == [30]  # event 31 no longer links


def test_the_compiled_check_refuses_rows_of_the_wrong_shape():
    compiled = compiled_link_breaks()
    with pytest.raises(TypeError):
        compiled([(1, "text, not bytes", b"0" * 64)], 0, GENESIS.encode())
    with pytest.raises(TypeError):
        compiled([(1, b"{}")], 0, GENESIS.encode())


def _runs_both_ways(length: int, monkeypatch) -> tuple[list, list]:
    """Each slice's runs as the C reader finds them and as the Python reading (the driver's rows into
    linked_runs) finds them, over the same database."""
    url = db.engine.url.render_as_string(hide_password=False)
    slices = services._slices(db.engine, length, 2)
    read_in_c = [services._runs_read_in_c(url, start, end, length) for start, end in slices]
    if services.NO_READER in read_in_c:
        require_service("the C reader of the evidence table", "lms/evidence/_chainscan.c was built without "
                                                              "libpq's or SQLite's headers")
    with monkeypatch.context() as patch:
        patch.setattr(services, "_runs_read_in_c", lambda *args: services.NO_READER)
        read_in_python = [services._slice_runs(url, start, end, length) for start, end in slices]
    return read_in_c, read_in_python


def test_the_c_reader_finds_the_runs_the_python_reading_finds(app, monkeypatch):
    """The C module reads the table itself (PostgreSQL's binary COPY, SQLite's own API): on an intact
    chain, a cut one and a forged one it must say what reading the rows through the driver says."""
    services.record_many(("test.event", f"employee:{n % 7}", {"n": n, "text": '引号"\\\n'}) for n in range(2_500))
    db.session.commit()
    read_in_c, read_in_python = _runs_both_ways(2_500, monkeypatch)
    assert read_in_c == read_in_python and all(read_in_c)
    assert chain_from_runs([run for runs in read_in_c for run in runs], 2_500).ok

    with guards_lifted() as conn:
        conn.execute(text("DELETE FROM evidence_event WHERE seq = 700"))
    read_in_c, read_in_python = _runs_both_ways(2_500, monkeypatch)
    assert read_in_c == read_in_python
    assert chain_from_runs([run for runs in read_in_c for run in runs], 2_500) is None  # 700 is missing

    with guards_lifted() as conn:
        body = conn.execute(text("SELECT body FROM evidence_event WHERE seq = 1800")).scalar()
        conn.execute(text("UPDATE evidence_event SET body = :b WHERE seq = 1800"),
                     {"b": body.replace('"n":1799', '"n":9999')})
    read_in_c, read_in_python = _runs_both_ways(2_500, monkeypatch)
    assert read_in_c == read_in_python and None in read_in_c  # the slice holding 1800 no longer hashes
