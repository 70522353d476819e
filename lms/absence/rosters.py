"""Rosters: the working dates of a month, per employee or per roster group, entered by HR.

A roster is HR's fact like leave: from the Rosters page (one at a time or a CSV/XLSX file, all
rows or none), or `POST /api/v1/rosters`. One roster per (employee, month) and per (group,
month); saving one again replaces its dates. Each save is an evidence event
(`absence.roster_saved`) with the dates, and for a replacement the dates added and removed.

A group roster applies to the members of a group whose pattern is `roster` who have none of
their own. An employee's own roster applies whatever their group's pattern: it puts them on a
roster for that month (`workdays`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, insert, select

from lms import clock, evidence
from lms.absence.models import RosterDay, RosterMonth, ShiftGroup
from lms.absence.workdays import month_days, month_of
from lms.extensions import db
from lms.paging import PAGE_SIZE, page_of
from lms.people.models import Employee
from lms.people.records import MESSAGES as RECORD_MESSAGES
from lms.people.records import FieldError, InvalidRecords, cell_text, parse_date, read_records

# Field → the column headings accepted for it (content/README.md, "Roster files").
HEADINGS: dict[str, tuple[str, ...]] = {
    "employee_no": ("employee_no", "工号", "员工工号", "员工编号"),
    "shift_group": ("shift_group", "班组", "排班组"),
    "month": ("month", "月份", "排班月份"),
    "working_days": ("working_days", "出勤日期", "上班日期"),
}
IGNORED_HEADINGS = ("name", "姓名", "department", "部门")
NO_DAYS = frozenset({"-", "—", "无", "none"})  # a month without a working day, said on purpose

MESSAGES = {
    "required": RECORD_MESSAGES["required"],
    "unknown_column": RECORD_MESSAGES["unknown_column"],
    "missing_column": RECORD_MESSAGES["missing_column"],
    "one_target": _l("Give an employee number or a shift group, not both."),
    "unknown_employee": _l("No employee has number %(no)s."),
    "unknown_group": _l("No shift group is named “%(name)s”."),
    "not_roster_group": _l("The shift group “%(name)s” does not work to a roster; choose the pattern “roster” "
                           "for it first, or enter rosters per employee."),
    "month": _l("Not a month; use YYYY-MM (e.g. 2026-06)."),
    "month_range": _l("The month must lie between 2000 and 2100."),
    "day": _l("“%(item)s” is not a date of %(month)s; use YYYY-MM-DD, a day of the month (2) or a range (1-5)."),
    "outside": _l("%(day)s is not in %(month)s."),
    "duplicate": _l("The same roster is also in row %(row)s."),
    "empty": _l("The file has no roster rows."),
    "text": _l("Give this as text."),
}

_SEPARATORS = re.compile(r"[\s,，;；、]+")
_RANGE = re.compile(r"(\d{1,2})\s*(?:-|~|～|至)\s*(\d{1,2})")
_MONTH = re.compile(r"(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*月?")


@dataclass(frozen=True)
class SavedRoster:
    """What a save did to one roster: created, replaced or unchanged."""

    roster: RosterMonth
    label: str  # the employee number or the group's name
    change: str  # created | replaced | unchanged
    working_days: tuple[date, ...]


def parse_month(value: object) -> date | None:
    """The first day of a month from 2026-06, 2026/6, 2026年6月, or a date in it."""
    if isinstance(value, (date, datetime)):
        return month_of(parse_date(value))
    text = cell_text(value)
    match = _MONTH.fullmatch(text)
    if match:
        year, month = int(match[1]), int(match[2])
        return date(year, month, 1) if 1 <= month <= 12 else None
    day = parse_date(text)
    return month_of(day) if day else None


def parse_working_days(value: object, month: date) -> tuple[list[date], str | None]:
    """The working dates of `month` from a list or a text ("2026-06-02, 3, 5-9"); (dates, error)."""
    items = value if isinstance(value, (list, tuple)) else _SEPARATORS.split(cell_text(value))
    items = [item for item in items if not (isinstance(item, str) and not item.strip())]
    month_text = f"{month:%Y-%m}"
    if len(items) == 1 and isinstance(items[0], str) and items[0].strip().lower() in NO_DAYS:
        return [], None
    found: set[date] = set()
    valid = set(month_days(month))
    for item in items:
        if isinstance(item, (date, datetime)):
            days = [item.date() if isinstance(item, datetime) else item]
        else:
            text = cell_text(item)
            days = []
            if text.isdigit() and len(text) <= 2:
                days = [_day_of(month, int(text))]
            elif match := _RANGE.fullmatch(text):
                first, last = int(match[1]), int(match[2])
                days = [_day_of(month, n) for n in range(first, last + 1)] if first <= last else [None]
            else:
                days = [parse_date(text)]
            if any(d is None for d in days):
                return [], MESSAGES["day"] % {"item": text, "month": month_text}
        outside = [d for d in days if d not in valid]
        if outside:
            return [], MESSAGES["outside"] % {"day": outside[0].isoformat(), "month": month_text}
        found.update(days)
    return sorted(found), None


def _day_of(month: date, number: int) -> date | None:
    try:
        return month.replace(day=number)
    except ValueError:
        return None


def _parse(raw: Mapping[str, object]) -> tuple[dict, dict[str, str]]:
    values: dict = {}
    errors: dict[str, str] = {}
    for name in ("employee_no", "shift_group"):
        value = raw.get(name)
        if value is not None and not isinstance(value, (str, int, float)):
            errors[name] = MESSAGES["text"]
        values[name] = cell_text(value)
    if bool(values["employee_no"]) == bool(values["shift_group"]):
        errors.setdefault("employee_no", MESSAGES["one_target"] if values["employee_no"] else MESSAGES["required"])
    month = parse_month(raw.get("month"))
    if month is None:
        errors["month"] = MESSAGES["required"] if cell_text(raw.get("month")) == "" else MESSAGES["month"]
    elif not 2000 <= month.year <= 2100:
        errors["month"], month = MESSAGES["month_range"], None
    values["month"] = month
    days = raw.get("working_days")
    if days is None or (not isinstance(days, (list, tuple)) and cell_text(days) == ""):
        errors["working_days"] = MESSAGES["required"]
    elif month is not None:
        values["working_days"], problem = parse_working_days(days, month)
        if problem:
            errors["working_days"] = problem
    return values, errors


def save_rosters(records: Sequence[tuple[int, Mapping[str, object]]], *, source: str, actor=None,
                 details: Mapping[str, object] | None = None) -> list[SavedRoster]:
    """Check every record, then save them all in one transaction (or none); raises InvalidRecords.

    Each record has `employee_no` or `shift_group` (a group whose pattern is roster), `month`
    (YYYY-MM) and `working_days` (a list, or text: dates, days of the month, ranges; 无 for none).
    An unknown employee or group is an error with code "not_found".
    """
    errors: list[FieldError] = []
    parsed: list[tuple[int, dict]] = []
    for row, raw in records:
        values, row_errors = _parse(raw)
        errors.extend(FieldError(row, name, message) for name, message in row_errors.items())
        parsed.append((row, values))
    numbers = {v["employee_no"] for _, v in parsed if v["employee_no"]}
    names = {v["shift_group"] for _, v in parsed if v["shift_group"]}
    people = dict(db.session.execute(select(Employee.employee_no, Employee.id).where(
        Employee.employee_no.in_(numbers))).all()) if numbers else {}
    groups = {g.name: g for g in db.session.scalars(select(ShiftGroup).where(ShiftGroup.name.in_(names)))}
    seen: dict[tuple[str, str, date], int] = {}
    for row, values in parsed:
        if values["employee_no"] and values["employee_no"] not in people:
            errors.append(FieldError(row, "employee_no", MESSAGES["unknown_employee"] % {"no": values["employee_no"]},
                                     code="not_found"))
        if values["shift_group"] and not values["employee_no"]:
            group = groups.get(values["shift_group"])
            if group is None:
                errors.append(FieldError(row, "shift_group", MESSAGES["unknown_group"] % {
                    "name": values["shift_group"]}, code="not_found"))
            elif group.pattern != "roster":
                errors.append(FieldError(row, "shift_group", MESSAGES["not_roster_group"] % {"name": group.name}))
        key = ("employee" if values["employee_no"] else "group", values["employee_no"] or values["shift_group"],
               values["month"])
        if values["month"] is not None and key[1]:
            if key in seen:
                errors.append(FieldError(row, "month", MESSAGES["duplicate"] % {"row": seen[key]}))
            seen.setdefault(key, row)
    if errors:
        raise InvalidRecords(sorted(errors, key=lambda e: e.row))
    if not parsed:
        raise InvalidRecords([FieldError(0, "file", MESSAGES["empty"])])
    try:
        saved = [_save_one(values, people, groups, source, actor, details) for _, values in parsed]
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    return saved


def _save_one(values: dict, people: Mapping[str, int], groups: Mapping[str, ShiftGroup], source: str, actor,
              details: Mapping[str, object] | None) -> SavedRoster:
    month, days = values["month"], values["working_days"]
    if values["employee_no"]:
        target = {"employee_id": people[values["employee_no"]]}
        subject, label = evidence.subject_of("employee", target["employee_id"]), values["employee_no"]
        who = {"employee_no": label}
    else:
        group = groups[values["shift_group"]]
        target = {"shift_group_id": group.id}
        subject, label = evidence.subject_of("shift_group", group.id), group.name
        who = {"shift_group": label}
    column = RosterMonth.employee_id if "employee_id" in target else RosterMonth.shift_group_id
    roster = db.session.scalar(select(RosterMonth).where(column == next(iter(target.values())),
                                                         RosterMonth.month == month).with_for_update())
    previous = None
    if roster is not None:
        previous = sorted(db.session.scalars(select(RosterDay.day).where(RosterDay.roster_id == roster.id)))
        if previous == days:
            return SavedRoster(roster, label, "unchanged", tuple(days))
        db.session.execute(delete(RosterDay).where(RosterDay.roster_id == roster.id))
    else:
        roster = RosterMonth(month=month, **target)
    roster.source, roster.saved_by, roster.saved_at = source, evidence.actor_of(actor), clock.now()
    db.session.add(roster)
    db.session.flush()
    if days:
        db.session.execute(insert(RosterDay), [{"roster_id": roster.id, "day": day} for day in days])
    payload = {**who, "month": f"{month:%Y-%m}", "working_days": [d.isoformat() for d in days], "source": source,
               **(details or {})}
    if previous is not None:
        payload["replaces"] = {"added": [d.isoformat() for d in days if d not in previous],
                               "removed": [d.isoformat() for d in previous if d not in days]}
    evidence.record("absence.roster_saved", subject, payload, actor=actor)
    return SavedRoster(roster, label, "created" if previous is None else "replaced", tuple(days))


def save_roster(month: object, working_days: object, *, employee_no: str | None = None,
                shift_group: str | None = None, source: str = "page", actor=None) -> SavedRoster:
    """One roster (all checks of `save_rosters`); raises InvalidRecords."""
    return save_rosters([(1, {"employee_no": employee_no, "shift_group": shift_group, "month": month,
                              "working_days": working_days})], source=source, actor=actor)[0]


def read_roster_file(filename: str, data: bytes) -> list[tuple[int, dict]]:
    """The rows of a roster .csv or .xlsx as (row number, {field: raw value}); raises InvalidRecords."""

    def names_someone(columns: dict[int, str]) -> list[FieldError]:
        if set(columns.values()) & {"employee_no", "shift_group"}:
            return []
        return [FieldError(1, "employee_no", MESSAGES["missing_column"])]

    return read_records(filename, data, HEADINGS, ("month", "working_days"), IGNORED_HEADINGS,
                        empty=MESSAGES["empty"], check=names_someone)


def import_roster_file(filename: str, data: bytes, *, actor=None) -> list[SavedRoster]:
    """Read a roster file and save every row (all or nothing); raises InvalidRecords."""
    kind = "xlsx" if filename.lower().endswith(".xlsx") else "csv"
    return save_rosters(read_roster_file(filename, data), source=kind, actor=actor,
                        details={"file": filename, "file_sha256": hashlib.sha256(data).hexdigest()})


# ---------------------------------------------------------------- reading


@dataclass(frozen=True)
class RosterRow:
    """One roster of a month for the month view."""

    roster_id: int
    label: str  # employee number or group name
    name: str  # the employee's name, or "" for a group
    is_group: bool
    days: frozenset[date]
    saved_at: datetime
    saved_by: str


def rosters_of_month(month: date, employee_no: str = "", page: int = 1, page_size: int = PAGE_SIZE
                     ) -> tuple[list[RosterRow], int, int, int]:
    """A page of the month's rosters (groups first, then employees by number): (rows, page, pages, total)."""
    query = (select(RosterMonth, Employee.employee_no, Employee.name, ShiftGroup.name)
             .outerjoin(Employee, Employee.id == RosterMonth.employee_id)
             .outerjoin(ShiftGroup, ShiftGroup.id == RosterMonth.shift_group_id)
             .where(RosterMonth.month == month_of(month)))
    if employee_no:
        query = query.where(Employee.employee_no == employee_no)
    rows, page, pages, total = page_of(query, page, size=page_size, order_by=(
        RosterMonth.employee_id.is_not(None), ShiftGroup.name, Employee.employee_no))
    ids = [roster.id for roster, *_ in rows]
    days: dict[int, set[date]] = {i: set() for i in ids}
    if ids:
        for roster_id, day in db.session.execute(select(RosterDay.roster_id, RosterDay.day)
                                                 .where(RosterDay.roster_id.in_(ids))):
            days[roster_id].add(day)
    return [RosterRow(roster.id, number or group, name or "", number is None, frozenset(days[roster.id]),
                      roster.saved_at, roster.saved_by) for roster, number, name, group in rows], page, pages, total
