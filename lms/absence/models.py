"""The calendar's database side: per-date overrides and whole years entered by HR."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from lms.extensions import db
from lms.sqltypes import UTCDateTime


class CalendarOverride(db.Model):
    """One date declared a working day or a rest day (a 调休 day, a company holiday, a correction)."""

    day: Mapped[date] = mapped_column(primary_key=True)
    is_workday: Mapped[bool]
    name: Mapped[str] = mapped_column(String(80))
    set_by: Mapped[str] = mapped_column(String(100))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CalendarYear(db.Model):
    """A year HR entered from the State Council notice: its other dates follow Monday–Friday."""

    year: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(200))  # e.g. 国办发明电〔2026〕X号
    entered_by: Mapped[str] = mapped_column(String(100))
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
