"""Column types shared by every domain."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Date, DateTime, bindparam, literal_column
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

from lms import clock


class UTCDateTime(TypeDecorator):
    """Stores UTC without a zone (same bytes on SQLite and PostgreSQL), returns aware UTC."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; use lms.clock")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect):
        return None if value is None else value.replace(tzinfo=UTC)


class _LocalDay(FunctionElement):
    type = Date()
    inherit_cache = True
    name = "lms_local_day"


def local_day(column, days: int = 0):
    """The company-local date of a UTC timestamp column plus `days` days, in SQL (to compare with a Date
    column): the time zone is a bound value, so a cached statement never keeps an old one."""
    return _LocalDay(column, bindparam("zone", clock.zone().key, unique=True), literal_column(str(int(days))))


@compiles(_LocalDay, "postgresql")
def _local_day_postgresql(element, compiler, **kw):
    column, zone, days = (compiler.process(c, **kw) for c in element.clauses)
    return f"(CAST(timezone({zone}, timezone('UTC', {column})) AS DATE) + {days})"


@compiles(_LocalDay)
def _local_day_sqlite(element, compiler, **kw):
    return f"lms_local_day({compiler.process(element.clause_expr.element, **kw)})"


def sqlite_local_day(stored: str | None, zone: str, days: int) -> str | None:
    """lms_local_day for SQLite, which knows no time zones: the same sum in Python, as ISO text, which is
    how SQLite keeps Date columns."""
    if stored is None:
        return None
    moment = datetime.fromisoformat(stored).replace(tzinfo=UTC).astimezone(ZoneInfo(zone))
    return (moment.date() + timedelta(days=days)).isoformat()
