"""Statements over many values that fit each database's limits: IN conditions, bulk inserts."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

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


def insert_ignoring_conflicts(table, rows: list[dict], returning: list, **conflict) -> list:
    """INSERT … ON CONFLICT DO NOTHING RETURNING for many rows (all with the same keys).

    On PostgreSQL one statement binds one array per column and inserts from unnest(): parsing
    and binding thousands of VALUES tuples costs several times more than inserting the rows.
    Elsewhere an executemany, which SQLAlchemy sends as multi-row VALUES compiled once.
    """
    if not rows:
        return []
    if db.engine.dialect.name != "postgresql":
        return db.session.execute(sqlite_insert(table).on_conflict_do_nothing(**conflict).returning(*returning),
                                  rows).all()
    names = list(rows[0])
    arrays = [bindparam(f"rows_{name}", [row[name] for row in rows], type_=ARRAY(table.c[name].type))
              for name in names]
    source = func.unnest(*arrays).table_valued(*names).render_derived()
    statement = pg_insert(table).from_select(names, select(*(source.c[name] for name in names)))
    return db.session.execute(statement.on_conflict_do_nothing(**conflict).returning(*returning)).all()
