"""Employee records as they arrive from outside: field parsing and spreadsheet reading.

One parser serves the CSV/XLSX import, the HR upload page and the JSON API, so a rule about
what a valid employee looks like lives here and nowhere else.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from lms.inputs import within_date_range
from lms.people import sensitive
from lms.people.models import EMPLOYMENT_STATUSES, JOB_FAMILIES

# Field name → accepted column headings (English field names and the Chinese headings
# HR systems export).
FIELDS: dict[str, tuple[str, ...]] = {
    "employee_no": ("工号", "员工编号", "员工工号"),
    "name": ("姓名", "员工姓名"),
    "department": ("部门", "所属部门"),
    "parent_department": ("上级部门", "父部门"),  # the parent of this row's department (the departments tree)
    "position": ("岗位", "职位"),
    "job_family": ("岗位类别", "职类", "岗位序列"),
    "manager_no": ("直属领导工号", "上级工号", "直属上级工号"),
    "hire_date": ("入职日期",),
    "status": ("状态", "在职状态", "员工状态"),
    "mobile": ("手机", "手机号", "手机号码"),
    "email": ("邮箱", "电子邮箱"),
    "household_address": ("户籍地址",),
    "contact_address": ("联系地址", "通讯地址"),
    "work_city": ("工作城市", "工作地"),
    "social_insurance_base": ("社保缴费基数", "缴费基数"),
    "monthly_wage": ("月工资", "月薪", "月工资标准"),
    "prior_work_years": ("入职前工作年限", "此前工作年限"),
    "national_id": ("身份证号", "身份证号码"),
}
REQUIRED = ("employee_no", "name", "department", "hire_date")

JOB_FAMILY_ALIASES = {
    "销售": "sales", "物流": "logistics", "生产": "production", "行政": "office", "办公": "office",
    "职能": "office", "研发": "rd", "客服": "service", "服务": "service", "管理": "management",
    "其他": "other",
}
STATUS_ALIASES = {"入职培训": "onboarding", "入职培训中": "onboarding", "新入职": "onboarding", "在职": "active",
                  "离职": "terminated", "已离职": "terminated"}

# "sales (销售), logistics (物流), …": the codes with the Chinese names the import also accepts.
_JOB_FAMILY_CHOICES = ", ".join(
    f"{family} ({'/'.join(k for k, v in JOB_FAMILY_ALIASES.items() if v == family)})" for family in JOB_FAMILIES
    if family in JOB_FAMILY_ALIASES.values()
)
_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_EMPLOYEE_NO = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
MAX_AMOUNT = Decimal("1E+10")  # NUMERIC(12, 2): ten digits before the point
EARLIEST_HIRE = date(1950, 1, 1)  # nobody employed today was hired earlier: an earlier date is a typo
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日")

MESSAGES = {
    "required": _l("This field is required."),
    "employee_no": _l("Use 1–32 letters, digits, '-' or '_'."),
    "too_long": _l("Too long (at most %(n)s characters)."),
    "date": _l("Not a date between 1900 and 2100; use YYYY-MM-DD."),
    "early_hire": _l("The hire date is before 1950."),
    "future_hire": _l("The hire date is more than a year in the future."),
    "mobile": _l("Not a mainland mobile number (11 digits starting with 1)."),
    "email": _l("Not an e-mail address."),
    "status": _l("Unknown status; use onboarding (入职培训), active (在职) or terminated (离职)."),
    "job_family": _l("Unknown job family; use one of %(values)s."),
    "amount": _l("Not an amount of money (a non-negative number)."),
    "years": _l("Years of work before joining: a number from 0 to 60 (one decimal place)."),
    "national_id_format": _l("A national ID number has 17 digits and a final digit or X."),
    "national_id_birth_date": _l("The birth date inside the national ID number is not a real date."),
    "national_id_checksum": _l("The national ID number's check digit is wrong."),
    "unknown_column": _l("Unknown column “%(name)s”."),
    "missing_column": _l("The required column is missing."),
    "duplicate_no": _l("Employee number %(no)s also appears in row %(row)s."),
    "duplicate_national_id_file": _l("The same national ID number also appears in row %(row)s."),
    "duplicate_national_id_db": _l("This national ID number belongs to employee %(no)s."),
    "exists": _l("Employee number %(no)s already exists."),
    "unknown_manager": _l("No employee has number %(no)s."),
    "self_manager": _l("An employee cannot be their own manager."),
    "manager_cycle": _l("This manager makes a reporting cycle: %(chain)s."),
    "unreadable": _l("The file cannot be read as %(kind)s: %(problem)s"),
    "unsupported": _l("Upload a .csv or .xlsx file."),
    "empty": _l("The file has no employee rows."),
}

_MAX_LENGTHS = {"employee_no": 32, "name": 80, "department": 120, "parent_department": 120, "position": 80,
                "work_city": 40, "email": 254, "household_address": 500, "contact_address": 500}


def _number(text: str) -> Decimal | None:
    """A finite decimal from what HR typed ("8,700.00" too), or None."""
    try:
        number = Decimal(text.replace(",", ""))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


@dataclass(frozen=True)
class FieldError:
    """A problem with one value: the row it came from (1 = header), the field, the message."""

    row: int
    field: str
    message: str
    code: str = "invalid"  # "exists" lets the API answer 409 instead of 422

    def as_dict(self) -> dict:
        return {"row": self.row, "field": self.field, "message": str(self.message)}


class InvalidRecords(Exception):
    """Raised with every problem found in a batch of imported records; nothing has been written."""

    def __init__(self, errors: list[FieldError]):
        super().__init__(f"{len(errors)} problem(s) in the data")
        self.errors = errors


class InvalidEmployeeData(InvalidRecords):
    """Raised with every problem found in employee data; nothing has been written."""


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():  # spreadsheets turn 1001 into 1001.0
        value = int(value)
    return str(value).strip()


def parse_date(value: object) -> date | None:
    """A calendar date from a cell (a date, or text as YYYY-MM-DD, YYYY/MM/DD, YYYY.MM.DD, YYYY年MM月DD日);
    None when it is none, or lies outside 1900–2100."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value if within_date_range(value) else None
    text = _text(value)
    for fmt in _DATE_FORMATS:
        try:
            return parse_date(datetime.strptime(text, fmt).date())  # noqa: DTZ007 - a calendar date, no time
        except ValueError:
            continue
    return None


