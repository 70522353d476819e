"""HR creates a campaign over the API, previews it, launches it (one evidence event with the whole
assignment list's hash, a bounded number of statements) and reads it back."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from lms import clock
from lms.campaigns import services
from lms.campaigns.models import Assignment
from lms.courses.models import Enrollment
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db
from tests.conftest import auth

BODY = {"name": "2026年第四季度复训", "kind": "refresher", "launch_on": "2026-10-08", "due_on": "2026-11-09",
        "rules": [{"job_family": "sales", "course": "urgent", "exam": "onboarding"},
                  {"tenure_months_max": 11, "course": "handbook", "exam": "onboarding"}]}


def test_create_preview_launch_and_read_a_campaign(synced, client, hr_token, make_employee):
    seller = make_employee("销售", job_family="sales", status="active")
    newbie = make_employee("新人", job_family="office", department="行政部", hire_date=date(2026, 6, 1),
                           status="active")
    veteran = make_employee("老员工", job_family="office", department="行政部", hire_date=date(2018, 6, 1),
                            status="active")
    with clock.frozen(datetime(2026, 10, 8, 9, 0)):
        created = client.post("/api/v1/campaigns", json=BODY, headers=auth(hr_token))
        assert created.status_code == 201, created.get_json()
        campaign_id = created.get_json()["id"]
        assert created.get_json()["state"] == "draft"
        preview = client.get(f"/api/v1/campaigns/{campaign_id}/preview", headers=auth(hr_token)).get_json()
        assert [(a["employee_no"], a["rule"], a["course"]) for a in preview["assignments"]] == [
            (seller.employee_no, 1, "urgent"), (newbie.employee_no, 2, "handbook")]
        assert preview["unmatched"] == [{"employee_no": veteran.employee_no, "name": "老员工"}]
        assert preview["counts"] == {"1": 1, "2": 1}
        assert db.session.scalar(select(Assignment.id)) is None  # a preview assigns nobody
        launched = client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=auth(hr_token))
        assert launched.status_code == 200
        again = client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=auth(hr_token))
        assert again.status_code == 409
    body = launched.get_json()
    assert body["state"] == "running"
    assert body["counts"] == {"assigned": 2, "completed": 0, "overdue": 0, "passed_first_try": 0}
    assert [(a["employee_no"], a["due_on"], a["status"], a["reminders"]) for a in body["assignments"]] == [
        (seller.employee_no, "2026-11-09", "assigned", []), (newbie.employee_no, "2026-11-09", "assigned", [])]
    events = db.session.scalars(select(EvidenceEvent).where(
        body_field("kind") == "campaigns.launched")).all()
    assert len(events) == 1
    payload = events[0].payload
    expected = services.assignments_hash([(seller.employee_no, 1, "urgent", "onboarding", date(2026, 11, 9)),
                                          (newbie.employee_no, 2, "handbook", "onboarding", date(2026, 11, 9))])
    assert payload["assignments_sha256"] == expected == body["assignments_sha256"]
    assert payload["assigned"] == 2 and payload["unmatched"] == 1
    enrolled = {(e.employee_id, e.course.slug, e.due_on) for e in db.session.scalars(select(Enrollment))}
    assert enrolled == {(seller.id, "urgent", date(2026, 11, 9)), (newbie.id, "handbook", date(2026, 11, 9))}
    listed = client.get("/api/v1/campaigns?quarter=2026Q4&kind=refresher", headers=auth(hr_token)).get_json()
    assert [c["id"] for c in listed["items"]] == [campaign_id]
    assert client.get("/api/v1/campaigns?quarter=2026Q3", headers=auth(hr_token)).get_json()["items"] == []


def test_a_campaign_with_errors_lists_every_problem(synced, client, hr_token):
    bad = {**BODY, "due_on": "2026-10-01", "rules": [{"job_family": "pilots", "course": "nope", "exam": "onboarding"}]}
    response = client.post("/api/v1/campaigns", json=bad, headers=auth(hr_token))
    assert response.status_code == 422
    fields = {e["field"] for e in response.get_json()["error"]["errors"]}
    assert fields == {"due_on", "rules[1].job_family", "rules[1].course"}
    assert client.post("/api/v1/campaigns", json=BODY).status_code == 401


def test_launch_runs_the_same_statements_for_ten_or_two_hundred_people(synced, make_employee, count_statements):
    def launch_for(extra: int) -> int:
        for n in range(extra):
            make_employee(f"销售{n}", job_family="sales", status="active")
        campaign = services.create_campaign({**BODY, "name": f"规模{extra}"})
        with count_statements() as seen:
            services.launch(campaign.id)
        return len(seen)

    small = launch_for(10)
    large = launch_for(190)
    assert small == large, (small, large)
    assert db.session.scalar(select(Assignment.id).order_by(Assignment.id.desc())) is not None
