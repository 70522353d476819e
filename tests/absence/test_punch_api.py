"""POST /api/v1/punches: a batch stored whole or not at all, duplicates ignored, every row error listed."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from lms import clock
from lms.absence.models import Punch
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db
from lms.people import services as people
from tests.conftest import auth


@pytest.fixture
def staff(make_employee):
    return [make_employee(name, employee_no=no) for no, name in (("P1", "王芳"), ("P2", "刘洋"))]


def count() -> int:
    return db.session.scalar(select(func.count()).select_from(Punch))


def test_a_good_batch_is_stored(client, hr_token, staff):
    batch = {"punches": [{"employee_no": "P1", "punched_at": "2026-06-15T08:56:12+08:00"},
                         {"employee_no": "P2", "punched_at": "2026-06-15 09:01"},
                         {"employee_no": "P2", "punched_at": "2026-06-16T00:30:00"}]}
    response = client.post("/api/v1/punches", json=batch, headers=auth(hr_token))
    assert response.status_code == 201, response.json
    assert response.json == {"new": 3, "duplicates": 0, "employees": ["P1", "P2"],
                             "days": ["2026-06-15"]}  # 00:30 on the 16th ends the shift of the 15th
    punch = db.session.scalars(select(Punch).where(Punch.employee_id == staff[0].id)).one()
    assert punch.punched_at == clock.as_utc(datetime(2026, 6, 15, 8, 56, 12)) and punch.source == "api:hris"
    event = db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "absence.punches_imported")).one()
    assert event.payload["new"] == 3 and len(event.payload["request_sha256"]) == 64


def test_a_token_named_in_words_imports_punches(client, staff):
    """An integration token's name is free text ("HRIS sync", 考勤机): the import still records its event,
    under the channel, with the token's name in the payload (it once answered 500)."""
    token = people.create_api_token("考勤机 HRIS sync", "hr")[1]
    batch = {"punches": [{"employee_no": "P1", "punched_at": "2026-06-15T08:56:12+08:00"}]}
    response = client.post("/api/v1/punches", json=batch, headers=auth(token))
    assert response.status_code == 201, response.json
    event = db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "absence.punches_imported")).one()
    assert event.subject == "punches:api" and event.payload["source"] == "api:考勤机 HRIS sync"


def test_duplicates_in_the_batch_and_already_stored_are_ignored(client, hr_token, staff):
    one = {"employee_no": "P1", "punched_at": "2026-06-15T08:56:00+08:00"}
    same = {"employee_no": "P1", "punched_at": "2026-06-15T00:56:00Z"}  # the same instant
    response = client.post("/api/v1/punches", json={"punches": [one, same]}, headers=auth(hr_token))
    assert response.status_code == 201 and (response.json["new"], response.json["duplicates"]) == (1, 1)
    again = client.post("/api/v1/punches", json={"punches": [one]}, headers=auth(hr_token))
    assert again.status_code == 200 and again.json == {"new": 0, "duplicates": 1, "employees": [], "days": []}
    assert count() == 1


def test_a_batch_with_bad_rows_is_refused_whole_listing_every_row(client, hr_token, staff):
    batch = {"punches": [{"employee_no": "P1", "punched_at": "2026-06-15T08:56:00+08:00"},
                         {"employee_no": "NOPE", "punched_at": "2026-06-15T08:57:00+08:00"},
                         {"employee_no": "P2", "punched_at": "soon"},
                         {"employee_no": "P2"},
                         {"punched_at": "2099-06-15T08:00:00+08:00"}]}
    response = client.post("/api/v1/punches", json=batch, headers=auth(hr_token))
    assert response.status_code == 422
    error = response.json["error"]
    assert {(e["row"], e["field"]) for e in error["errors"]} == {
        (2, "employee_no"), (3, "punched_at"), (4, "punched_at"), (5, "employee_no"), (5, "punched_at")}
    assert "NOPE" in next(e["message"] for e in error["errors"] if e["row"] == 2)
    assert "5 problem(s)" in error["message"]
    assert count() == 0


def test_a_malformed_body_is_a_422_naming_the_field(client, hr_token, staff):
    for body in ({}, {"punches": []}, {"punches": "P1"}, {"punches": [{"employee_no": "P1", "when": "x"}]}):
        response = client.post("/api/v1/punches", json=body, headers=auth(hr_token))
        assert response.status_code == 422, body
        assert response.json["error"]["errors"][0]["field"].startswith("punches")


def test_a_token_is_required_and_personal_tokens_are_refused(client, staff, make_user):
    batch = {"punches": [{"employee_no": "P1", "punched_at": "2026-06-15T08:56:00+08:00"}]}
    assert client.post("/api/v1/punches", json=batch).status_code == 401
    make_user("wang", "employee", staff[0])
    token = client.post("/api/v1/auth/token", json={"username": "wang", "password": "correct-horse-battery"})
    assert token.status_code == 201, token.json
    refused = client.post("/api/v1/punches", json=batch, headers=auth(token.json["token"]))
    assert refused.status_code == 403 and count() == 0


def test_the_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert "post" in paths["/api/v1/punches"]
    assert {"get", "post"} <= set(paths["/api/v1/leaves"])


def test_work_days_from_the_api_are_shift_days(client, hr_token, staff):
    batch = {"punches": [{"employee_no": "P1", "punched_at": "2026-06-15T16:30:00Z"},  # 00:30 local on the 16th
                         {"employee_no": "P2", "punched_at": "2026-06-15T23:59:00+08:00"}]}
    client.post("/api/v1/punches", json=batch, headers=auth(hr_token))
    days = dict(db.session.execute(select(Punch.employee_id, Punch.work_day)).all())
    # 00:30 is before the standard day's cut-off (01:30): the end of the 15th's shift.
    assert days == {staff[0].id: date(2026, 6, 15), staff[1].id: date(2026, 6, 15)}
