"""Appending to the evidence log and verifying it."""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import create_engine, event, func, insert, make_url, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from lms import clock
from lms.evidence.chain import (
    GENESIS,
    ChainReport,
    Run,
    build_body,
    chain_from_runs,
    check_chain,
    event_hash,
    format_instant,
    linked_runs,
)
from lms.evidence.models import EvidenceAppendLock, EvidenceEvent, EvidenceVerification, body_field
from lms.extensions import db

try:  # the C build, which may also read the table itself (see lms/evidence/_chainscan.c)
    from lms.evidence import _chainscan
except ImportError:  # pragma: no cover - depends on the build
    _chainscan = None

LOCK_ROW = 1
BATCH = 20_000


def subject_of(kind: str, identifier: int | str) -> str:
    """The subject reference for a row: subject_of("employee", 12) → "employee:12"."""
    return f"{kind}:{identifier}"


def ref_id(ref: str, kind: str) -> int | None:
    """The id in a subject or actor reference of that kind: ref_id("user:3", "user") → 3."""
    prefix, _sep, identifier = ref.partition(":")
    return int(identifier) if prefix == kind and identifier.isdigit() else None


def actor_of(actor) -> str:
    """'system', 'user:3' or 'api-token:2' from whatever did the thing."""
    if actor is None:
        return "system"
    if isinstance(actor, str):
        return actor
    from lms.people.models import ApiToken, TokenHolder, User

    if isinstance(actor, User):
        return f"user:{actor.id}"
    if isinstance(actor, ApiToken):
        return f"api-token:{actor.id}"
    if isinstance(actor, TokenHolder):
        return f"api-token:{actor.token_id}"
    raise TypeError(f"unknown actor {actor!r}")


# session.info key: the head (seq, hash) as this transaction left it, while it holds the append lock.
_HEAD = "evidence_head"


@event.listens_for(Session, "after_transaction_end")
def _forget_head(session, transaction) -> None:
    # Commit or rollback releases the lock, and a savepoint's rollback may take appends with it: the
    # next append must lock and read the head again. A flush's subtransaction ends inside the
    # database transaction and changes neither.
    if transaction.parent is None or transaction.nested:
        session.info.pop(_HEAD, None)


def appended_in_transaction() -> bool:
    """Whether the session's open transaction has appended events (its commit must be durable)."""
    return _HEAD in db.session.info


# Built once, and on the tables rather than the models: the ORM's handling of an UPDATE (matching it
# against the objects in the session) cost more than the statement, on every request that records.
_lock_table, _events = EvidenceAppendLock.__table__, EvidenceEvent.__table__
_TAKE_APPEND_LOCK = update(_lock_table).where(_lock_table.c.id == LOCK_ROW).values(appends=_lock_table.c.appends + 1)
_CHAIN_HEAD = select(_events.c.seq, _events.c.hash).order_by(_events.c.seq.desc()).limit(1)


def _lock_and_read_head() -> tuple[int, str]:
    # Updating the lock row first makes concurrent appenders queue here until we commit,
    # so the head we read is still the head when we insert. A transaction that already holds
    # the lock knows the head: it wrote it (several events per request are common).
    known = db.session.info.get(_HEAD)
    if known is not None and db.session().in_transaction():
        return known
    # The caller's pending writes first, as the ORM's own UPDATE did when this was one: what a transaction
    # changed before it records stays locked before the evidence lock, the order every appender keeps.
    db.session.flush()
    db.session.execute(_TAKE_APPEND_LOCK)
    return chain_head()


def record(kind: str, subject: str, payload: dict, actor=None) -> EvidenceEvent:
    """Append one event in the caller's transaction (committed with it, or not at all); the returned
    event is not in the session (load it by seq to see it as stored)."""
    head_seq, prev_hash = _lock_and_read_head()
    body = build_body(head_seq + 1, clock.now(), actor_of(actor), subject, kind, payload, prev_hash)
    appended = EvidenceEvent(seq=head_seq + 1, body=body, hash=event_hash(body))
    # A plain INSERT (after the usual autoflush of the caller's pending changes): an event is never
    # changed, so the unit of work's bookkeeping would cost more than the write itself.
    db.session.execute(insert(EvidenceEvent.__table__), {"seq": appended.seq, "body": body, "hash": appended.hash})
    db.session.info[_HEAD] = (appended.seq, appended.hash)
    return appended


