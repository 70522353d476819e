"""POST and GET /api/v1/leaves: types, inclusive dates, overlaps named (409), errors by field."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.absence.models import LEAVE_TYPES, Leave
from lms.extensions import db
from tests.conftest import auth


@pytest.fixture
def staff(make_employee):
    return [make_employee("王芳", employee_no="A1"), make_employee("张伟", employee_no="A2")]


def test_each_leave_type_is_accepted_and_listed(client, hr_token, staff):
    for n, kind in enumerate(LEAVE_TYPES, start=1):
        response = client.post("/api/v1/leaves", headers=auth(hr_token), json={
            "employee_no": "A1", "type": kind, "start": f"2026-07-{n:02d}", "end": f"2026-07-{n:02d}"})
        assert response.status_code == 201, response.json
        assert response.json["type"] == kind and response.json["source"] == "api:hris"
    listed = client.get("/api/v1/leaves?employee_no=A1", headers=auth(hr_token))
    assert listed.status_code == 200
    assert [item["type"] for item in listed.json["items"]] == list(LEAVE_TYPES)


def test_the_seed_leave_with_an_approver_number(client, hr_token, staff):
    response = client.post("/api/v1/leaves", headers=auth(hr_token), json={
        "employee_no": "A1", "type": "personal", "start": "2026-06-01", "end": "2026-06-14", "approved_by": "A2",
        "note": "家中有事"})
    assert response.status_code == 201
    body = response.json
    assert (body["employee_no"], body["start"], body["end"], body["approved_by"]) == (
        "A1", "2026-06-01", "2026-06-14", "张伟 (A2)")


def test_overlap_is_a_409_naming_the_stored_leave(client, hr_token, staff):
    first = client.post("/api/v1/leaves", headers=auth(hr_token), json={
        "employee_no": "A1", "type": "personal", "start": "2026-06-01", "end": "2026-06-14"}).json
    response = client.post("/api/v1/leaves", headers=auth(hr_token), json={
        "employee_no": "A1", "type": "sick", "start": "2026-06-14", "end": "2026-06-15"})
    assert response.status_code == 409
    assert response.json["error"]["errors"][0] == {
        "field": "start", "message": f"Overlaps leave #{first['id']} (personal leave 2026-06-01–2026-06-14)."}


def test_bad_fields_are_422_naming_each(client, hr_token, staff):
    response = client.post("/api/v1/leaves", headers=auth(hr_token), json={
        "employee_no": "A1", "type": "holiday", "start": "2026-13-01"})
    assert response.status_code == 422
    assert {e["field"] for e in response.json["error"]["errors"]} == {"type", "start", "end"}
    response = client.post("/api/v1/leaves", headers=auth(hr_token), json={
        "employee_no": "NOPE", "type": "sick", "start": "2026-06-02", "end": "2026-06-01"})
    assert response.status_code == 422
    assert {e["field"] for e in response.json["error"]["errors"]} == {"employee_no", "end"}
    assert db.session.scalar(select(func.count()).select_from(Leave)) == 0


def test_listing_an_unknown_employee_is_404(client, hr_token, staff):
    response = client.get("/api/v1/leaves?employee_no=NOPE", headers=auth(hr_token))
    assert response.status_code == 404 and response.json["error"]["field"] == "employee_no"
    assert client.get("/api/v1/leaves", headers=auth(hr_token)).status_code == 422


def test_a_token_is_required(client, staff):
    assert client.get("/api/v1/leaves?employee_no=A1").status_code == 401
    assert client.post("/api/v1/leaves", json={}).status_code == 401
