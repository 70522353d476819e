"""Clock-in punches from time-clock exports (a generic layout, DingTalk's 原始记录) and API batches.

Every row is checked before anything is written: one bad row rejects the whole batch, with
every problem listed. The same punch twice (same employee, same instant) is stored once, so
importing a file again adds nothing. A punch's work day is the shift day it belongs to
(`schedules.Shift.shift_day`): the local date, except that a punch after midnight and before the
cut-off of the employee's shift (01:30 for 09:00–18:00) ends the previous day's shift and
proves presence on that day only. A DingTalk row marked 次日 is the punch of its 考勤日期.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lms import clock, evidence
from lms.absence import reconcile, schedules
from lms.absence.models import Punch
from lms.bulk import among
from lms.extensions import db
from lms.inputs import within_date_range
from lms.people.models import Employee
from lms.people.records import MESSAGES as RECORD_MESSAGES
from lms.people.records import FieldError, InvalidRecords, cell_text, parse_date, read_rows

LAYOUTS = ("generic", "dingtalk")

# Field → the column headings accepted for it. Other columns are ignored: time clocks export many.
HEADINGS: dict[str, tuple[str, ...]] = {
    "employee_no": ("employee_no", "工号", "员工工号", "员工编号"),
    "punched_at": ("punched_at", "打卡时间"),
    "day": ("考勤日期",),  # DingTalk: the attendance date; 打卡时间 may then be a bare time
    "result": ("打卡结果",),  # DingTalk: 正常, 迟到, 缺卡, 未打卡 …
}
REQUIRED = {"generic": ("employee_no", "punched_at"), "dingtalk": ("employee_no", "day", "punched_at")}
HEADER_SEARCH_ROWS = 5  # DingTalk puts a title and the report period above the header
FUTURE_TOLERANCE = timedelta(minutes=5)  # a time clock's own clock may run a little fast
MAX_API_BATCH = 10_000  # punches in one API request; files are bounded by LMS_MAX_UPLOAD_MB instead

# A DingTalk row for a missed punch carries one of these results and no time: it is no punch.
NO_PUNCH_RESULTS = frozenset({"未打卡", "缺卡"})
_EMPTY_TIMES = frozenset({"", "-", "--", "—", "/"})
_WEEKDAY_SUFFIX = re.compile(r"\s*(星期|周)[一二三四五六日天]$")
_NEXT_DAY = "次日"  # DingTalk marks a punch after midnight of a night shift so
# Regular expressions, not strptime format after format: a month's export has 100,000 rows.
_DATE_PART = r"(\d{4}|\d{2})[-/.](\d{1,2})[-/.](\d{1,2})"  # 2026-06-15, 2026/6/15, 26-06-15 (DingTalk)
_TIME_PART = r"(\d{1,2}):(\d{2})(?::(\d{2}))?"
_DATETIME = re.compile(_DATE_PART + r"[ T]+" + _TIME_PART)
_DAY = re.compile(_DATE_PART)
_TIME = re.compile(_TIME_PART)

MESSAGES = {
    "required": RECORD_MESSAGES["required"],
    "missing_column": RECORD_MESSAGES["missing_column"],
    "day": RECORD_MESSAGES["date"],
    "no_header": _l("No header row naming 工号 (employee_no) and 打卡时间 (punched_at) in the first %(n)s rows."),
    "empty": _l("The file has no punch rows."),
    "unknown_employee": _l("No employee has number %(no)s."),
    "instant": _l("Not a date and time; use YYYY-MM-DD HH:MM[:SS] or ISO 8601 (e.g. 2026-06-15T09:01:00+08:00)."),
    "time": _l("Not a time; use HH:MM[:SS] or a full date and time."),
    "future": _l("This punch is in the future (now is %(now)s)."),
    "text": _l("Give this as text."),
}


@dataclass(frozen=True)
class PunchBatch:
    """Raw rows to check: (row number, {field: raw value}), and how to name fields in errors."""

    rows: list[tuple[int, dict]]
    layout: str = "generic"
    labels: dict[str, str] = field(default_factory=dict)  # field → the heading as written in the file


@dataclass(frozen=True)
class PunchReport:
    """What a batch did: new punches, duplicates ignored, rows without a punch, who and which days."""

    new: int
    duplicates: int
    skipped: int
    employee_ids: tuple[int, ...]  # employees with new punches
    employee_nos: tuple[str, ...]
    days: tuple[date, ...]  # work days with new punches
    layout: str


# ---------------------------------------------------------------- reading


def _heading_field(label: str) -> str | None:
    lowered = label.lower()
    return next((name for name, aliases in HEADINGS.items() if label in aliases or lowered in aliases), None)


def _find_header(rows: list[list[object]]) -> int | None:
    for index, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        found = {_heading_field(cell_text(cell)) for cell in row}
        if {"employee_no", "punched_at"} <= found:
            return index
    return None


def read_punch_file(filename: str, data: bytes, layout: str = "auto") -> PunchBatch:
    """The punch rows of a .csv or .xlsx export; the layout is detected from the headings unless given."""
    if layout not in ("auto", *LAYOUTS):
        raise ValueError(f"unknown layout {layout!r}")
    rows = read_rows(filename, data)
    header_index = _find_header(rows)
    if header_index is None:
        raise InvalidRecords([FieldError(0, "file", MESSAGES["no_header"] % {"n": HEADER_SEARCH_ROWS})])
    columns: dict[int, str] = {}
    labels: dict[str, str] = {}
    for index, cell in enumerate(rows[header_index]):
        label = cell_text(cell)
        name = _heading_field(label)
        if name is not None and name not in labels:  # the first of two same-named columns wins
            columns[index], labels[name] = name, label
    if layout == "auto":
        layout = "dingtalk" if "day" in labels else "generic"
    header_row = header_index + 1
    missing = [FieldError(header_row, next(h for h in HEADINGS[name] if not h.isascii()), MESSAGES["missing_column"])
               for name in REQUIRED[layout] if name not in labels]
    if missing:
        raise InvalidRecords(missing)
    records = []
    for number, row in enumerate(rows[header_index + 1:], start=header_row + 1):
        if all(cell_text(cell) == "" for cell in row):
            continue
        records.append((number, {name: row[i] if i < len(row) else None for i, name in columns.items()}))
    if not records:
        raise InvalidRecords([FieldError(0, "file", MESSAGES["empty"])])
    return PunchBatch(records, layout, labels)


# ---------------------------------------------------------------- parsing one row


def _whole_second(moment: datetime) -> datetime:
    # Spreadsheets store times as fractions of a day; 09:01:00 may come back as 09:00:59.999999.
    return (moment + timedelta(microseconds=500_000)).replace(microsecond=0)


def _year(digits: str) -> int:
    return int(digits) + 2000 if len(digits) == 2 else int(digits)


def parse_instant(value: object) -> datetime | None:
    """A punch instant as aware UTC from a cell or JSON value; naive times are company-local. None when it is
    none, or lies outside 1900–2100."""
    if isinstance(value, datetime):
        return clock.as_utc(_whole_second(value)) if within_date_range(value) else None
    if not isinstance(value, str):
        return None
    text = value.strip()
    match = _DATETIME.fullmatch(text)
    try:
        if match:
            year, month, day, hour, minute, second = match.groups()
            return parse_instant(datetime(_year(year), int(month), int(day), int(hour), int(minute),  # noqa: DTZ001
                                          int(second or 0)))  # naive means company-local; as_utc says so
        if ":" not in text and "T" not in text:  # a bare date would silently become a punch at midnight
            return None
        return parse_instant(datetime.fromisoformat(text.replace("Z", "+00:00")))
    except ValueError:
        return None


@lru_cache(maxsize=1024)
def _day_from_text(text: str) -> date | None:
    text = _WEEKDAY_SUFFIX.sub("", text)
    match = _DAY.fullmatch(text)
    if match is None:
        return parse_date(text)  # 2026年6月15日 and the other forms HR files use
    year, month, day = match.groups()
    try:
        return date(_year(year), int(month), int(day))
    except ValueError:
        return None


def _attendance_day(value: object) -> date | None:
    """DingTalk's 考勤日期: 2026-06-15, 2026/6/15 or 26-06-15 星期一 (a date cell in .xlsx)."""
    if isinstance(value, (date, datetime)):
        return parse_date(value)
    return _day_from_text(cell_text(value))