def parse_employee(raw: Mapping[str, object], today: date) -> tuple[dict, dict[str, str]]:
    """Normalise one record. Returns (values, {field: message}); absent fields are left out."""
    values: dict = {}
    errors: dict[str, str] = {}
    for field in FIELDS:
        if field not in raw:
            continue
        value = raw[field]
        text = _text(value)
        if text == "":
            values[field] = None
            continue
        limit = _MAX_LENGTHS.get(field)
        if limit and len(text) > limit:
            errors[field] = MESSAGES["too_long"] % {"n": limit}
            continue
        if field in ("employee_no", "manager_no"):
            if _EMPLOYEE_NO.match(text):
                values[field] = text
            else:
                errors[field] = MESSAGES["employee_no"]
        elif field == "hire_date":
            parsed = parse_date(value)
            if parsed is None:
                errors[field] = MESSAGES["date"]
            elif (parsed - today).days > 366:
                errors[field] = MESSAGES["future_hire"]
            elif parsed < EARLIEST_HIRE:
                errors[field] = MESSAGES["early_hire"]
            else:
                values[field] = parsed
        elif field == "mobile":
            digits = re.sub(r"[\s-]", "", text).removeprefix("+86")
            if _MOBILE.match(digits):
                values[field] = digits
            else:
                errors[field] = MESSAGES["mobile"]
        elif field == "email":
            if _EMAIL.match(text):
                values[field] = text.lower()
            else:
                errors[field] = MESSAGES["email"]
        elif field == "status":
            status = STATUS_ALIASES.get(text, text.lower())
            if status in EMPLOYMENT_STATUSES:
                values[field] = status
            else:
                errors[field] = MESSAGES["status"]
        elif field == "job_family":
            family = JOB_FAMILY_ALIASES.get(text, text.lower())
            if family in JOB_FAMILIES:
                values[field] = family
            else:
                errors[field] = MESSAGES["job_family"] % {"values": _JOB_FAMILY_CHOICES}
        elif field in ("social_insurance_base", "monthly_wage"):
            amount = _number(text)
            if amount is not None and 0 <= amount < MAX_AMOUNT:
                values[field] = amount.quantize(Decimal("0.01"))
            else:
                errors[field] = MESSAGES["amount"]
        elif field == "prior_work_years":
            years = _number(text)
            if years is not None and 0 <= years <= 60 and years == years.quantize(Decimal("0.1")):
                values[field] = years
            else:
                errors[field] = MESSAGES["years"]
        elif field == "national_id":
            number = sensitive.normalise_national_id(text)
            problem = sensitive.national_id_problem(number)
            if problem:
                errors[field] = MESSAGES[f"national_id_{problem}"]
            else:
                values[field] = number
        else:
            values[field] = text
    for field in REQUIRED:
        if field not in errors and values.get(field) is None:
            errors[field] = MESSAGES["required"]
    return values, errors


