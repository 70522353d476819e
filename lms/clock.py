"""The one source of time.

Domain code calls `now()` (an aware UTC datetime) and `today()` (the date in the company's
time zone). Tests, `flask tick --at` and the demo move the clock with `set_now()` /
`frozen()`; production leaves it on the wall clock.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime, tzinfo
from zoneinfo import ZoneInfo

_state = threading.local()
_DEFAULT_ZONE = "Asia/Shanghai"


def now() -> datetime:
    """The current instant as an aware UTC datetime (the set one, if any)."""
    fixed = getattr(_state, "fixed", None)
    if fixed is not None:
        return fixed
    return datetime.now(UTC)


def set_now(moment: datetime | None) -> None:
    """Pin the clock at `moment` (aware; naive means company-local time), or release it."""
    _state.fixed = None if moment is None else as_utc(moment)


@contextlib.contextmanager
def frozen(moment: datetime) -> Iterator[None]:
    """Run a block with the clock pinned at `moment`."""
    previous = getattr(_state, "fixed", None)
    set_now(moment)
    try:
        yield
    finally:
        _state.fixed = previous


def zone() -> tzinfo:
    """The company's time zone (LMS_TIMEZONE)."""
    try:
        from flask import current_app

        name = current_app.config.get("LMS_TIMEZONE", _DEFAULT_ZONE)
    except RuntimeError:
        name = _DEFAULT_ZONE
    return ZoneInfo(name)


def as_utc(moment: datetime) -> datetime:
    """An aware UTC datetime; a naive one is taken as company-local time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone())
    return moment.astimezone(UTC)


def local(moment: datetime) -> datetime:
    """`moment` in the company's time zone (naive values from the database are UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone())


def today() -> date:
    """Today's date in the company's time zone."""
    return local(now()).date()
