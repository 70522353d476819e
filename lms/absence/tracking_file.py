"""The carrier's tracking file (CSV or XLSX, Chinese headings and values): each row a tracking event
of a dispatch, recorded through `service.record_tracking`; all rows or none."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.absence.models import Dispatch
from lms.absence.service import ServiceRefused, record_tracking
from lms.extensions import db

TRACKING_COLUMNS = {"tracking_no": ("运单号", "邮件号", "快递单号"), "status": ("状态", "轨迹状态"),
                    "at": ("日期", "时间", "date"), "signed_by": ("签收人", "签收方式"), "reason": ("退回原因", "原因"),
                    "note": ("备注",)}
STATUS_ALIASES = {"运输中": "in_transit", "已签收": "delivered", "妥投": "delivered", "拒收": "refused",
                  "退回": "returned", "退回妥投": "returned_to_sender", "已退回寄件人": "returned_to_sender"}
SIGNER_ALIASES = {"本人": "employee", "本人签收": "employee", "家属": "family_member", "同住家属": "family_member",
                  "他人": "other", "他人代收": "other", "快递柜": "locker", "丰巢": "locker"}
REASON_ALIASES = {"查无此人": "no_such_person", "地址不详": "unclear_address", "无人领取": "not_collected",
                  "拒收": "refused", "其他": "other"}


@dataclass(frozen=True)
class TrackingImport:
    new: int
    duplicates: int


def _cell(value) -> str:
    return "" if value is None else str(value).strip()


def _cell_day(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(_cell(value)[:10].replace("/", "-"))


def import_tracking(filename: str, data: bytes, actor=None) -> TrackingImport:
    """A carrier's tracking export (.csv or .xlsx: tracking_no, status, at, signed_by, reason), all rows or
    none; the same event twice is kept once. Raises InvalidRecords naming each row's problem."""
    from lms.people.records import FieldError, InvalidRecords, map_columns, read_rows, records_of

    rows = read_rows(filename, data)
    if not rows:
        raise InvalidRecords([FieldError(1, "file", str(_l("The file is empty.")))])
    columns, errors = map_columns(rows[0], TRACKING_COLUMNS, required=("tracking_no", "status", "at"))
    if errors:
        raise InvalidRecords(errors)
    parsed = []
    for number, raw in records_of(rows, columns):
        status = STATUS_ALIASES.get(_cell(raw.get("status")), _cell(raw.get("status")))
        signed_by = SIGNER_ALIASES.get(_cell(raw.get("signed_by")), _cell(raw.get("signed_by"))) or None
        reason = REASON_ALIASES.get(_cell(raw.get("reason")), _cell(raw.get("reason"))) or None
        try:
            day = _cell_day(raw.get("at"))
        except ValueError:
            errors.append(FieldError(number, "at", str(_l("Not a date (YYYY-MM-DD)."))))
            continue
        parsed.append((day, number, _cell(raw.get("tracking_no")), status, signed_by, reason,
                       _cell(raw.get("note")) or None))
    new = duplicates = 0
    for day, number, tracking_no, status, signed_by, reason, note in sorted(parsed):
        dispatch = db.session.scalars(select(Dispatch).where(Dispatch.tracking_no == tracking_no)
                                      .order_by(Dispatch.id.desc())).first()
        if dispatch is None:
            errors.append(FieldError(number, "tracking_no", str(_l("No dispatch has tracking number %(no)s.",
                                                                   no=tracking_no))))
            continue
        if any((e.status, e.day, e.signed_by, e.reason) == (status, day, signed_by, reason) for e in dispatch.events):
            duplicates += 1
            continue
        try:
            record_tracking(dispatch, status=status, day=day, signed_by=signed_by, reason=reason, note=note,
                            source="csv", actor=actor, commit=False)
            new += 1
        except ServiceRefused as exc:
            errors.append(FieldError(number, "status", str(exc)))
    if errors:
        db.session.rollback()
        raise InvalidRecords(errors)
    db.session.commit()
    return TrackingImport(new, duplicates)
