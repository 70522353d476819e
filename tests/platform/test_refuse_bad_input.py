"""No input answers 5xx (issue 19, item 1): each reproduction of the attack report, on SQLite and, with
TEST_DATABASE_URL set, on PostgreSQL (where the 32-bit and bigint overflows and NUL bytes used to fail)."""

from __future__ import annotations

import json
import time
from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from lms import clock
from lms.absence import leave
from lms.absence.models import AbsenceCase, CaseReply
from lms.extensions import db
from lms.inputs import ID_MAX, IdConverter
from lms.people import services
from lms.people.models import Employee
from lms.people.records import InvalidEmployeeData, InvalidRecords
from tests.conftest import auth

PAST_INT = ID_MAX + 1
PAST_BIGINT = "120851769518226206653692673732839997"


def _error(response) -> dict:
    return response.json["error"]


def _id_routes(app):
    for rule in app.url_map.iter_rules():
        if any(isinstance(c, IdConverter) for c in rule._converters.values()):
            yield rule


def _url(app, rule, number: int) -> str:
    values = {name: number if isinstance(conv, IdConverter) else "x" for name, conv in rule._converters.items()}
    with app.test_request_context():
        return app.url_map.bind("localhost").build(rule.endpoint, values)


def test_every_id_route_answers_404_past_the_column_range(app, client):
    routes = list(_id_routes(app))
    assert len(routes) > 70  # every <int:…> route of the HTML pages and the API
    for rule in routes:
        url = _url(app, rule, PAST_INT)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            response = client.open(url, method=method)
            assert response.status_code == 404, (method, url, response.status_code)


def test_every_id_route_answers_below_500_at_the_largest_id(app, org, login_as, hr_token):
    hr = login_as("hr")
    for rule in _id_routes(app):
        url = _url(app, rule, ID_MAX)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if url.startswith("/api/"):
                response = hr.open(url, method=method, headers=auth(hr_token), json={})
            else:
                response = hr.open(url, method=method, data={})
            assert response.status_code < 500, (method, url, response.status_code)


@pytest.mark.parametrize("url", ["/api/v1/absence/cases/2147483648", "/api/v1/attempts/2147483648",
                                 "/people/employees/2147483648", "/exams/certificates/2147483648.pdf",
                                 "/inbox/2147483648"])
def test_the_reported_id_urls_are_404(client, login_as, hr_token, url):
    headers = auth(hr_token) if url.startswith("/api/") else {}
    assert login_as("hr").get(url, headers=headers).status_code == 404


def test_a_page_number_past_bigint_is_refused_naming_the_field(client, org, login_as, hr_token):
    response = client.get(f"/api/v1/employees?page={PAST_BIGINT}", headers=auth(hr_token))
    assert response.status_code == 422 and _error(response)["field"] == "page"
    past_int = client.get(f"/api/v1/employees?page={PAST_INT}", headers=auth(hr_token))
    assert past_int.status_code == 422 and _error(past_int)["field"] == "page"
    largest = client.get(f"/api/v1/employees?page={ID_MAX}&per_page=500", headers=auth(hr_token))
    assert largest.status_code == 200 and largest.json["items"] == []
    # The HTML pages read a number past the range as no number: the first page.
    assert login_as("hr").get(f"/people/employees?page={PAST_BIGINT}").status_code == 200
    assert login_as("hr").get(f"/evidence/?before={PAST_BIGINT}").status_code == 200


def test_a_nul_byte_in_a_path_segment_is_404_even_without_signing_in(client):
    assert client.get("/verify/%00").status_code == 404
    assert client.get("/verify/ab%00cd").status_code == 404


def test_a_nul_byte_in_a_query_string_is_refused_naming_the_field(client, org, login_as, hr_token):
    response = client.get("/api/v1/employees?department=%00", headers=auth(hr_token))
    assert response.status_code == 422 and _error(response)["field"] == "department"
    page = login_as("hr").get("/people/employees?q=a%00b")
    assert page.status_code == 422 and "q" in page.get_data(as_text=True)