def record_many(entries: Iterable[tuple[str, str, dict]], actor=None, batch: int = 5_000) -> int:
    """Append (kind, subject, payload) entries in order, in bulk, in the caller's transaction.

    For large back-fills (an import of historical records, the benchmark); each event is
    chained exactly as `record` would chain it.
    """
    head_seq, prev_hash = _lock_and_read_head()
    occurred_at = clock.now()
    actor_ref = actor_of(actor)
    table = EvidenceEvent.__table__
    rows: list[dict] = []
    written = 0
    for kind, subject, payload in entries:
        head_seq += 1
        body = build_body(head_seq, occurred_at, actor_ref, subject, kind, payload, prev_hash)
        prev_hash = event_hash(body)
        rows.append({"seq": head_seq, "body": body, "hash": prev_hash})
        if len(rows) >= batch:
            _insert_events(table, rows)
            written += len(rows)
            rows = []
    if rows:
        _insert_events(table, rows)
        written += len(rows)
    db.session.info[_HEAD] = (head_seq, prev_hash)
    return written


def _insert_events(table, rows: list[dict]) -> None:
    """Insert a batch in the session's transaction: COPY on PostgreSQL (half the time of an
    executemany, the expression indexes over the body being most of what is left), else executemany."""
    if db.engine.dialect.name != "postgresql":
        db.session.execute(insert(table), rows)
        return
    cursor = db.session.connection().connection.driver_connection.cursor()
    with cursor, cursor.copy(f"COPY {table.name} (seq, body, hash) FROM STDIN") as copy:
        for row in rows:
            copy.write_row((row["seq"], row["body"], row["hash"]))


# How each database hands rows over fastest, as (seq, body bytes, hash bytes). SQLite: in rowid
# (= seq) order, blobs. PostgreSQL: a block range in storage order (a TID range scan; sorting by seq
# costs more than the whole check), as bytes because the reading connection speaks SQL_ASCII.
_SLICE_SQL = {
    "sqlite": "SELECT seq, CAST(body AS BLOB), CAST(hash AS BLOB) FROM evidence_event "
              "WHERE seq >= ? AND seq < ? AND seq <= ? ORDER BY seq",
    "postgresql": "SELECT seq, body, hash FROM evidence_event "
                  "WHERE ctid >= %s::tid AND ctid < %s::tid AND seq <= %s",
}
_ORDERED_SQL = "SELECT seq, body, hash FROM evidence_event WHERE seq >= :start ORDER BY seq"
PARALLEL_FROM = 100_000  # below this, starting processes costs more than it saves
_BLOCKS_PER_READ = 1_000  # about 20,000 events, a few MB per round trip


def _slices(engine, length: int, parts: int) -> list[tuple[int, int]]:
    """[start, end) ranges covering the stored events: seq on SQLite, table blocks on PostgreSQL."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            total = conn.execute(text("SELECT pg_relation_size('evidence_event') "
                                      "/ current_setting('block_size')::int")).scalar() + 1
    else:
        total = length + 1
    size = -(-total // parts)
    return [(start, min(start + size, total)) for start in range(0, total, size)]


def _reading_connection(engine):
    raw = engine.raw_connection()
    if engine.dialect.name == "postgresql":
        # Text arrives as the stored UTF-8 bytes, which is what gets hashed: no decode and re-encode.
        raw.driver_connection.execute("SET client_encoding TO 'SQL_ASCII'")
    return raw


_COPY_SQL = ("COPY (SELECT seq, body, hash FROM evidence_event WHERE ctid >= '({low},0)'::tid "
             "AND ctid < '({high},0)'::tid AND seq <= {length}) TO STDOUT (FORMAT binary)")
NO_READER = object()


def _c_reader(url: str):
    """The C module's reader of this database's slices, as (start, end, length) → runs (or None, as
    linked_runs), reading and checking without a Python object per row; None where the build has no
    reader for this database or URL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql" and hasattr(_chainscan, "scan_postgresql"):
        conninfo = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
        return lambda start, end, length: _chainscan.scan_postgresql(
            conninfo, _COPY_SQL.format(low=start, high=end, length=length))
    if (parsed.get_backend_name() == "sqlite" and hasattr(_chainscan, "scan_sqlite")
            and parsed.database not in (None, "", ":memory:") and not parsed.query):
        return lambda start, end, length: _chainscan.scan_sqlite(parsed.database, _SLICE_SQL["sqlite"], start,
                                                                 end, length)
    return None


