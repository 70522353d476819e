"""Conditions over many values that fit each database's limits on one statement."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import any_, bindparam
from sqlalchemy.dialects.postgresql import ARRAY

from lms.extensions import db


def chunks(values: list, size: int = 5_000) -> Iterable[list]:
    """Slices small enough for one statement's bound parameters (SQLite allows 32,766)."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


def among(column, values: list) -> Iterable:
    """Conditions `column IN values`, one statement each: on PostgreSQL a single array parameter
    (`= ANY`), elsewhere IN over slices that fit the bound-parameter limit."""
    if db.engine.dialect.name == "postgresql":
        yield column == any_(bindparam("values", values, type_=ARRAY(column.type), unique=True))
        return
    for chunk in chunks(values):
        yield column.in_(chunk)