def test_a_nul_byte_in_a_form_field_is_refused_naming_the_field(client, org):
    response = client.post("/login", data={"username": "hr\x00", "password": "x"})
    assert response.status_code == 422 and "username" in response.get_data(as_text=True)


EMPLOYEE = {"employee_no": "P2", "name": "王芳", "department": "销售部", "hire_date": "2026-03-01"}


def _employees() -> int:
    return db.session.scalar(select(func.count()).select_from(Employee))


@pytest.mark.parametrize("field", ["name", "department", "household_address", "contact_address", "position"])
@pytest.mark.parametrize("bad", ["a\x00b", "\ud800"])
def test_an_unstorable_string_in_a_json_body_is_refused_naming_the_field(client, hr_token, field, bad):
    response = client.post("/api/v1/employees", headers=auth(hr_token), json={**EMPLOYEE, field: bad})
    assert response.status_code == 422, response.json
    assert _error(response)["field"] == field
    assert _employees() == 0


def test_a_lone_surrogate_escape_in_raw_json_is_refused(client, hr_token):
    body = '{"employee_no": "P2", "name": "\\ud800", "department": "x", "hire_date": "2026-03-01"}'
    response = client.post("/api/v1/employees", headers=auth(hr_token, **{"Content-Type": "application/json"}),
                           data=body)
    assert response.status_code == 422 and _error(response)["field"] == "name"


def test_a_nul_byte_in_punches_is_refused_naming_the_row_field(client, hr_token, make_employee):
    make_employee("王芳", employee_no="P1")
    batch = {"punches": [{"employee_no": "P1\x00", "punched_at": "2026-06-15T08:56:12+08:00"}]}
    response = client.post("/api/v1/punches", json=batch, headers=auth(hr_token))
    assert response.status_code == 422 and _error(response)["field"] == "punches.0.employee_no"


def test_year_one_punches_are_refused_in_the_api_and_in_a_file(client, hr_token, make_employee):
    make_employee("王芳", employee_no="P1")
    batch = {"punches": [{"employee_no": "P1", "punched_at": "0001-01-01T00:00:00+08:00"}]}
    response = client.post("/api/v1/punches", json=batch, headers=auth(hr_token))
    assert response.status_code == 422 and _error(response)["field"] == "punches.0.punched_at"
    from lms.absence.punches import parse_instant

    assert parse_instant("0001-01-01 00:00") is None and parse_instant("9999-12-31T23:59:59+08:00") is None
    assert parse_instant(datetime(1, 1, 1)) is None  # noqa: DTZ001 - a naive cell, as a spreadsheet gives it


def test_json_nested_ten_thousand_deep_is_refused(client, hr_token):
    body = "[" * 10_000 + "]" * 10_000
    response = client.post("/api/v1/employees", headers=auth(hr_token, **{"Content-Type": "application/json"}),
                           data=body)
    assert response.status_code == 400 and "deeper" in _error(response)["message"]


def test_a_megabyte_of_escaped_quotes_is_refused_at_once(client, hr_token):
    """The policy's own checks stay linear: an unterminated string full of escaped quotes costs no more."""
    body = '["' + '\\"' * 500_000
    started = time.perf_counter()
    response = client.post("/api/v1/employees", headers=auth(hr_token, **{"Content-Type": "application/json"}),
                           data=body)
    assert response.status_code == 400 and time.perf_counter() - started < 2


def test_a_duplicate_key_is_refused_and_creates_nobody(client, hr_token):
    body = ('{"employee_no": "P2", "employee_no": "P3", "name": "王芳", "department": "销售部", '
            '"hire_date": "2026-03-01"}')
    response = client.post("/api/v1/employees", headers=auth(hr_token, **{"Content-Type": "application/json"}),
                           data=body)
    assert response.status_code == 400 and _error(response)["field"] == "employee_no"
    assert _employees() == 0


