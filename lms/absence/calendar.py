"""Is a date a working day in mainland China? "Yes", "no", or an explicit "unknown".

The answer comes, in this order, from a database override for that date, the
`chinesecalendar` package (2004–2026, with 调休 make-up days), or a year HR entered from the
State Council notice (its other dates follow Monday–Friday). A date none of these covers is
"unknown": HR sees a warning and it is never counted as 旷工 — never a crash, never a guess.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import chinese_calendar
from flask_babel import lazy_gettext as _l
from sqlalchemy import null, select, union_all

from lms import clock, evidence
from lms.absence.models import CalendarOverride, CalendarYear
from lms.extensions import db

WORKDAY, REST, UNKNOWN = "workday", "rest", "unknown"


@dataclass(frozen=True)
class DayInfo:
    day: date
    kind: str  # workday | rest | unknown
    source: str | None  # override | chinesecalendar | entered_year | None
    name: str | None = None

    @property
    def is_workday(self) -> bool:
        return self.kind == WORKDAY


# The package names its holidays in English; people read them in their language.
HOLIDAY_LABELS = {
    "New Year's Day": _l("New Year's Day"), "Spring Festival": _l("Spring Festival"),
    "Tomb-sweeping Day": _l("Tomb-sweeping Day"), "Labour Day": _l("Labour Day"),
    "Dragon Boat Festival": _l("Dragon Boat Festival"), "National Day": _l("National Day"),
    "Mid-autumn Festival": _l("Mid-autumn Festival"), "Anti-Fascist 70th Day": _l("Anti-Fascist 70th Day"),
}


def day_name(info: DayInfo) -> str:
    """The name of a special day in words of the reader's language (HR's own names as entered)."""
    if info.name and info.source == "chinesecalendar":
        return str(HOLIDAY_LABELS.get(info.name, info.name))
    return info.name or ""


@lru_cache(maxsize=4096)  # the package's data is fixed for the process; its lookups are slow
def _from_package(day: date) -> DayInfo | None:
    try:
        is_workday = chinese_calendar.is_workday(day)
        _on_holiday, name = chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:  # the package covers 2004–2026 only
        return None
    return DayInfo(day, WORKDAY if is_workday else REST, "chinesecalendar", name)


def classify(days: Iterable[date]) -> dict[date, DayInfo]:
    """What each date is; one query however many dates."""
    days = sorted(set(days))
    if not days:
        return {}
    # The overrides in the range and the entered years it touches, in one round trip: an override row
    # has a day, a year row only its year.
    rows = db.session.execute(union_all(
        select(CalendarOverride.day, CalendarOverride.is_workday, CalendarOverride.name,
               null().label("year")).where(CalendarOverride.day.between(days[0], days[-1])),
        select(null(), null(), null(), CalendarYear.year).where(
            CalendarYear.year.between(days[0].year, days[-1].year))))
    overrides, years = {}, set()
    for override in rows:
        if override.day is None:
            years.add(override.year)
        else:
            overrides[override.day] = override
    result = {}
    for day in days:
        override = overrides.get(day)
        if override is not None:
            result[day] = DayInfo(day, WORKDAY if override.is_workday else REST, "override", override.name)
            continue
        known = _from_package(day)
        if known is None and day.year in years:
            known = DayInfo(day, WORKDAY if day.weekday() < 5 else REST, "entered_year")
        result[day] = known or DayInfo(day, UNKNOWN, None)
    return result


def day_info(day: date) -> DayInfo:
    return classify([day])[day]


def working_days(start: date, end: date) -> list[date]:
    """The known working days from start to end, inclusive (unknown days are not among them)."""
    span = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    return [day for day, info in classify(span).items() if info.is_workday]


def unknown_days(start: date, end: date) -> list[date]:
    span = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    return [day for day, info in classify(span).items() if info.kind == UNKNOWN]


def set_override(day: date, is_workday: bool, name: str, actor) -> None:
    """HR declares one date a working day or a rest day."""
    actor_ref = evidence.actor_of(actor)  # before the new row exists: reading the actor may query
    existing = db.session.get(CalendarOverride, day) or CalendarOverride(day=day)
    existing.is_workday, existing.name = is_workday, name.strip()[:80]
    existing.set_by, existing.set_at = actor_ref, clock.now()
    db.session.add(existing)
    evidence.record("absence.calendar_override", f"calendar:{day.year}",
                    {"day": day, "workday": is_workday, "name": existing.name}, actor=actor)
    db.session.commit()


_LINE = re.compile(r"^(?P<start>\d{4}-\d{2}-\d{2})(?:\s*(?:\.\.|~|至)\s*(?P<end>\d{4}-\d{2}-\d{2}))?"
                   r"\s+(?P<kind>休|班|rest|work)\s*(?P<name>.*)$")


class YearError(Exception):
    def __init__(self, problems: list[tuple[int, str]]):
        super().__init__("; ".join(f"line {n}: {p}" for n, p in problems))
        self.problems = problems


def enter_year(year: int, notice: str, source: str, actor) -> int:
    """Enter a whole year from the State Council notice, all lines or none.

    Each line is `YYYY-MM-DD[..YYYY-MM-DD] 休 name` for holidays or `YYYY-MM-DD 班 name` for
    make-up working days (English `rest` / `work` also work). Other dates of the year then follow
    Monday–Friday. Returns how many dates were set.
    """
    problems: list[tuple[int, str]] = []
    entries: list[tuple[date, bool, str]] = []
    for number, raw in enumerate(notice.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = _LINE.match(line)
        if not match:
            problems.append((number, _l("expected “YYYY-MM-DD[..YYYY-MM-DD] 休|班 name”")))
            continue
        try:
            start = date.fromisoformat(match["start"])
            end = date.fromisoformat(match["end"]) if match["end"] else start
        except ValueError:
            problems.append((number, _l("not a real date")))
            continue
        if start.year != year or end.year != year or end < start or (end - start).days > 31:
            problems.append((number, _l("dates must lie in %(year)s, in order, at most a month apart", year=year)))
            continue
        is_workday = match["kind"] in ("班", "work")
        for offset in range((end - start).days + 1):
            entries.append((start + timedelta(days=offset), is_workday, match["name"].strip() or "—"))
    if not entries and not problems:
        problems.append((1, _l("the notice has no dates")))
    if not source.strip():
        problems.append((0, _l("name the notice the dates come from")))
    if problems:
        raise YearError(problems)
    actor_ref = evidence.actor_of(actor)
    now = clock.now()
    for day, is_workday, name in entries:
        existing = db.session.get(CalendarOverride, day) or CalendarOverride(day=day)
        existing.is_workday, existing.name, existing.set_by, existing.set_at = is_workday, name[:80], actor_ref, now
        db.session.add(existing)
    entered = db.session.get(CalendarYear, year) or CalendarYear(year=year)
    entered.source, entered.entered_by, entered.entered_at = source.strip()[:200], actor_ref, now
    db.session.add(entered)
    evidence.record("absence.calendar_year_entered", f"calendar:{year}", {
        "year": year, "source": entered.source,
        "dates": [{"day": d, "workday": w, "name": n} for d, w, n in entries]}, actor=actor)
    db.session.commit()
    return len(entries)
