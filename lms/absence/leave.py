"""Approved leave: one record from the HR page or the API, or a batch from a CSV/XLSX file.

Leave rows are the facts HR enters from an approval; a day on leave is never 旷工. Leave that
overlaps other leave of the same employee is refused, naming the record it overlaps, so each
day has one reason. A batch is saved whole or not at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms import evidence
from lms.absence import reconcile
from lms.absence.models import LEAVE_TYPES, Leave
from lms.extensions import db
from lms.people.models import Employee
from lms.people.records import MESSAGES as RECORD_MESSAGES
from lms.people.records import FieldError, InvalidRecords, cell_text, parse_date, read_records

LEAVE_TYPE_LABELS = {
    "personal": _l("personal leave"), "sick": _l("sick leave"), "annual": _l("annual leave"),
    "marriage": _l("marriage leave"), "maternity": _l("maternity leave"),
    "bereavement": _l("bereavement leave"), "other": _l("other leave"),
    "business_trip": _l("business trip or out of office"), "time_off_in_lieu": _l("time off in lieu"),
    "work_injury": _l("work-injury leave"),
    # 劳部发〔1995〕309号第二十八条: a worker detained by the authorities is not absent without cause (不算旷工).
    "detention": _l("deprived of liberty (not 旷工)"),
}
TYPE_ALIASES = {"事假": "personal", "病假": "sick", "年假": "annual", "年休假": "annual", "带薪年假": "annual",
                "婚假": "marriage", "产假": "maternity", "丧假": "bereavement", "其他": "other", "其它": "other",
                "出差": "business_trip", "外出": "business_trip", "公出": "business_trip",
                "调休": "time_off_in_lieu", "工伤": "work_injury", "工伤假": "work_injury",
                "限制人身自由": "detention", "拘留": "detention", "羁押": "detention"}
# Field → the column headings accepted for it.
HEADINGS: dict[str, tuple[str, ...]] = {
    "employee_no": ("employee_no", "工号", "员工工号", "员工编号"),
    "type": ("type", "假期类型", "请假类型", "类型"),
    "start": ("start", "开始日期", "开始时间"),
    "end": ("end", "结束日期", "结束时间"),
    "approved_by": ("approved_by", "审批人"),
    "note": ("note", "备注", "请假事由", "事由"),
}
IGNORED_HEADINGS = ("name", "姓名", "department", "部门")  # exported beside the number; the number decides
REQUIRED = ("employee_no", "type", "start", "end")
MAX_DAYS = 366
_LENGTHS = {"approved_by": 100, "note": 500}

_TYPE_CHOICES = ", ".join(f"{code} ({'/'.join(k for k, v in TYPE_ALIASES.items() if v == code)})"
                          for code in LEAVE_TYPES)
MESSAGES = {
    "required": RECORD_MESSAGES["required"],
    "date": RECORD_MESSAGES["date"],
    "too_long": RECORD_MESSAGES["too_long"],
    "unknown_column": RECORD_MESSAGES["unknown_column"],
    "missing_column": RECORD_MESSAGES["missing_column"],
    "unknown_employee": _l("No employee has number %(no)s."),
    "type": _l("Unknown leave type; use one of %(values)s."),
    "ends_before": _l("The leave ends before it starts."),
    "too_long_span": _l("Leave of more than %(n)s days; enter it in parts."),
    "overlaps_leave": _l("Overlaps leave #%(id)s (%(type)s %(start)s–%(end)s)."),
    "overlaps_row": _l("Overlaps row %(row)s (%(type)s %(start)s–%(end)s)."),
    "empty": _l("The file has no leave rows."),
    "no_leave": _l("No such leave."),
}


def type_label(code: str) -> str:
    """The leave type as people read it ("personal leave", 事假)."""
    return str(LEAVE_TYPE_LABELS.get(code, code))


def _leave_date(value: object) -> date | None:
    # HR systems export "2026-06-01 09:00" or "2026-06-01 上午": leave counts whole days, so the date decides.
    if isinstance(value, (date, datetime)):
        return parse_date(value)
    text = cell_text(value)
    return parse_date(text) or (parse_date(text.split()[0]) if text.split() else None)


def _parse(raw: Mapping[str, object]) -> tuple[dict, dict[str, str]]:
    values: dict = {}
    errors: dict[str, str] = {}
    values["employee_no"] = cell_text(raw.get("employee_no"))
    if not values["employee_no"]:
        errors["employee_no"] = MESSAGES["required"]
    kind = cell_text(raw.get("type"))
    values["type"] = TYPE_ALIASES.get(kind, kind.lower())
    if not kind:
        errors["type"] = MESSAGES["required"]
    elif values["type"] not in LEAVE_TYPES:
        errors["type"] = MESSAGES["type"] % {"values": _TYPE_CHOICES}
    for name in ("start", "end"):
        values[name] = _leave_date(raw.get(name))
        if values[name] is None:
            errors[name] = MESSAGES["required"] if cell_text(raw.get(name)) == "" else MESSAGES["date"]
    if values["start"] and values["end"]:
        if values["end"] < values["start"]:
            errors["end"] = MESSAGES["ends_before"]
        elif (values["end"] - values["start"]).days + 1 > MAX_DAYS:
            errors["end"] = MESSAGES["too_long_span"] % {"n": MAX_DAYS}
    for name, limit in _LENGTHS.items():
        values[name] = cell_text(raw.get(name)) or None
        if values[name] and len(values[name]) > limit:
            errors[name] = MESSAGES["too_long"] % {"n": limit}
    return values, errors


def _overlap_message(other_type: str, start: date, end: date, *, leave_id: int | None = None,
                     row: int | None = None) -> str:
    details = {"type": type_label(other_type), "start": start.isoformat(), "end": end.isoformat()}
    if leave_id is not None:
        return MESSAGES["overlaps_leave"] % {"id": leave_id, **details}
    return MESSAGES["overlaps_row"] % {"row": row, **details}


def record_leaves(records: Sequence[tuple[int, Mapping[str, object]]], *, source: str, actor=None,
                  details: Mapping[str, object] | None = None) -> list[Leave]:
    """Check every record, then save them all in one transaction (or none); raises InvalidRecords.

    Each record has employee_no, type (a code or 事假/病假/…), start and end (inclusive),
    optionally approved_by (a name, or an employee number stored as "name (no)") and note.
    Each saved leave is an evidence event `absence.leave_recorded` on its employee.
    """
    errors: list[FieldError] = []
    parsed: list[tuple[int, dict]] = []
    for row, raw in records:
        values, row_errors = _parse(raw)
        errors.extend(FieldError(row, name, message) for name, message in row_errors.items())
        parsed.append((row, values))
    numbers = {v["employee_no"] for _, v in parsed if v["employee_no"]}
    approvers = {v["approved_by"] for _, v in parsed if v["approved_by"]}
    # Locking the employees' rows (PostgreSQL) keeps two requests from adding overlapping leave at once.
    people = {e.employee_no: e for e in db.session.scalars(
        select(Employee).where(Employee.employee_no.in_(numbers | approvers)).with_for_update())}
    for row, values in parsed:
        if values["employee_no"] and values["employee_no"] not in people:
            errors.append(FieldError(row, "employee_no",
                                     MESSAGES["unknown_employee"] % {"no": values["employee_no"]}))
        approver = people.get(values["approved_by"] or "")
        if approver is not None:
            values["approved_by"] = f"{approver.name} ({approver.employee_no})"[:_LENGTHS["approved_by"]]
    complete = [(row, v) for row, v in parsed if v["employee_no"] in people and v["start"] and v["end"]
                and v["end"] >= v["start"] and v["type"] in LEAVE_TYPES]
    errors.extend(_overlaps(complete, people))
    if errors:
        raise InvalidRecords(sorted(errors, key=lambda e: e.row))
    if not parsed:
        raise InvalidRecords([FieldError(0, "file", MESSAGES["empty"])])
    actor_ref = evidence.actor_of(actor)
    try:
        leaves = [Leave(employee_id=people[v["employee_no"]].id, type=v["type"], starts_on=v["start"],
                        ends_on=v["end"], approved_by=v["approved_by"], note=v["note"], source=source,
                        created_by=actor_ref) for _, v in parsed]
        db.session.add_all(leaves)
        db.session.flush()
        evidence.record_many(((
            "absence.leave_recorded", evidence.subject_of("employee", leave.employee_id), {
                "leave_id": leave.id, "employee_no": values["employee_no"], "type": leave.type,
                "starts_on": leave.starts_on.isoformat(), "ends_on": leave.ends_on.isoformat(),
                "approved_by": leave.approved_by, "note": leave.note, "source": source, **(details or {})})
            for leave, (_, values) in zip(leaves, parsed, strict=True)), actor=actor)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    reconcile.reconcile(sorted({leave.employee_id for leave in leaves}), actor=actor)
    return leaves


def _overlaps(complete: list[tuple[int, dict]], people: Mapping[str, Employee]) -> list[FieldError]:
    """An error for each record overlapping stored leave, or an earlier record, of the same employee."""
    if not complete:
        return []
    ids = {people[v["employee_no"]].id for _, v in complete}
    stored = db.session.scalars(select(Leave).where(
        Leave.employee_id.in_(ids), Leave.starts_on <= max(v["end"] for _, v in complete),
        Leave.ends_on >= min(v["start"] for _, v in complete)).order_by(Leave.starts_on, Leave.id)).all()
    errors = []
    seen: list[tuple[int, dict]] = []
    for row, values in complete:
        employee_id = people[values["employee_no"]].id
        for leave in stored:
            if (leave.employee_id == employee_id and leave.starts_on <= values["end"]
                    and leave.ends_on >= values["start"]):
                errors.append(FieldError(row, "start", _overlap_message(leave.type, leave.starts_on, leave.ends_on,
                                                                        leave_id=leave.id), code="overlap"))
        for other_row, other in seen:
            if (other["employee_no"] == values["employee_no"] and other["start"] <= values["end"]
                    and other["end"] >= values["start"]):
                errors.append(FieldError(row, "start", _overlap_message(other["type"], other["start"], other["end"],
                                                                        row=other_row)))
        seen.append((row, values))
    return errors


def record_leave(employee_no: str, type: str, start: date | str, end: date | str, approved_by: str | None = None,
                 note: str | None = None, *, source: str = "page", actor=None) -> Leave:
    """Record one approved leave (all checks of `record_leaves`); raises InvalidRecords."""
    return record_leaves([(1, {"employee_no": employee_no, "type": type, "start": start, "end": end,
                               "approved_by": approved_by, "note": note})], source=source, actor=actor)[0]


def read_leave_file(filename: str, data: bytes) -> list[tuple[int, dict]]:
    """The rows of a leave .csv or .xlsx as (row number, {field: raw value}); raises InvalidRecords."""
    return read_records(filename, data, HEADINGS, REQUIRED, IGNORED_HEADINGS, empty=MESSAGES["empty"])


def import_leave_file(filename: str, data: bytes, *, actor=None) -> list[Leave]:
    """Read a leave file and record every row (all or nothing); raises InvalidRecords."""
    return record_leaves(read_leave_file(filename, data), source="csv", actor=actor, details={"file": filename})


def cancel_leave(leave_id: int, reason: str, actor=None) -> list[int]:
    """Delete a leave entered in error; the evidence event keeps what it said and why it went.

    Days of an open case that the leave had un-counted count again. Returns the resolved cases
    that only this leave had explained, for HR to look at again (they are not reopened).
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidRecords([FieldError(0, "reason", MESSAGES["required"])])
    if len(reason) > _LENGTHS["note"]:
        raise InvalidRecords([FieldError(0, "reason", MESSAGES["too_long"] % {"n": _LENGTHS["note"]})])
    leave = db.session.get(Leave, leave_id)
    if leave is None:
        raise InvalidRecords([FieldError(0, "leave", MESSAGES["no_leave"])])
    employee_id = leave.employee_id
    try:
        evidence.record("absence.leave_cancelled", evidence.subject_of("employee", employee_id), {
            "leave_id": leave.id, "employee_no": leave.employee.employee_no, "type": leave.type,
            "starts_on": leave.starts_on.isoformat(), "ends_on": leave.ends_on.isoformat(),
            "approved_by": leave.approved_by, "note": leave.note, "source": leave.source,
            "created_by": leave.created_by, "reason": reason}, actor=actor)
        db.session.delete(leave)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    reconcile.reconcile([employee_id], actor=actor)
    return reconcile.cases_left_without_leave(employee_id)
