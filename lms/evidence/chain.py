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


def check_chain(batches: Iterable[Sequence[tuple[int, bytes, bytes]]], start_seq: int = 1,
                start_prev: str = GENESIS) -> ChainReport:
    """Walk batches of (seq, body as UTF-8 bytes, stored hash as ASCII bytes) rows in seq order.

    Each body must hash to its stored hash and carry the previous event's hash (its
    prev_hash); seq must run without gaps. Stops at the first broken link, saying what differs.

    Finding the previous hash anywhere in the body is enough: a forged event gets a new
    hash, which the untouched next body cannot contain (that would need a SHA-256 preimage).
    """
    expected_seq, expected_prev = start_seq, start_prev.encode()
    sha256 = hashlib.sha256
    for batch in batches:
        for seq, body, stored_hash in batch:
            if (seq != expected_seq or expected_prev not in body
                    or sha256(body).hexdigest().encode() != stored_hash):
                return _explain(seq, body, stored_hash, expected_seq, expected_prev, start_seq)
            expected_seq, expected_prev = seq + 1, stored_hash
    return ChainReport(expected_seq - start_seq, expected_prev.decode())


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
