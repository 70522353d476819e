"""/api/v1/courses and /api/v1/employees/{no}/training."""

from __future__ import annotations

import re

from sqlalchemy import select

from lms.courses import services as courses
from lms.courses.models import Course
from lms.extensions import db
from lms.people import services


def test_course_versions_and_an_employees_training_record(app, client, content, org, login_as):
    content.sync()
    handbook = db.session.scalars(select(Course).where(Course.slug == "handbook")).one()
    courses.enrol([org.learner.id], handbook.id, source="hr")
    reader = login_as("learner")
    page = reader.get("/courses/handbook/chapters/leave-and-absence").get_data(as_text=True)
    sha = re.search(r'name="chapter_sha256" type="hidden" value="([0-9a-f]+)"', page).group(1)
    reader.post("/courses/handbook/chapters/leave-and-absence/attest", data={"chapter_sha256": sha})
    token = services.create_api_token("hris", "hr")[1]
    headers = {"Authorization": f"Bearer {token}"}

    versions = client.get("/api/v1/courses", headers=headers).json["items"]
    assert {(v["course"], v["number"]) for v in versions} == {("handbook", 1), ("urgent", 1)}
    book = next(v for v in versions if v["course"] == "handbook")
    assert book["rules_version"] == "2026-01" and book["chapters"][1]["rules"] == ["leave.notice",
                                                                                    "absence.threshold"]

    training = client.get(f"/api/v1/employees/{org.learner.employee_no}/training", headers=headers).json
    assert [e["course"] for e in training["enrollments"]] == ["handbook"]
    [attestation] = training["attestations"]
    assert (attestation["course"], attestation["course_version"], attestation["chapter"]) == (
        "handbook", 1, "leave-and-absence")
    assert attestation["chapter_sha256"] == sha and attestation["rules_version"] == "2026-01"
    assert client.get("/api/v1/employees/NOPE/training", headers=headers).status_code == 404
    assert client.get("/api/v1/courses").status_code == 401
    spec = client.get("/api/v1/openapi.json").json
    assert "/api/v1/employees/{employee_no}/training" in spec["paths"] and "/api/v1/courses" in spec["paths"]