def _clock_time(text: str) -> time | None:
    match = _TIME.fullmatch(text)
    if match is None:
        return None
    hour, minute, second = match.groups()
    try:
        return time(int(hour), int(minute), int(second or 0))
    except ValueError:
        return None


def _dingtalk_instant(raw: Mapping[str, object], errors: dict[str, str]) -> tuple[datetime | None, date | None]:
    """The punch's instant, and its shift day when the row says it (次日: the 考勤日期's shift)."""
    value = raw.get("punched_at")
    if isinstance(value, datetime):
        return parse_instant(value), None
    day = _attendance_day(raw.get("day"))
    if day is None:
        errors["day"] = MESSAGES["required"] if cell_text(raw.get("day")) == "" else MESSAGES["day"]
    if isinstance(value, time):
        return (clock.as_utc(_whole_second(datetime.combine(day, value))) if day else None), None
    text = cell_text(value)
    next_day = text.startswith(_NEXT_DAY)
    text = text.removeprefix(_NEXT_DAY).strip()
    moment = _clock_time(text)
    if moment is None:
        full = parse_instant(text)
        if full is not None:
            return full, None
        errors["punched_at"] = MESSAGES["time"]
        return None, None
    if day is None:
        return None, None
    if next_day:  # the end of the 考勤日期's shift, after midnight: presence on that day, not the next
        return clock.as_utc(datetime.combine(day + timedelta(days=1), moment)), day
    return clock.as_utc(datetime.combine(day, moment)), None


