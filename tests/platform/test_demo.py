"""`flask demo load`: the demo company and its printed sign-ins work."""

from __future__ import annotations

from sqlalchemy import func, select

from lms.demo import DEMO_LOGINS
from lms.extensions import db
from lms.people.models import Department, Employee


def test_demo_load_builds_a_company_whose_logins_work(app, runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert 45 <= db.session.scalar(select(func.count(Employee.id))) <= 60
    # seven top-level departments; 销售部 has 华东销售部, which has 上海销售组
    assert db.session.scalar(select(func.count(Department.id))) == 9
    assert db.session.scalar(select(func.count(Department.id)).where(Department.parent_id.is_(None))) == 7
    for username, password, _role, _no in DEMO_LOGINS:
        assert f"{username:<9} {password}" in result.output

    client = app.test_client()
    for username, password, _role, _no in DEMO_LOGINS:
        assert client.post("/login", data={"username": username, "password": password}).status_code == 302
        client.post("/logout")

    client.post("/login", data={"username": "manager", "password": "demo-manager-2026"})
    team = client.get("/people/employees?q=王芳").get_data(as_text=True)
    assert "王芳" in team  # a report of his team lead: visible through the hierarchy
    logistics = db.session.scalars(select(Employee).where(Employee.position == "配送员")).first()
    assert client.get(f"/people/employees/{logistics.id}").status_code == 404

    newhire = db.session.scalars(select(Employee).where(Employee.employee_no == "E0090")).one()
    assert newhire.status == "onboarding"


def test_demo_load_refuses_a_database_with_accounts_but_if_empty_just_prints(app, runner):
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code != 0
    quiet = runner.invoke(args=["demo", "load", "--if-empty"])
    assert quiet.exit_code == 0 and "demo-admin-2026" in quiet.output


def test_the_demo_has_certificates_and_a_new_hire_waiting_for_coaching(app, runner):
    from lms.exams.models import Certificate, CoachingTask

    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    holders = set(db.session.scalars(select(Employee.employee_no).join(
        Certificate, Certificate.employee_id == Employee.id)))
    assert "E0013" in holders and len(holders) >= 5
    waiting = db.session.scalars(select(CoachingTask)).one()
    assert db.session.get(Employee, waiting.employee_id).employee_no == "E0091"