def _runs_read_in_c(url: str, start: int, end: int, length: int):
    """The slice's linked runs read by the C module; NO_READER where it has none for this database."""
    reader = _c_reader(url)
    if reader is None:
        return NO_READER
    found = reader(start, end, length)
    return None if found is None else [Run(*run) for run in found]


def _slice_runs(url: str, start: int, end: int, length: int) -> list[Run] | None:
    """The linked runs in one slice, read by a connection of its own (this may run in a worker process)."""
    read_in_c = _runs_read_in_c(url, start, end, length)
    if read_in_c is not NO_READER:
        return read_in_c
    engine = create_engine(url, poolclass=NullPool)
    raw = _reading_connection(engine)
    try:
        postgres = engine.dialect.name == "postgresql"
        cursor = raw.cursor()
        sql, step = _SLICE_SQL[engine.dialect.name], _BLOCKS_PER_READ if postgres else BATCH

        def batches():
            for low in range(start, end, step):
                high = min(low + step, end)
                cursor.execute(sql, (f"({low},0)", f"({high},0)", length) if postgres else (low, high, length))
                yield cursor.fetchall()
        return linked_runs(batches())
    finally:
        raw.close()
        engine.dispose()


def _runs(length: int, workers: int) -> list[Run] | None:
    url = db.engine.url.render_as_string(hide_password=False)
    slices = _slices(db.engine, length, workers)
    if len(slices) == 1:
        return _slice_runs(url, *slices[0], length)
    if _c_reader(url) is not None:  # the C readers let go of the GIL: threads, nothing to fork
        with ThreadPoolExecutor(len(slices)) as pool:
            found = list(pool.map(lambda bounds: _slice_runs(url, *bounds, length), slices))
    else:
        with multiprocessing.get_context("fork").Pool(len(slices)) as pool:
            found = pool.starmap(_slice_runs, [(url, start, end, length) for start, end in slices])
    return None if None in found else [run for runs in found for run in runs]


def _first_break() -> ChainReport:
    """The slow path, for a chain that did not verify: walk it in seq order and name the first break."""
    def batches():
        with db.engine.connect() as conn:
            rows = conn.execution_options(stream_results=True, yield_per=BATCH).execute(
                text(_ORDERED_SQL), {"start": 1})
            for batch in rows.partitions():
                yield [(seq, body.encode(), digest.encode()) for seq, body, digest in batch]
    return check_chain(batches())


def _check_chain(length: int, workers: int) -> ChainReport:
    """Every event 1..length: the runs read in parallel, in storage order, must join into one chain."""
    runs = _runs(length, workers)
    return (runs is not None and chain_from_runs(runs, length)) or _first_break()


VERIFIED = "evidence.verified"  # each verification's own event: the head it saw, and what it found


def _check_against_last_verification(report: ChainReport) -> ChainReport:
    """A chain cut or rewritten at its end still links; the last *intact* verification says otherwise.

    A failed run never becomes the baseline, so running verify again cannot make a cut chain pass.
    And the baseline itself is kept honest: every verification is also an event in the chain, so the
    record of verifications cannot lose its latest intact run without the chain saying so."""
    if not report.ok:
        return report
    logged = _last_logged_intact_verification(report.length)
    if logged is not None:
        seq, payload = logged
        row = db.session.get(EvidenceVerification, payload["verification_id"])
        if row is None or (row.is_intact, row.chain_length, row.head_hash) != (
                True, payload["chain_length"], payload["head_hash"]):
            return ChainReport(report.length, report.head_hash, seq,
                               f"the verification record lacks the intact verification logged at event {seq} "
                               f"(id {payload['verification_id']}, {payload['chain_length']} events): it was "
                               f"removed or rewritten")
    previous = last_intact_verification()
    if previous is None or previous.chain_length == 0:
        return report
    when = format_instant(previous.verified_at)
    if report.length < previous.chain_length:
        return ChainReport(report.length, report.head_hash, report.length + 1,
                           f"event {report.length + 1} is missing: the verification of {when} "
                           f"saw {previous.chain_length} events")
    stored = db.session.scalar(select(EvidenceEvent.hash).where(EvidenceEvent.seq == previous.chain_length))
    if stored != previous.head_hash:
        return ChainReport(report.length, report.head_hash, previous.chain_length,
                           f"hash {stored} differs from the one verified at {when} ({previous.head_hash})")
    return report


