"""/api/v1/employees with bearer tokens, JSON errors naming the field, and the OpenAPI document."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.extensions import db
from lms.people import services
from lms.people.models import Department, Employee
from tests.conftest import auth

NEW_HIRE = {"employee_no": "E2001", "name": "孙丽", "department": "新零售部", "hire_date": "2026-11-20"}


def test_create_with_the_required_fields_creates_the_department(client, hr_token):
    response = client.post("/api/v1/employees", json=NEW_HIRE, headers=auth(hr_token))
    assert response.status_code == 201, response.json
    body = response.json
    assert (body["employee_no"], body["department"], body["status"], body["hire_date"]) == (
        "E2001", "新零售部", "onboarding", "2026-11-20")
    assert response.headers["Location"].endswith("/api/v1/employees/E2001")
    assert db.session.scalar(select(Department.name)) == "新零售部"


def test_create_with_every_field_and_a_manager(client, hr_token, make_employee):
    make_employee("张伟", employee_no="M1")
    payload = {**NEW_HIRE, "position": "店员", "job_family": "sales", "manager_no": "M1", "status": "active",
               "mobile": "13900001111", "email": "sun@example.cn", "household_address": "河北省保定市",
               "contact_address": "北京市朝阳区", "work_city": "北京", "social_insurance_base": "7200.50",
               "national_id": "110105198506124561"}
    response = client.post("/api/v1/employees", json=payload, headers=auth(hr_token))
    assert response.status_code == 201, response.json
    body = response.json
    assert body["manager_no"] == "M1"
    assert body["social_insurance_base"] == "7200.50"
    assert body["national_id_masked"] == "1101**********4561"
    assert "national_id" not in body
    got = client.get("/api/v1/employees/E2001", headers=auth(hr_token)).json
    assert got["name"] == "孙丽" and got["work_city"] == "北京"


def test_a_missing_required_field_is_named(client, hr_token):
    response = client.post("/api/v1/employees", json={"name": "孙丽"}, headers=auth(hr_token))
    assert response.status_code == 422
    error = response.json["error"]
    fields = {item["field"] for item in error["errors"]}
    assert {"employee_no", "department", "hire_date"} <= fields
    assert error["field"] in fields and error["message"]


def test_domain_rules_are_enforced_and_nothing_is_written(client, hr_token):
    payload = {**NEW_HIRE, "mobile": "12345", "manager_no": "NOBODY", "national_id": "110105199003071230"}
    response = client.post("/api/v1/employees", json=payload, headers=auth(hr_token))
    assert response.status_code == 422
    fields = {item["field"]: item["message"] for item in response.json["error"]["errors"]}
    assert set(fields) == {"mobile", "manager_no", "national_id"}
    assert "NOBODY" in fields["manager_no"]
    assert db.session.scalar(select(func.count(Employee.id))) == 0
    assert db.session.scalar(select(func.count(Department.id))) == 0


def test_a_bad_date_and_an_unknown_field_are_rejected(client, hr_token):
    response = client.post("/api/v1/employees", json={**NEW_HIRE, "hire_date": "20-11-2026", "shoe": 42},
                           headers=auth(hr_token))
    assert response.status_code == 422
    fields = {item["field"] for item in response.json["error"]["errors"]}
    assert fields == {"hire_date", "shoe"}


def test_an_existing_number_is_a_conflict(client, hr_token):
    assert client.post("/api/v1/employees", json=NEW_HIRE, headers=auth(hr_token)).status_code == 201
    response = client.post("/api/v1/employees", json={**NEW_HIRE, "name": "另一个人"}, headers=auth(hr_token))
    assert response.status_code == 409
    assert response.json["error"]["field"] == "employee_no"


def test_list_pages_and_filters(client, hr_token, make_employee):
    for index in range(5):
        make_employee(f"员工{index}", employee_no=f"A{index}", department="销售部" if index % 2 else "物流部")
    page = client.get("/api/v1/employees?per_page=2&page=2", headers=auth(hr_token)).json
    assert page["total"] == 5 and [e["employee_no"] for e in page["items"]] == ["A2", "A3"]
    sales = client.get("/api/v1/employees?department=销售部", headers=auth(hr_token)).json
    assert [e["employee_no"] for e in sales["items"]] == ["A1", "A3"]
    assert client.get("/api/v1/employees?per_page=0", headers=auth(hr_token)).status_code == 422


def test_unknown_employee_is_a_json_404(client, hr_token):
    response = client.get("/api/v1/employees/NOPE", headers=auth(hr_token))
    assert response.status_code == 404 and "NOPE" in response.json["error"]["message"]


@pytest.mark.parametrize("header", [None, "Bearer nonsense", "Basic abc", "Bearer "])
def test_requests_without_a_valid_token_get_401(client, header):
    headers = {"Authorization": header} if header else {}
    response = client.get("/api/v1/employees", headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["field"] == "Authorization"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_a_revoked_token_stops_working(client, app):
    token, plain = services.create_api_token("old", "hr")
    assert client.get("/api/v1/employees", headers=auth(plain)).status_code == 200
    services.revoke_api_token(token.id)
    assert client.get("/api/v1/employees", headers=auth(plain)).status_code == 401


def test_a_browser_session_is_not_an_api_credential(login_as):
    assert login_as("hr").get("/api/v1/employees").status_code == 401


def test_the_cli_prints_the_token_alone_on_its_last_line(runner, client):
    result = runner.invoke(args=["api-token", "create", "--role", "hr", "--name", "HRIS"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("lms_") and " " not in token
    assert client.get("/api/v1/employees", headers=auth(token)).status_code == 200
    listing = runner.invoke(args=["api-token", "list"]).output
    assert "HRIS" in listing and token not in listing


def test_the_openapi_document_describes_the_employee_endpoints(client):
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.")
    post = spec["paths"]["/api/v1/employees"]["post"]
    assert {"201", "409", "422"} <= set(post["responses"])
    schema_ref = post["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    required = spec["components"]["schemas"][schema_ref]["required"]
    assert sorted(required) == ["department", "employee_no", "hire_date", "name"]
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    assert "/api/v1/employees/{employee_no}" in spec["paths"]


def test_api_errors_speak_english_unless_asked_for_chinese(client, hr_token, app):
    app.config["LMS_LOCALE"] = "zh_CN"
    bad = {**NEW_HIRE, "mobile": "123"}
    english = client.post("/api/v1/employees", json=bad, headers=auth(hr_token))
    assert english.json["error"]["message"] == "The employee was not created."
    chinese = client.post("/api/v1/employees", json=bad, headers={**auth(hr_token), "Accept-Language": "zh-CN"})
    assert chinese.json["error"]["message"] != english.json["error"]["message"]
    assert "手机" in chinese.json["error"]["errors"][0]["message"]