def _is_no_punch(raw: Mapping[str, object]) -> bool:
    """A DingTalk row that records a missed punch (缺卡, 未打卡): no time, nothing to store."""
    if cell_text(raw.get("result")) in NO_PUNCH_RESULTS:
        return True
    value = raw.get("punched_at")
    return not isinstance(value, (datetime, time)) and cell_text(value) in _EMPTY_TIMES


def _parse_row(raw: Mapping[str, object], layout: str, now: datetime
               ) -> tuple[str, datetime | None, date | None, dict]:
    errors: dict[str, str] = {}
    shift_day = None
    number = raw.get("employee_no")
    if number is not None and not isinstance(number, (str, int, float)):
        errors["employee_no"] = MESSAGES["text"]
    employee_no = cell_text(number)
    if not employee_no and "employee_no" not in errors:
        errors["employee_no"] = MESSAGES["required"]
    if layout == "dingtalk":
        instant, shift_day = _dingtalk_instant(raw, errors)
    else:
        value = raw.get("punched_at")
        instant = parse_instant(value)
        if instant is None:
            empty = value is None or (isinstance(value, str) and not value.strip())
            errors["punched_at"] = MESSAGES["required"] if empty else MESSAGES["instant"]
    if instant is not None and instant > now + FUTURE_TOLERANCE:
        errors["punched_at"] = MESSAGES["future"] % {"now": clock.local(now).strftime("%Y-%m-%d %H:%M")}
    return employee_no, instant, shift_day, errors


def _employee_ids(numbers: Iterable[str]) -> dict[str, int]:
    numbers = sorted(set(numbers))
    found: dict[str, int] = {}
    for condition in among(Employee.employee_no, numbers):
        # A Result has .keys(), so dict.update() would index it like a mapping: unpack the rows.
        found.update((no, employee_id) for no, employee_id in db.session.execute(
            select(Employee.employee_no, Employee.id).where(condition)))
    return found


# ---------------------------------------------------------------- saving


def _insert_ignoring_duplicates(rows: list[dict]) -> list[tuple[int, datetime, date]]:
    """INSERT … ON CONFLICT DO NOTHING for all rows; (employee_id, punched_at, work_day) of the new ones.

    Given a list of rows, SQLAlchemy sends multi-row INSERTs of up to 1,000 rows each
    ("insertmanyvalues") compiled once, on SQLite and PostgreSQL alike; RETURNING names the rows
    that were new, since the unique constraint skipped the others.
    """
    if not rows:
        return []
    insert = pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    table = Punch.__table__
    statement = insert(table).on_conflict_do_nothing().returning(table.c.employee_id, table.c.punched_at,
                                                                 table.c.work_day)
    return [tuple(row) for row in db.session.execute(statement, rows)]