def _last_logged_intact_verification(length: int) -> tuple[int, dict] | None:
    """(seq, payload) of the latest intact verification the chain itself records, within its first `length`
    events (which have just verified)."""
    rows = db.session.execute(select(EvidenceEvent.seq, EvidenceEvent.body).where(
        body_field("kind") == VERIFIED, EvidenceEvent.seq <= length).order_by(EvidenceEvent.seq.desc()).limit(100))
    for seq, body in rows:
        payload = json.loads(body)["payload"]
        if payload.get("is_intact"):
            return seq, payload
    return None


def verify_chain(save: bool = True, workers: int | None = None) -> ChainReport:
    """Recompute the whole chain (in parallel for long chains); record the outcome for HR, in the
    verification record and, as an event, in the chain itself."""
    started = time.perf_counter()
    length, _head = chain_head()
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if length >= PARALLEL_FROM else 1
    report = _check_against_last_verification(_check_chain(length, workers))
    if save:
        verification = EvidenceVerification(
            verified_at=clock.now(), chain_length=report.length, head_hash=report.head_hash,
            is_intact=report.ok, broken_seq=report.broken_seq, problem=report.problem,
            seconds=time.perf_counter() - started)
        db.session.add(verification)
        db.session.flush()
        record(VERIFIED, subject_of("evidence", "chain"), {
            "verification_id": verification.id, "chain_length": report.length, "head_hash": report.head_hash,
            "is_intact": report.ok, "broken_seq": report.broken_seq})
        db.session.commit()
    return report


HEAD_LINE = re.compile(r"lms-evidence-head seq=(?P<seq>\d+) hash=(?P<hash>[0-9a-f]{64}) at=(?P<at>\S+)")


def head_line() -> str:
    """The chain's head as one line to keep outside the database (printed, e-mailed to a lawyer, published)."""
    head = db.session.scalars(select(EvidenceEvent).order_by(EvidenceEvent.seq.desc()).limit(1)).first()
    if head is None:
        return f"lms-evidence-head seq=0 hash={GENESIS} at=-"
    return f"lms-evidence-head seq={head.seq} hash={head.hash} at={head.data['occurred_at']}"


def check_head_line(line: str) -> str | None:
    """None when the chain still holds the event a head line names; else what is wrong."""
    found = HEAD_LINE.search(line.strip())
    if found is None:
        return "not a head line (expected: lms-evidence-head seq=N hash=<64 hex> at=<instant>)"
    seq = int(found["seq"])
    stored = db.session.scalar(select(EvidenceEvent.hash).where(EvidenceEvent.seq == seq))
    if seq == 0:
        return None
    if stored is None:
        return f"event {seq} named by the head line is missing"
    if stored != found["hash"]:
        return f"event {seq} has hash {stored}, the head line says {found['hash']}"
    return None


def chain_head() -> tuple[int, str]:
    """(length, head hash) of the chain as stored now."""
    head = db.session.execute(_CHAIN_HEAD).first()
    return (head.seq, head.hash) if head else (0, GENESIS)


def latest_verification() -> EvidenceVerification | None:
    return db.session.scalars(select(EvidenceVerification).order_by(EvidenceVerification.id.desc()).limit(1)).first()


def last_intact_verification() -> EvidenceVerification | None:
    """The baseline of the next verification: the latest run that found the chain intact."""
    return db.session.scalars(select(EvidenceVerification).where(EvidenceVerification.is_intact.is_(True))
                              .order_by(EvidenceVerification.id.desc()).limit(1)).first()


def count_events(subject: str | None = None) -> int:
    query = select(func.count(EvidenceEvent.seq))
    if subject:
        query = query.where(body_field("subject") == subject)
    return db.session.scalar(query)

