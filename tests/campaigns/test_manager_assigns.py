"""Managers assign refreshers to their own reports (one, the whole team at any depth, or direct reports
only), from the page and the API; anyone else is a 404. HR may assign to anyone."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from lms import clock
from lms.campaigns.models import Assignment
from lms.extensions import db
from tests.conftest import PASSWORD, auth


def assigned(employee) -> list[tuple[str, str, date]]:
    return [(a.source, a.exam_slug, a.due_on) for a in db.session.scalars(
        select(Assignment).where(Assignment.employee_id == employee.id))]


def personal_token(client, username: str) -> str:
    return client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD}).get_json()["token"]


def test_a_director_assigns_to_his_whole_team_or_his_direct_reports_from_the_page(synced, login_as, org):
    client = login_as("director")
    page = client.get("/campaigns/team")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "王芳" in text and "赵强" not in text
    form = {"course": "handbook", "exam": "onboarding", "due_on": "2099-06-30"}
    assert client.post("/campaigns/team", data={**form, "scope": "direct"}).status_code == 302
    assert assigned(org.manager) == [("manager", "onboarding", date(2099, 6, 30))]
    assert assigned(org.learner) == []
    assert client.post("/campaigns/team", data={**form, "scope": "team"}).status_code == 302
    for person in (org.manager, org.learner, org.colleague):
        assert len(assigned(person)) == (2 if person is org.manager else 1)
    assert assigned(org.outsider) == [] and assigned(org.director) == []
    listing = client.get("/campaigns/team").get_data(as_text=True)
    assert listing.count('data-test="team-assignment"') == 4 and "2099-06-30" in listing


def test_a_manager_cannot_pick_someone_outside_his_team_on_the_page(synced, login_as, org):
    client = login_as("manager")
    response = client.post("/campaigns/team", data={"scope": "chosen", "employee_no": org.outsider.employee_no,
                                                    "course": "handbook", "exam": "onboarding",
                                                    "due_on": "2099-06-30"})
    assert response.status_code == 422
    assert assigned(org.outsider) == []
    ok = client.post("/campaigns/team", data={"scope": "chosen", "employee_no": org.learner.employee_no,
                                              "course": "handbook", "exam": "onboarding", "due_on": "2099-06-30"})
    assert ok.status_code == 302 and len(assigned(org.learner)) == 1


def test_the_api_assigns_for_a_manager_only_to_his_reports_and_for_hr_to_anyone(synced, client, org, hr_token):
    with clock.frozen(clock.as_utc(datetime(2026, 6, 1, 10, 0))):
        token = personal_token(client, "manager")
        body = {"course": "handbook", "exam": "onboarding", "due_on": "2026-06-30"}
        created = client.post(f"/api/v1/employees/{org.learner.employee_no}/assignments", json=body,
                              headers=auth(token))
        assert created.status_code == 201, created.get_json()
        assert created.get_json()["status"] == "assigned" and created.get_json()["due_on"] == "2026-06-30"
        for stranger in (org.outsider, org.director, org.manager):  # not below him (nor himself): 404
            response = client.post(f"/api/v1/employees/{stranger.employee_no}/assignments", json=body,
                                   headers=auth(token))
            assert response.status_code == 404
        assert client.post("/api/v1/employees/NOPE/assignments", json=body, headers=auth(token)).status_code == 404
        learner = personal_token(client, "learner")
        assert client.post(f"/api/v1/employees/{org.colleague.employee_no}/assignments", json=body,
                           headers=auth(learner)).status_code == 403
        hr = client.post(f"/api/v1/employees/{org.outsider.employee_no}/assignments", json=body,
                         headers=auth(hr_token))
        assert hr.status_code == 201 and hr.get_json()["source"] == "hr"
        past = client.post(f"/api/v1/employees/{org.outsider.employee_no}/assignments",
                           json={**body, "due_on": "2026-05-01"}, headers=auth(hr_token))
        assert past.status_code == 422 and past.get_json()["error"]["field"] == "due_on"
    assert assigned(org.learner) == [("manager", "onboarding", date(2026, 6, 30))]
    assert assigned(org.outsider) == [("hr", "onboarding", date(2026, 6, 30))]
