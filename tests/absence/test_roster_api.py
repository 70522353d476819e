"""POST /api/v1/rosters: puts an employee on a roster for a month; 422 naming fields, 404 for nobody."""

from __future__ import annotations

from datetime import date

import pytest

from lms.absence import workdays
from tests.conftest import auth


@pytest.fixture
def staff(make_employee):
    return make_employee("孙丽", employee_no="G1", status="active")


def test_a_roster_is_saved_and_overrides_the_calendar_for_that_month(client, hr_token, staff):
    body = {"employee_no": "G1", "month": "2026-06", "working_days": ["2026-06-20", "2026-06-02", "2026-06-02"]}
    response = client.post("/api/v1/rosters", json=body, headers=auth(hr_token))
    assert response.status_code == 201, response.json
    assert response.json == {"employee_no": "G1", "shift_group": None, "month": "2026-06",
                             "working_days": ["2026-06-02", "2026-06-20"], "change": "created"}
    again = client.post("/api/v1/rosters", json=body, headers=auth(hr_token))
    assert again.status_code == 200 and again.json["change"] == "unchanged"
    # She is in no roster group (the national calendar): June follows her roster, July the calendar.
    kinds = workdays.kinds_for([staff.id], date(2026, 6, 15), date(2026, 7, 1))[staff.id]
    assert kinds[date(2026, 6, 15)].kind == "rest" and kinds[date(2026, 6, 20)].kind == "workday"
    assert kinds[date(2026, 7, 1)].kind == "workday"


def test_problems_are_422_naming_each_field(client, hr_token, staff):
    response = client.post("/api/v1/rosters", json={"employee_no": "G1", "month": "June",
                                                     "working_days": ["2026-06-02"]}, headers=auth(hr_token))
    assert response.status_code == 422 and response.json["error"]["field"] == "month"
    outside = client.post("/api/v1/rosters", headers=auth(hr_token), json={
        "employee_no": "G1", "month": "2026-06", "working_days": ["2026-06-30", "2026-07-01"]})
    assert outside.status_code == 422
    assert [e["field"] for e in outside.json["error"]["errors"]] == ["working_days"]
    assert "2026-07-01" in outside.json["error"]["errors"][0]["message"]
    empty = client.post("/api/v1/rosters", json={}, headers=auth(hr_token))
    assert empty.status_code == 422
    assert {e["field"] for e in empty.json["error"]["errors"]} == {"employee_no", "month", "working_days"}


def test_an_unknown_employee_is_404_and_a_token_is_required(client, hr_token, staff):
    response = client.post("/api/v1/rosters", json={"employee_no": "NOPE", "month": "2026-06",
                                                     "working_days": []}, headers=auth(hr_token))
    assert response.status_code == 404 and response.json["error"]["field"] == "employee_no"
    assert client.post("/api/v1/rosters", json={}).status_code == 401


def test_the_openapi_document_describes_rosters(client):
    spec = client.get("/api/v1/openapi.json").json
    assert "post" in spec["paths"]["/api/v1/rosters"]
