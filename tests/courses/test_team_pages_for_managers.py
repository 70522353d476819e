"""The manager's team pages: the courses his team is enrolled in, never himself, exam results, certificates
and the current refresher; missing confirmations by course and chapter; a checklist to assign a refresher."""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import select

from lms.campaigns.models import Assignment
from lms.courses import services
from lms.courses.models import Course
from lms.extensions import db


def _course_id(slug: str) -> int:
    return db.session.scalar(select(Course.id).where(Course.slug == slug))


def test_team_progress_opens_on_the_team_s_courses_without_the_manager(login_as, content, org):
    content.sync()
    services.enrol([org.learner.id, org.colleague.id], _course_id("handbook"), source="hr")
    services.enrol([org.manager.id], _course_id("urgent"), source="hr")  # his own, not his team's
    page = login_as("manager").get("/courses/team").get_data(as_text=True)
    offered = re.findall(r'<option value="([^"]+)"', page)
    assert offered == ["handbook"]
    rows = re.findall(r'<tr data-test="team-row">(.*?)</tr>', page, flags=re.S)
    assert len(rows) == 2 and not any("张伟" in row for row in rows)
    for column in ("team-result", "team-certificate", "team-refresher"):
        assert page.count(f'data-test="{column}"') == 2


def test_the_team_row_shows_the_current_refresher(login_as, content, org):
    content.sync()
    services.enrol([org.learner.id], _course_id("handbook"), source="hr")
    from lms.campaigns import services as campaigns

    campaigns.assign([org.learner.id], "handbook", "onboarding", date(2099, 6, 30), org.users["hr"], source="hr")
    page = login_as("manager").get("/courses/team?course=handbook").get_data(as_text=True)
    learner = next(row for row in re.findall(r'<tr data-test="team-row">(.*?)</tr>', page, flags=re.S)
                   if "王芳" in row)
    assert "2099-06-30" in re.search(r'data-test="team-refresher">(.*?)</td>', learner, flags=re.S).group(1)


def test_missing_confirmations_name_the_course_and_list_only_the_team_s_courses(login_as, content, org):
    content.sync()
    services.enrol([org.learner.id], _course_id("handbook"), source="hr")
    page = login_as("manager").get("/courses/attestations").get_data(as_text=True)
    chapters = re.findall(r'data-test="missing-chapter">([^<]+)<', page)
    assert chapters and all(" · " in chapter for chapter in chapters)
    handbook = services.current_version(_course_id("handbook")).title_en
    assert all(chapter.startswith(handbook) for chapter in chapters)
    rows = re.findall(r'<tr data-test="missing-row">(.*?)</tr>', page, flags=re.S)
    assert rows and not any("张伟" in row for row in rows)  # the manager himself is not listed


def test_assigning_picks_people_from_a_checklist_of_the_team(login_as, content, org):
    content.sync()
    client = login_as("manager")
    page = client.get("/campaigns/team").get_data(as_text=True)
    boxes = re.findall(r'<input[^>]*type="checkbox"[^>]*name="employee_no"[^>]*>|'
                       r'<input[^>]*name="employee_no"[^>]*type="checkbox"[^>]*>', page)
    assert len(boxes) == 2 and 'type="text" name="employee_no"' not in page
    response = client.post("/campaigns/team", data={
        "scope": "chosen", "employee_no": [org.learner.employee_no, org.colleague.employee_no],
        "course": "handbook", "exam": "onboarding", "due_on": "2099-06-30"})
    assert response.status_code == 302
    assigned = set(db.session.scalars(select(Assignment.employee_id)))
    assert assigned == {org.learner.id, org.colleague.id}
    nobody = client.post("/campaigns/team", data={"scope": "chosen", "course": "handbook", "exam": "onboarding",
                                                  "due_on": "2099-06-30"})
    assert nobody.status_code == 422 and "tick the people" in nobody.get_data(as_text=True)


def test_the_case_page_leads_a_manager_back_to_his_team_s_cases(login_as, served_case):
    page = login_as("manager").get(f"/absence/cases/{served_case.id}").get_data(as_text=True)
    assert re.search(r'<a href="/absence/team" data-test="case-back">', page)
    page = login_as("hr").get(f"/absence/cases/{served_case.id}").get_data(as_text=True)
    assert re.search(r'<a href="/absence/" data-test="case-back">', page)