def _digest(lines: Iterable[str]) -> str:
    return hashlib.sha256("\n".join(sorted(lines)).encode()).hexdigest()


def save_punches(batch: PunchBatch, *, source: str, actor=None, details: Mapping[str, object] | None = None
                 ) -> PunchReport:
    """Check every row, then store the new punches in one transaction (or nothing); raises InvalidRecords.

    One evidence event describes the batch (counts, source, `details` such as the file's
    SHA-256, the employees and days, and a digest of the new punches), not one per punch.
    """
    now = clock.now()
    parsed: list[tuple[int, str, datetime, date | None]] = []
    errors: list[FieldError] = []
    skipped = 0

    def fail(row: int, name: str, message) -> None:
        errors.append(FieldError(row, batch.labels.get(name, name), message))

    for row, raw in batch.rows:
        if batch.layout == "dingtalk" and _is_no_punch(raw):
            skipped += 1
            continue
        employee_no, instant, shift_day, row_errors = _parse_row(raw, batch.layout, now)
        for name, message in row_errors.items():
            fail(row, name, message)
        if not row_errors:
            parsed.append((row, employee_no, instant, shift_day))
    ids = _employee_ids(no for _, no, _, _ in parsed)
    for row, employee_no, _, _ in parsed:
        if employee_no not in ids:
            fail(row, "employee_no", MESSAGES["unknown_employee"] % {"no": employee_no})
    if errors:
        raise InvalidRecords(sorted(errors, key=lambda e: e.row))
    if not parsed and not skipped:
        raise InvalidRecords([FieldError(0, "punches", MESSAGES["empty"])])
    stated: dict[tuple[int, datetime], date | None] = {}
    for _, no, instant, shift_day in parsed:  # the same punch twice: a stated shift day wins
        key = (ids[no], instant)
        stated[key] = stated.get(key) or shift_day
    shift_of = schedules.shifts_for({employee_id for employee_id, _ in stated})
    rows = [{"employee_id": employee_id, "punched_at": instant,
             "work_day": stated[(employee_id, instant)] or shift_of[employee_id].shift_day(instant),
             "source": source, "imported_at": now} for employee_id, instant in sorted(stated)]
    try:
        created = _insert_ignoring_duplicates(rows)
        numbers = {employee_id: no for no, employee_id in ids.items()}
        employee_ids = sorted({employee_id for employee_id, _, _ in created})
        days = sorted({day for _, _, day in created})
        if created:
            # The subject is the channel (api, file, page, demo…): the source's rest is free text (an API
            # token's name such as "HRIS sync"), kept in the payload, never an identifier.
            channel = source.partition(":")[0]
            evidence.record("absence.punches_imported", evidence.subject_of("punches", channel), {
                "source": source, "layout": batch.layout, **(details or {}),
                "new": len(created), "duplicates": len(parsed) - len(created), "skipped": skipped,
                "employees": sorted(numbers[i] for i in employee_ids), "days": [d.isoformat() for d in days],
                "punches_sha256": _digest(f"{numbers[i]}|{clock.as_utc(at).isoformat()}" for i, at, _ in created),
            }, actor=actor)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    if employee_ids:
        reconcile.reconcile(employee_ids, actor=actor)
    return PunchReport(new=len(created), duplicates=len(parsed) - len(created), skipped=skipped,
                       employee_ids=tuple(employee_ids), employee_nos=tuple(sorted(numbers[i] for i in employee_ids)),
                       days=tuple(days), layout=batch.layout)


def import_punch_file(filename: str, data: bytes, *, layout: str = "auto", actor=None) -> PunchReport:
    """Read a time-clock export and save its punches (all or nothing); raises InvalidRecords."""
    batch = read_punch_file(filename, data, layout)
    kind = "xlsx" if filename.lower().endswith(".xlsx") else "csv"
    return save_punches(batch, source=f"{kind}:{batch.layout}", actor=actor,
                        details={"file": filename, "file_sha256": hashlib.sha256(data).hexdigest()})
