"""Appending to the evidence log and verifying it."""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Iterable, Iterator

from sqlalchemy import create_engine, event, func, insert, select, update
from sqlalchemy.orm import Session

from lms import clock
from lms.evidence.chain import GENESIS, ChainReport, build_body, check_chain, event_hash, format_instant
from lms.evidence.models import EvidenceAppendLock, EvidenceEvent, EvidenceVerification, body_field
from lms.extensions import db

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
    from lms.people.models import ApiToken, User

    if isinstance(actor, User):
        return f"user:{actor.id}"
    if isinstance(actor, ApiToken):
        return f"api-token:{actor.id}"
    raise TypeError(f"unknown actor {actor!r}")


# session.info key: the head (seq, hash) as this transaction left it, while it holds the append lock.
_HEAD = "evidence_head"


@event.listens_for(Session, "after_transaction_end")
def _forget_head(session, _transaction) -> None:
    # Commit or rollback releases the lock: the next append must lock and read the head again.
    session.info.pop(_HEAD, None)


def _lock_and_read_head() -> tuple[int, str]:
    # Updating the lock row first makes concurrent appenders queue here until we commit,
    # so the head we read is still the head when we insert. A transaction that already holds
    # the lock knows the head: it wrote it (several events per request are common).
    known = db.session.info.get(_HEAD)
    if known is not None and db.session().in_transaction():
        return known
    db.session.execute(update(EvidenceAppendLock).where(EvidenceAppendLock.id == LOCK_ROW)
                       .values(appends=EvidenceAppendLock.appends + 1))
    return chain_head()


def record(kind: str, subject: str, payload: dict, actor=None) -> EvidenceEvent:
    """Append one event in the caller's transaction (committed with it, or not at all)."""
    head_seq, prev_hash = _lock_and_read_head()
    body = build_body(head_seq + 1, clock.now(), actor_of(actor), subject, kind, payload, prev_hash)
    appended = EvidenceEvent(seq=head_seq + 1, body=body, hash=event_hash(body))
    db.session.add(appended)
    db.session.flush()
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


# SQLite hands blobs over fastest; psycopg hands over text fastest (bytea would be hex-decoded).
_SCAN_SQL = {
    "sqlite": "SELECT seq, CAST(body AS BLOB), CAST(hash AS BLOB) FROM evidence_event "
              "WHERE seq >= ? AND seq < ? ORDER BY seq",
    "postgresql": "SELECT seq, body, hash FROM evidence_event WHERE seq >= %s AND seq < %s ORDER BY seq",
}
PARALLEL_FROM = 100_000  # below this, starting processes costs more than it saves
_END = 2**62


def _batches(engine, start: int, end: int) -> Iterator[list[tuple]]:
    """Batches of (seq, body, hash) as bytes, seq in [start, end); server-side cursor on PostgreSQL."""
    raw = engine.raw_connection()
    try:
        postgres = engine.dialect.name == "postgresql"
        cursor = raw.driver_connection.cursor(name="evidence_scan") if postgres else raw.cursor()
        cursor.execute(_SCAN_SQL[engine.dialect.name], (start, end))
        while batch := cursor.fetchmany(BATCH):
            yield [(seq, body.encode(), digest.encode()) for seq, body, digest in batch] if postgres else batch
        cursor.close()
    finally:
        raw.close()


def _check_slice(engine, start: int, end: int) -> ChainReport:
    """check_chain over seq in [start, end); a later slice starts from the stored hash before it."""
    if start == 1:
        return check_chain(_batches(engine, 1, end))
    with engine.connect() as conn:
        before = conn.execute(select(EvidenceEvent.hash).where(EvidenceEvent.seq == start - 1)).scalar()
    if before is None:
        return ChainReport(0, GENESIS, start - 1, f"event {start - 1} is missing")
    return check_chain(_batches(engine, start, end), start, before)


def _check_slice_in_worker(url: str, start: int, end: int) -> ChainReport:
    engine = create_engine(url)
    try:
        return _check_slice(engine, start, end)
    finally:
        engine.dispose()


def _check_chain(length: int, workers: int) -> ChainReport:
    """The whole chain, split into `workers` slices checked by as many processes."""
    if workers <= 1 or length < 2:
        return _check_slice(db.engine, 1, _END)
    url = db.engine.url.render_as_string(hide_password=False)
    size = -(-length // workers)
    starts = list(range(1, length + 1, size))
    ends = [*starts[1:], _END]
    with multiprocessing.get_context("fork").Pool(len(starts)) as pool:
        reports = pool.starmap(_check_slice_in_worker, [(url, s, e) for s, e in zip(starts, ends, strict=True)])
    total, head = 0, GENESIS
    for start, end, report in zip(starts, ends, reports, strict=True):
        if not report.ok:
            return ChainReport(total + report.length, report.head_hash, report.broken_seq, report.problem)
        if end != _END and report.length != end - start:  # events missing at the end of a slice
            return ChainReport(total + report.length, report.head_hash, start + report.length,
                               f"event {start + report.length} is missing")
        total, head = total + report.length, report.head_hash
    return ChainReport(total, head)


def _check_against_last_verification(report: ChainReport) -> ChainReport:
    """A chain cut or rewritten at its end still links; the last verified head says otherwise."""
    previous = latest_verification()
    if not report.ok or previous is None or not previous.is_intact or previous.chain_length == 0:
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


def verify_chain(save: bool = True, workers: int | None = None) -> ChainReport:
    """Recompute the whole chain (in parallel for long chains); record the outcome for HR."""
    started = time.perf_counter()
    length, _head = chain_head()
    if workers is None:
        workers = min(os.cpu_count() or 1, 4) if length >= PARALLEL_FROM else 1
    report = _check_against_last_verification(_check_chain(length, workers))
    if save:
        db.session.add(EvidenceVerification(
            verified_at=clock.now(), chain_length=report.length, head_hash=report.head_hash,
            is_intact=report.ok, broken_seq=report.broken_seq, problem=report.problem,
            seconds=time.perf_counter() - started))
        db.session.commit()
    return report


def chain_head() -> tuple[int, str]:
    """(length, head hash) of the chain as stored now."""
    head = db.session.execute(
        select(EvidenceEvent.seq, EvidenceEvent.hash).order_by(EvidenceEvent.seq.desc()).limit(1)
    ).first()
    return (head.seq, head.hash) if head else (0, GENESIS)


def latest_verification() -> EvidenceVerification | None:
    return db.session.scalars(select(EvidenceVerification).order_by(EvidenceVerification.id.desc()).limit(1)).first()


def count_events(subject: str | None = None) -> int:
    query = select(func.count(EvidenceEvent.seq))
    if subject:
        query = query.where(body_field("subject") == subject)
    return db.session.scalar(query)

