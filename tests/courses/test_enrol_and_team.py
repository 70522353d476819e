"""Enrolment (new hires automatically, managers for their team, HR for anyone) and the team views."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, insert, select

from lms.courses import services
from lms.courses.models import Course, Enrollment
from lms.extensions import db
from lms.people.models import Department, Employee


def handbook_id() -> int:
    return db.session.scalar(select(Course.id).where(Course.slug == "handbook"))


def test_new_hires_are_enrolled_in_onboarding_courses(app, content, make_employee):
    content.sync()
    newcomer = make_employee("新员工", status="onboarding")
    veteran = make_employee("老员工", status="active")
    enrolled = set(db.session.scalars(select(Enrollment.employee_id).where(Enrollment.course_id == handbook_id())))
    assert newcomer.id in enrolled and veteran.id not in enrolled
    assert services.enrol_new_hires() == 0  # idempotent


def test_a_manager_enrols_his_team_but_not_others(login_as, content, org):
    content.sync()
    client = login_as("manager")
    refused = client.post("/courses/handbook/enrol", data={
        "employee_numbers": f"{org.learner.employee_no}\n{org.outsider.employee_no}", "due_on": "2026-12-31"})
    assert refused.status_code == 422 and org.outsider.employee_no in refused.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Enrollment.id))) == 0
    ok = client.post("/courses/handbook/enrol", data={
        "employee_numbers": f"{org.learner.employee_no}, {org.colleague.employee_no}", "due_on": "2026-12-31"})
    assert ok.status_code == 302
    rows = db.session.scalars(select(Enrollment)).all()
    assert {r.employee_id for r in rows} == {org.learner.id, org.colleague.id}
    assert {r.due_on for r in rows} == {date(2026, 12, 31)} and {r.source for r in rows} == {"manager"}
    assert login_as("learner").get("/courses/handbook/enrol").status_code == 403


def test_the_team_view_and_missing_confirmations(login_as, content, org):
    content.sync()
    services.enrol([org.learner.id], handbook_id(), source="hr")
    team = login_as("manager").get("/courses/team?course=handbook").get_data(as_text=True)
    assert team.count('data-test="team-row"') == 2  # the learner, her colleague; never the manager himself
    assert "赵强" not in team
    missing = login_as("hr").get("/courses/attestations").get_data(as_text=True)
    assert "王芳" in missing and "请假与旷工" not in missing  # English page: chapter titles in English
    assert "Leave and absence" in missing


def test_the_team_view_for_10000_people_takes_a_bounded_number_of_queries(login_as, content, org, count_statements):
    content.sync()
    course_id = handbook_id()
    department_id = db.session.scalar(select(Department.id))
    first_id = db.session.scalar(select(func.max(Employee.id))) + 1
    db.session.execute(insert(Employee), [
        {"id": first_id + n, "employee_no": f"B{n:05d}", "name": f"员工{n}", "department_id": department_id,
         "manager_id": org.manager.id if n % 2 else org.learner.id, "hire_date": date(2025, 1, 1),
         "status": "active"} for n in range(10_000)])
    db.session.execute(insert(Enrollment), [
        {"employee_id": first_id + n, "course_id": course_id, "source": "hr", "assigned_by": "system"}
        for n in range(10_000)])
    db.session.commit()
    client = login_as("manager")
    with count_statements() as statements:
        response = client.get("/courses/team?course=handbook")
    assert response.status_code == 200
    assert response.get_data(as_text=True).count('data-test="team-row"') == 2000  # one page
    assert len(statements) <= 16, statements  # with the exam, certificate and refresher columns: 4 more
