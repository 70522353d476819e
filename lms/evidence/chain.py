"""The canonical form of an event, its hash, and the chain check — pure functions.

An event's hash is SHA-256 over the canonical JSON (sorted keys, UTF-8, no insignificant
whitespace) of {seq, occurred_at, actor, subject, kind, payload, prev_hash}. That text is
stored as the event's `body`, so what was hashed is kept byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

GENESIS = "0" * 64
# Kinds, subjects and actors are plain identifiers, so they appear verbatim in the body.
IDENTIFIER = re.compile(r"[a-z0-9][a-z0-9_.:-]{0,99}")


def _plain(value):
    if isinstance(value, datetime):
        return format_instant(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"{type(value).__name__} is not allowed in an evidence payload")


def format_instant(moment: datetime) -> str:
    """UTC with microseconds and a Z: one spelling per instant."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical_text(fields: dict) -> str:
    return json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=_plain)


def event_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def build_body(seq: int, occurred_at: datetime, actor: str, subject: str, kind: str, payload: dict,
               prev_hash: str) -> str:
    """The canonical text of a new event."""
    for name, value in (("actor", actor), ("subject", subject), ("kind", kind)):
        if not IDENTIFIER.fullmatch(value):
            raise ValueError(f"evidence {name} {value!r} must match {IDENTIFIER.pattern}")
    return canonical_text({"seq": seq, "occurred_at": occurred_at, "actor": actor, "subject": subject,
                           "kind": kind, "payload": payload, "prev_hash": prev_hash})


@dataclass(frozen=True)
class ChainReport:
    length: int
    head_hash: str
    broken_seq: int | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_seq is None


# The body's top-level keys are sorted, so it ends `…,"prev_hash":"<64 hex>","seq":<n>,"subject":"<id>"}`.
# Subjects are identifiers (no quotes), so the last `","seq":` closes the top-level prev_hash.
_AFTER_PREV_HASH = b'","seq":'


def check_chain(batches: Iterable[Sequence[tuple[int, bytes, bytes]]], start_seq: int = 1,
                start_prev: str = GENESIS) -> ChainReport:
    """Walk batches of (seq, body as UTF-8 bytes, stored hash as ASCII bytes) rows in seq order.

    Each body must hash to its stored hash and carry the previous event's hash as its
    prev_hash; seq must run without gaps. Stops at the first broken link, saying what differs.
    """
    expected_seq, expected_prev = start_seq, start_prev.encode()
    sha256 = hashlib.sha256
    for batch in batches:
        for seq, body, stored_hash in batch:
            at = body.rfind(_AFTER_PREV_HASH)
            if (seq != expected_seq or body[at - 64:at] != expected_prev
                    or sha256(body).hexdigest().encode() != stored_hash):
                return _explain(seq, body, stored_hash, expected_seq, expected_prev, start_seq)
            expected_seq, expected_prev = seq + 1, stored_hash
    return ChainReport(expected_seq - start_seq, expected_prev.decode())


@dataclass(frozen=True)
class Run:
    """Events read one after the other, each linked to the one read before it."""

    first_seq: int
    first_body: bytes
    last_seq: int
    last_hash: bytes


def _link_breaks_in_python(rows: Sequence[tuple[int, bytes, bytes]], last_seq: int,
                           last_hash: bytes) -> list[int] | None:
    """Indices of the rows that do not link to the row before them (the first row to
    (last_seq, last_hash)); None as soon as a body does not hash to its stored hash.

    The reference implementation of `link_breaks`; lms/evidence/_chainscan.c does the same in C.
    """
    breaks = []
    sha256 = hashlib.sha256
    for index, (seq, body, stored_hash) in enumerate(rows):
        if sha256(body).hexdigest().encode() != stored_hash:
            return None
        at = body.rfind(_AFTER_PREV_HASH)
        if seq != last_seq + 1 or at < 64 or body[at - 64:at] != last_hash:
            breaks.append(index)
        last_seq, last_hash = seq, stored_hash
    return breaks


try:  # the C build of the same loop (setup.py builds it where a compiler and OpenSSL's headers are)
    from lms.evidence._chainscan import link_breaks
except ImportError:  # pragma: no cover - depends on the build
    link_breaks = _link_breaks_in_python


def linked_runs(batches: Iterable[Sequence[tuple[int, bytes, bytes]]]) -> list[Run] | None:
    """Cut (seq, body, stored hash) rows, in whatever order they are read, into linked runs.

    The fast half of verification: rows read in storage order (not sorted by seq) come
    out as one run per reader when storage order is seq order, as it is for an append-only
    table, and as more runs where it is not. None as soon as a body does not hash to its
    stored hash; `chain_from_runs` then decides whether the runs make one chain.
    """
    runs: list[Run] = []
    first_seq, first_body, last_seq, last_hash = 0, b"", -1, b""
    for batch in batches:
        breaks = link_breaks(batch, last_seq, last_hash)
        if breaks is None:
            return None
        for index in breaks:
            if first_body:
                end_seq, end_hash = (batch[index - 1][0], batch[index - 1][2]) if index else (last_seq, last_hash)
                runs.append(Run(first_seq, first_body, end_seq, end_hash))
            first_seq, first_body = batch[index][0], batch[index][1]
        if batch:
            last_seq, last_hash = batch[-1][0], batch[-1][2]
    if first_body:
        runs.append(Run(first_seq, first_body, last_seq, last_hash))
    return runs


def chain_from_runs(runs: Iterable[Run], length: int) -> ChainReport | None:
    """The report for an intact chain of events 1..length if the runs join into exactly that, else None."""
    expected_seq, expected_prev = 1, GENESIS.encode()
    for run in sorted(runs, key=lambda run: run.first_seq):
        at = run.first_body.rfind(_AFTER_PREV_HASH)
        if run.first_seq != expected_seq or run.first_body[at - 64:at] != expected_prev:
            return None
        expected_seq, expected_prev = run.last_seq + 1, run.last_hash
    if expected_seq != length + 1:
        return None
    return ChainReport(length, expected_prev.decode())


def _explain(seq: int, body: bytes, stored_hash: bytes, expected_seq: int, expected_prev: bytes,
             start_seq: int) -> ChainReport:
    """The report for the first broken link, in words (the slow path: runs once)."""
    good, head = expected_seq - start_seq, expected_prev.decode()
    if seq != expected_seq:
        return ChainReport(good, head, expected_seq, f"event {expected_seq} is missing (next stored event is {seq})")
    computed = hashlib.sha256(body).hexdigest()
    if computed != stored_hash.decode():
        return ChainReport(good, head, seq, f"content changed: stored hash {stored_hash.decode()}, "
                                            f"recomputed {computed}")
    try:
        fields = json.loads(body)
    except ValueError:
        return ChainReport(good, head, seq, "the stored body is not JSON")
    if fields.get("seq") != seq:
        return ChainReport(good, head, seq, f"the body says seq {fields.get('seq')}, stored as {seq}")
    return ChainReport(good, head, seq, f"prev_hash {fields.get('prev_hash')} does not match the previous "
                                        f"event's hash {head}")
