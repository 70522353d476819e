"""The JSON API under /api/v1: bearer-token authentication, OpenAPI 3 at /api/v1/openapi.json.

The document is checked against the answers in the test suite (tests/api/test_contract.py runs
schemathesis with every check), so what it says must be what the code does: one error shape for
every status (lms.extensions.ErrorResponse), decimals as strings with a pattern (DecimalString),
integers within the column range and dates within 1900–2100 as the input policy (lms.inputs) enforces.
"""

from __future__ import annotations

import re

from flask import Flask
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import fields

from lms.extensions import csrf, rest_api
from lms.inputs import FIRST_YEAR, ID_MAX, ID_MIN, LAST_YEAR, ApiParser

# Decimal strings: "7200.50", "-4000.00", "100.0" — never a float, never an exponent.
SIGNED_DECIMAL = r"^-?[0-9]+(\.[0-9]+)?$"
DECIMAL = r"^[0-9]+(\.[0-9]+)?$"
DATE_RANGE_TEXT = f"Within {FIRST_YEAR}–{LAST_YEAR} (else 422)."
# Any string the input policy stores: no NUL byte (a lone surrogate cannot be spelled in a pattern).
STORABLE_TEXT = r"^[^\u0000]*$"


class Blueprint(SmorestBlueprint):
    """Every API blueprint parses its arguments under the input policy (lms.inputs)."""

    ARGUMENTS_PARSER = ApiParser()


class DecimalString(fields.Decimal):
    """A decimal written as a JSON string in both directions ("7200.50"): money and scores are never
    floats. A JSON number, or a string the pattern refuses ("1e5", " 1"), is a 422 naming the field;
    the document says `type: string` with the same pattern."""

    def __init__(self, *, pattern: str = DECIMAL, **kwargs):
        super().__init__(as_string=True, **kwargs)
        self.pattern = pattern
        self.metadata = {"type": "string", "pattern": pattern, **self.metadata}

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, str) or not re.fullmatch(self.pattern.strip("^$"), value):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class JsonBoolean(fields.Boolean):
    """true or false, and nothing else: marshmallow's Boolean also takes 1, "yes" or "on", which the
    document (`type: boolean`) does not allow."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class RequiredInDocument(fields.Raw):
    """A field the document marks required whose absence the service reports itself (a batch's rows
    come back with every row's problems together, each naming its row), so loading lets it pass."""

    def __init__(self, **kwargs):
        super().__init__(required=True, **kwargs)

    def _validate_missing(self, value):
        pass


def _document_the_input_policy(self, field, ret, **kwargs) -> dict:
    """An apispec attribute function: what lms.inputs enforces on every field, written into the document."""
    if isinstance(field, DecimalString):
        ret.pop("minimum", None)  # a range over a string means nothing; the pattern bounds it instead
        ret.pop("maximum", None)
        return {}
    if isinstance(field, fields.Integer) and not isinstance(field, fields.Boolean):
        return {"minimum": ret.get("minimum", ID_MIN), "maximum": ret.get("maximum", ID_MAX)}
    if isinstance(field, (fields.Date, fields.DateTime)) or getattr(field, "is_instant", False):
        # The range in words: a pattern beside `format` makes generators filter away nearly every value.
        described = ret.get("description", "")
        return {"description": f"{described} {DATE_RANGE_TEXT}".strip()}
    if ret.get("type") == "string" and not {"pattern", "enum", "format"} & ret.keys():
        return {"pattern": STORABLE_TEXT}
    return {}


def register_api(app: Flask) -> None:
    from lms.api.absence import blp as absence_blp
    from lms.api.attendance import blp as attendance_blp
    from lms.api.campaigns import blp as campaigns_blp
    from lms.api.courses import blp as courses_blp
    from lms.api.departments import blp as departments_blp
    from lms.api.documents import blp as documents_blp
    from lms.api.employees import blp as employees_blp
    from lms.api.exams import blp as exams_blp
    from lms.api.insurance import blp as insurance_blp
    from lms.api.requests import blp as requests_blp
    from lms.api.service import blp as service_blp
    from lms.api.sms import blp as sms_blp
    from lms.api.termination import blp as termination_blp
    from lms.api.union import blp as union_blp

    rest_api.ma_plugin.converter.add_attribute_function(_document_the_input_policy)  # a new spec per app
    for blueprint in (employees_blp, courses_blp, exams_blp, sms_blp, attendance_blp, absence_blp,
                      documents_blp, service_blp, union_blp, termination_blp, requests_blp, campaigns_blp,
                      insurance_blp, departments_blp):
        csrf.exempt(blueprint)  # bearer tokens, not cookies: no cross-site request to forge
        rest_api.register_blueprint(blueprint)