def map_columns(headings: Iterable[object], aliases: Mapping[str, Iterable[str]], required: Iterable[str] = (),
                ignored: Iterable[str] = ()) -> tuple[dict[int, str], list[FieldError]]:
    """A file's header row as {column index: field}, by each field's accepted headings (and its own
    name); an unknown heading or a missing required field is an error on row 1. `ignored` headings
    (exported beside the data, e.g. a name beside the number) are skipped."""
    lookup = {name: name for name in aliases}
    for name, names in aliases.items():
        lookup.update({alias: name for alias in names})
    skipped = set(ignored)
    columns: dict[int, str] = {}
    errors: list[FieldError] = []
    for index, heading in enumerate(headings):
        label = _text(heading)
        if label == "" or label in skipped or label.lower() in skipped:
            continue
        field = lookup.get(label, lookup.get(label.lower()))
        if field is None:
            errors.append(FieldError(1, label, MESSAGES["unknown_column"] % {"name": label}))
        else:
            columns[index] = field
    errors.extend(FieldError(1, field, MESSAGES["missing_column"]) for field in required
                  if field not in columns.values())
    return columns, errors


def read_records(filename: str, data: bytes, aliases: Mapping[str, Iterable[str]], required: Iterable[str] = (),
                 ignored: Iterable[str] = (), *, empty, check=None) -> list[tuple[int, dict]]:
    """A .csv or .xlsx file's data rows as (row number, {field: raw value}); raises InvalidRecords naming
    every header problem, or `empty` when the file has no rows. `check(columns)` may add header errors."""
    rows = read_rows(filename, data)
    if not rows:
        raise InvalidRecords([FieldError(0, "file", empty)])
    columns, errors = map_columns(rows[0], aliases, required, ignored)
    if check is not None:
        errors.extend(check(columns))
    if errors:
        raise InvalidRecords(errors)
    records = records_of(rows, columns)
    if not records:
        raise InvalidRecords([FieldError(0, "file", empty)])
    return records


def records_of(rows: list[list[object]], columns: Mapping[int, str]) -> list[tuple[int, dict]]:
    """The data rows under the header as (spreadsheet row number, {field: raw value}); blank rows skipped."""
    return [(number, {field: row[i] if i < len(row) else None for i, field in columns.items()})
            for number, row in enumerate(rows[1:], start=2) if any(_text(cell) for cell in row)]


def read_rows(filename: str, data: bytes) -> list[list[object]]:
    """Every row of a .csv (UTF-8 or GB18030) or .xlsx file as a list of cells; raises InvalidRecords."""
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    if suffix == "csv":
        return _csv_rows(data)
    if suffix == "xlsx":
        return _xlsx_rows(data)
    raise InvalidEmployeeData([FieldError(0, "file", MESSAGES["unsupported"])])


def cell_text(value: object) -> str:
    """A spreadsheet cell as stripped text (1001.0 → "1001", None → "")."""
    return _text(value)


def read_employee_file(filename: str, data: bytes) -> list[tuple[int, dict]]:
    """Rows of a CSV or XLSX file as (spreadsheet row number, {field: raw value})."""
    rows = read_rows(filename, data)
    if not rows:
        raise InvalidEmployeeData([FieldError(0, "file", MESSAGES["empty"])])
    columns, errors = map_columns(rows[0], FIELDS, REQUIRED)
    if errors:
        raise InvalidEmployeeData(errors)
    records = records_of(rows, columns)
    if not records:
        raise InvalidEmployeeData([FieldError(0, "file", MESSAGES["empty"])])
    return records


def _csv_rows(data: bytes) -> list[list[str]]:
    # Excel on Chinese Windows saves CSV as GBK; everything else sends UTF-8 (maybe with BOM).
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise InvalidEmployeeData([FieldError(0, "file", MESSAGES["unreadable"] % {"kind": "CSV",
                                                                                  "problem": "encoding"})])
    try:
        return list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise InvalidEmployeeData(
            [FieldError(0, "file", MESSAGES["unreadable"] % {"kind": "CSV", "problem": exc})]
        ) from exc


def _xlsx_rows(data: bytes) -> list[list[object]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a damaged file
        raise InvalidEmployeeData(
            [FieldError(0, "file", MESSAGES["unreadable"] % {"kind": "XLSX", "problem": type(exc).__name__})]
        ) from exc
    try:
        return [list(row) for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()
