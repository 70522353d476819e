"""Evidence events, the append lock, and the record of verification runs."""

from __future__ import annotations

import json
from datetime import datetime
from functools import cached_property

from sqlalchemy import BigInteger, Integer, String, Text
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.expression import ColumnClause, FunctionElement
from sqlalchemy.types import String as StringType

from lms.extensions import db
from lms.sqltypes import UTCDateTime


class EvidenceEvent(db.Model):
    """One fact, chained to the one before it. Rows are never updated or deleted.

    The row is the canonical JSON that was hashed (`body`) and its hash; nothing else is
    stored, so there is no second copy of a fact that could disagree with the hashed one.
    Lookups by subject or kind use expression indexes over the body itself.
    """

    # On SQLite an INTEGER primary key is the rowid itself, so reading in seq order is a plain scan.
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                     autoincrement=False)
    body: Mapped[str] = mapped_column(Text)
    hash: Mapped[str] = mapped_column(String(64), unique=True)

    @cached_property
    def data(self) -> dict:
        return json.loads(self.body)

    @property
    def kind(self) -> str:
        return self.data["kind"]

    @property
    def subject(self) -> str:
        return self.data["subject"]

    @property
    def actor(self) -> str:
        return self.data["actor"]

    @property
    def payload(self) -> dict:
        return self.data["payload"]

    @property
    def prev_hash(self) -> str:
        return self.data["prev_hash"]

    @property
    def occurred_at(self) -> datetime:
        return datetime.fromisoformat(self.data["occurred_at"])


class body_field(FunctionElement):
    """A top-level string field of the event body, in SQL (matches the expression indexes)."""

    type = StringType()
    inherit_cache = True

    def __init__(self, name: str):
        if name not in ("kind", "subject", "actor", "occurred_at"):
            raise ValueError(name)
        self.field_name = name
        super().__init__(ColumnClause("body"))


@compiles(body_field, "sqlite")
def _body_field_sqlite(element, compiler, **kw):
    return f"json_extract(body, '$.{element.field_name}')"


@compiles(body_field, "postgresql")
def _body_field_postgresql(element, compiler, **kw):
    return f"((body::jsonb) ->> '{element.field_name}')"


class EvidenceAppendLock(db.Model):
    """A single row every append updates first: it serialises appenders on SQLite and
    PostgreSQL alike, so two writers never read the same chain head."""

    id: Mapped[int] = mapped_column(primary_key=True)
    appends: Mapped[int] = mapped_column(default=0)


class EvidenceVerification(db.Model):
    """The outcome of one full recomputation of the chain."""

    id: Mapped[int] = mapped_column(primary_key=True)
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime)
    chain_length: Mapped[int]
    head_hash: Mapped[str] = mapped_column(String(64))
    is_intact: Mapped[bool]
    broken_seq: Mapped[int | None]
    problem: Mapped[str | None] = mapped_column(Text)
    seconds: Mapped[float]