def test_nan_and_infinity_are_not_json_numbers(client, hr_token):
    body = json.dumps({**EMPLOYEE, "social_insurance_base": 1}).replace("1}", "NaN}")
    response = client.post("/api/v1/employees", headers=auth(hr_token, **{"Content-Type": "application/json"}),
                           data=body)
    assert response.status_code == 400 and "NaN" in _error(response)["message"]


def test_an_id_in_a_body_past_the_column_range_is_refused(client, org, hr_token):
    response = client.post("/api/v1/leaves", headers=auth(hr_token), json={
        "employee_no": org.learner.employee_no, "type": "personal", "start": "2026-06-01", "end": "2026-06-02",
        "note": "x", "approved_by": "y"})
    assert response.status_code == 201
    token = services.issue_personal_token(org.users["learner"])[1]
    past = client.post("/api/v1/me/leave-requests", headers=auth(token), json={
        "type": "personal", "start": "2026-07-01", "end": "2026-07-02", "reason": "家事",
        "extends_leave_id": PAST_INT})
    assert past.status_code == 422 and _error(past)["field"] == "extends_leave_id"


@pytest.mark.parametrize(("start", "end"), [("0001-01-01", "0001-01-02"), ("9999-12-30", "9999-12-31")])
def test_leave_in_year_one_or_9999_is_refused(client, org, hr_token, start, end):
    response = client.post("/api/v1/leaves", headers=auth(hr_token), json={
        "employee_no": org.learner.employee_no, "type": "personal", "start": start, "end": end})
    assert response.status_code == 422 and _error(response)["field"] in ("start", "end")
    with pytest.raises(InvalidRecords) as refused:  # and by the service itself (files, the CLI)
        leave.record_leave(org.learner.employee_no, "personal", start, end, source="test")
    assert {e.field for e in refused.value.errors} == {"start", "end"}


def test_a_year_one_date_in_an_html_form_is_refused_naming_the_field(login_as):
    response = login_as("learner").post("/requests/leave", data={
        "kind": "leave", "type": "personal", "start": "0001-01-01", "end": "0001-01-02", "reason": "x"})
    assert response.status_code == 422 and "start" in response.get_data(as_text=True)


def test_a_reply_received_before_its_cases_first_day_is_refused(client, served_case, hr_token):
    url = f"/api/v1/absence/cases/{served_case.id}/replies"
    with clock.frozen(datetime(2026, 6, 20, 10, 0)):
        year_one = client.post(url, headers=auth(hr_token), json={"text": "我生病了",
                                                                    "received_at": "0001-01-01T00:00:00+08:00"})
        assert year_one.status_code == 422 and _error(year_one)["field"] == "received_at"
        before = client.post(url, headers=auth(hr_token), json={"text": "我生病了",
                                                                 "received_at": "2019-06-01T09:00"})
        assert before.status_code == 422 and "before the case's first day" in _error(before)["message"]
        nul = client.post(url, headers=auth(hr_token), json={"text": "我\x00生病了"})
        assert nul.status_code == 422 and _error(nul)["field"] == "text"
    case = db.session.get(AbsenceCase, served_case.id)
    db.session.refresh(case)
    assert case.paused_at is None
    assert db.session.scalar(select(func.count()).select_from(CaseReply)) == 0


def test_a_hire_date_before_1950_is_refused(client, hr_token, app):
    response = client.post("/api/v1/employees", headers=auth(hr_token), json={**EMPLOYEE, "hire_date": "1949-12-31"})
    assert response.status_code == 422 and _error(response)["field"] == "hire_date"
    with pytest.raises(InvalidEmployeeData) as refused:
        services.create_employee({**EMPLOYEE, "hire_date": date(1900, 1, 1)})
    assert refused.value.errors[0].field == "hire_date"
    assert _employees() == 0


def test_an_amount_too_large_for_its_column_is_refused(client, hr_token):
    response = client.post("/api/v1/employees", headers=auth(hr_token),
                           json={**EMPLOYEE, "social_insurance_base": "1E+30"})
    assert response.status_code == 422 and _error(response)["field"] == "social_insurance_base"
    assert _employees() == 0
