"""The input policy, applied once at the edge of every request (HTML, API, file downloads).

Whatever a client sends, it gets a 4xx naming the field, never a 5xx:
- ids in URLs (`<int:…>`) are whole numbers within the database column's range; beyond it the
  URL matches nothing (404) instead of overflowing PostgreSQL's integer;
- every string — query strings, form fields, path segments, upload names, JSON keys and
  values — holds no NUL byte (PostgreSQL cannot store one) and no lone surrogate (not
  encodable as UTF-8);
- every date or instant written as text (2026-05-01, 2026-05-01T09:00+08:00) in a URL or a JSON
  body lies within 1900–2100 (FIRST_YEAR–LAST_YEAR): year 1 cannot even be moved to UTC. A form's
  date fields (lms.forms.DateInput, DateTimeInput) check the same range themselves, so the page
  comes back with the error beside the field and what was typed kept;
- a JSON body nests at most MAX_JSON_DEPTH levels, names each key once per object, and holds
  no NaN or Infinity;
- integers the API parses (page numbers, ids in bodies) stay within the column range.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime

from flask import Flask, request
from flask_babel import gettext as _
from marshmallow import ValidationError
from webargs.flaskparser import FlaskParser
from werkzeug.exceptions import HTTPException
from werkzeug.routing import IntegerConverter

ID_MAX = 2**31 - 1  # SQLAlchemy's Integer is a 32-bit integer on PostgreSQL
ID_MIN = -(2**31)
FIRST_YEAR, LAST_YEAR = 1900, 2100
MAX_JSON_DEPTH = 32

_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")
_DATE_TEXT = re.compile(r"\s*(\d{4})-\d{1,2}-\d{1,2}(?:[T ][0-9:.]+(?:Z|[+-]\d{2}(?::?\d{2})?)?)?\s*\Z")
_MONTH_TEXT = re.compile(r"\s*(\d{4})-\d{1,2}\s*\Z")  # ?month=2026-05 in a query string


class BadInput(HTTPException):
    """Input the policy refuses: the message names the field; lms.ui renders it as a page or JSON."""

    def __init__(self, message: str, field: str | None = None, status: int = 422):
        super().__init__(description=message)
        self.code = status
        self.field = field


class IdConverter(IntegerConverter):
    """`<int:…>` everywhere: a whole number from 0 to the column's largest value; beyond it, 404."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", ID_MAX)
        super().__init__(map, *args, **kwargs)


def db_int(value: str) -> int:
    """For `request.args.get(name, type=db_int)`: a whole number the database can hold, else ValueError
    (so the argument's default applies)."""
    number = int(value)
    if not ID_MIN <= number <= ID_MAX:
        raise ValueError(value)
    return number


def within_date_range(value: date | datetime) -> bool:
    """True when the date (or instant) lies within 1900–2100, the range any date in this system may take."""
    return FIRST_YEAR <= value.year <= LAST_YEAR


def date_range_message(field: str) -> str:
    return _("%(field)s must lie between %(first)s and %(last)s.", field=field, first=FIRST_YEAR, last=LAST_YEAR)


def text_problem(value: str, field: str, months: bool = False, dates: bool = True) -> str | None:
    """Why the string `value` of `field` is refused, or None when it is acceptable (`dates`: also
    refuse a date outside the range)."""
    if _UNSTORABLE.search(value):
        return _("%(field)s contains a character that cannot be stored (a NUL byte or a lone surrogate).",
                 field=field)
    if not dates:
        return None
    found = _DATE_TEXT.match(value) or (_MONTH_TEXT.match(value) if months else None)
    if found and not FIRST_YEAR <= int(found.group(1)) <= LAST_YEAR:
        return date_range_message(field)
    return None


def check_text(value: str, field: str, months: bool = False, status: int = 422, dates: bool = True) -> None:
    """Raise BadInput when `value` breaks the string policy."""
    problem = text_problem(value, field, months, dates)
    if problem:
        raise BadInput(problem, field, status)


def _no_duplicate_keys(pairs: list[tuple[str, object]]) -> dict:
    result: dict = {}
    for key, value in pairs:
        if key in result:
            raise BadInput(_("The JSON body repeats the key %(key)s.", key=key), key, 400)
        result[key] = value
    return result


def _refuse_constant(name: str):
    raise BadInput(_("The JSON body holds %(name)s, which is not a JSON number.", name=name), None, 400)


def _check_json_value(value, path: str) -> None:
    if isinstance(value, str):
        check_text(value, path or "body")
    elif isinstance(value, dict):
        for key, item in value.items():
            check_text(key, f"{path}.{key}" if path else key)
            _check_json_value(item, f"{path}.{key}" if path else key)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json_value(item, f"{path}.{index}" if path else str(index))


def load_json(raw: bytes) -> object:
    """Parse a JSON body under the policy: bounded depth, each key once, no NaN, every string storable."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise BadInput(_("The JSON body is not valid UTF-8."), None, 400) from None
    def too_deep():
        return BadInput(_("The JSON body nests deeper than %(n)s levels.", n=MAX_JSON_DEPTH), None, 400)

    try:
        value = json.loads(text, object_pairs_hook=_no_duplicate_keys, parse_constant=_refuse_constant)
    except RecursionError:  # the decoder itself gives up on thousands of levels
        raise too_deep() from None
    except ValueError:
        raise BadInput(_("The request body is not valid JSON."), None, 400) from None
    if _depth(value) > MAX_JSON_DEPTH:
        raise too_deep()
    _check_json_value(value, "")
    return value


def _depth(value) -> int:
    """How deeply arrays and objects nest in `value` (iteratively: it may be hundreds of levels)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, (dict, list)):
            deepest = max(deepest, level)
            stack.extend((item, level + 1) for item in (node.values() if isinstance(node, dict) else node))
    return deepest


def check_request() -> None:
    """The before-request gate: every string the request carries, and its JSON body, meet the policy."""
    for name, value in (request.view_args or {}).items():
        if isinstance(value, str):
            check_text(value, name, status=404)  # no such record can exist under that address
    for name, value in request.args.items(multi=True):
        check_text(name, name, months=True)
        check_text(value, name, months=True)
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    if request.is_json:
        body = request.get_data(cache=True)
        if body:
            load_json(body)
        return
    for name, value in request.form.items(multi=True):  # dates: the form's own fields say it
        check_text(name, name, dates=False)
        check_text(value, name, dates=False)
    for name, upload in request.files.items(multi=True):
        check_text(upload.filename or "", name)


def _walk_integers(value, path: str) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, int) and not ID_MIN <= value <= ID_MAX:
        raise ValidationError({path: [_("Must be a whole number from %(low)s to %(high)s.", low=ID_MIN, high=ID_MAX)]})
    if isinstance(value, dict):
        for key, item in value.items():
            _walk_integers(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _walk_integers(item, f"{path}.{index}" if path else str(index))


class ApiParser(FlaskParser):
    """webargs' parser, with every integer it loads (pages, ids in bodies) within the column range. (The
    request gate has already checked the JSON body itself.)"""

    def _process_location_data(self, location_data, schema, req, location, unknown, validators):
        data = super()._process_location_data(location_data, schema, req, location, unknown, validators)
        _walk_integers(data, "")
        return data


def register_inputs(app: Flask) -> None:
    """Install the converter (before any blueprint adds its routes) and the request gate."""
    app.url_map.converters["int"] = IdConverter
    app.before_request(check_request)
