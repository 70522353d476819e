"""Each case fact read once while a page that only reads renders (the case page's sections)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar

# The case page's sections (service, union, termination) each ask for the same facts — the notice's service
# state five times over. While a page that only reads renders (`with reading():`), each is read once; outside
# it, where services write between reads, every call reads afresh.
_reads: ContextVar[dict | None] = ContextVar("absence_reads", default=None)


@contextlib.contextmanager
def reading() -> Iterator[None]:
    """Read each case fact once inside this block (a page that only reads)."""
    token = _reads.set({})
    try:
        yield
    finally:
        _reads.reset(token)


def read_once(key: tuple, read: Callable):
    """`read()`; inside `reading()`, what it returned for `key` the first time."""
    memo = _reads.get()
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    return memo[key]
