"""The JSON API under /api/v1: bearer-token authentication, OpenAPI 3 at /api/v1/openapi.json."""

from flask import Flask
from flask_smorest import Blueprint as SmorestBlueprint

from lms.extensions import csrf, rest_api
from lms.inputs import ApiParser


class Blueprint(SmorestBlueprint):
    """Every API blueprint parses its arguments under the input policy (lms.inputs)."""

    ARGUMENTS_PARSER = ApiParser()


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

    for blueprint in (employees_blp, courses_blp, exams_blp, sms_blp, attendance_blp, absence_blp,
                      documents_blp, service_blp, union_blp, termination_blp, requests_blp, campaigns_blp,
                      insurance_blp, departments_blp):
        csrf.exempt(blueprint)  # bearer tokens, not cookies: no cross-site request to forge
        rest_api.register_blueprint(blueprint)
