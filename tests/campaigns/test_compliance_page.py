"""The compliance record page: 50 people a page, a department filter that takes in sub-departments, 'only
people with a finding' (late leave, counted 旷工 days, overdue refreshers — on the company's calendar day, not
UTC's), a CSV with everyone the filters keep, a manager's team only, and as many statements for 12 people as
for 70."""

from __future__ import annotations

import re
from datetime import date, datetime

from lms import clock
from lms.absence.models import AbsenceCase, CaseDay, Leave
from lms.campaigns import reports, services
from lms.campaigns.models import Assignment
from lms.extensions import db
from lms.people import departments
from lms.people.models import Department, Employee

FINDINGS = ("late_leave_requests", "absent_days", "refreshers_overdue")


def numbers(html: str) -> list[str]:
    """The employee numbers of the page's rows, in order."""
    return re.findall(r'<tr data-test="compliance-row">\s*<td[^>]*>([^<]+)</td>', html)


def leave(employee, starts_on: date, requested_at: datetime):
    db.session.add(Leave(employee_id=employee.id, type="personal", starts_on=starts_on, ends_on=starts_on,
                         source="page", created_by="hr", created_at=clock.as_utc(requested_at)))


def absent(employee, day: date):
    case = AbsenceCase(employee_id=employee.id, state="threshold_reached", first_day=day,
                       opened_at=clock.as_utc(datetime.combine(day, datetime.min.time())))
    db.session.add(case)
    db.session.flush()
    db.session.add(CaseDay(case_id=case.id, day=day, employee_id=employee.id, status="counted",
                           counted_at=case.opened_at))


def refresher(employee, due_on: date, completed_at: datetime | None = None) -> None:
    with clock.frozen(clock.as_utc(datetime(2026, 3, 1, 9, 0))):
        services.assign([employee.id], "handbook", "onboarding", due_on, "hr", source="hr")
    if completed_at is not None:
        assignment = db.session.scalars(select_assignment(employee)).one()
        assignment.completed_at = clock.as_utc(completed_at)


def select_assignment(employee):
    return db.select(Assignment).where(Assignment.employee_id == employee.id)


def test_the_page_shows_fifty_people_at_a_time_and_the_csv_everyone(synced, login_as, org, make_employee):
    for n in range(60):
        make_employee(f"学员{n}", employee_no=f"P{n:03d}")
    db.session.commit()
    everyone = sorted(db.session.scalars(db.select(Employee.employee_no)))  # 66 with the named people
    client = login_as("hr")
    first = client.get("/campaigns/compliance?year=2026").get_data(as_text=True)
    second = client.get("/campaigns/compliance?year=2026&page=2").get_data(as_text=True)
    csv = client.get("/campaigns/compliance?year=2026&format=csv").get_data(as_text=True)
    assert numbers(first) == everyone[:50] and numbers(second) == everyone[50:] == everyone[-16:]
    assert "page=2" in first and "(66)" in first
    assert [line.split(",")[0] for line in csv.strip().splitlines()[1:]] == everyone


def test_a_department_takes_in_its_sub_departments(synced, login_as, org, make_employee):
    make_employee("华东一", department="华东销售", employee_no="S001")
    make_employee("华东二", department="华东销售", employee_no="S002")
    east = db.session.scalars(db.select(Department).where(Department.name == "华东销售")).one()
    departments.set_parent(east.id, "销售部")
    sales = db.session.scalars(db.select(Department).where(Department.name == "销售部")).one()
    client = login_as("hr")
    page = client.get(f"/campaigns/compliance?year=2026&department={sales.id}").get_data(as_text=True)
    only_east = client.get(f"/campaigns/compliance?year=2026&department={east.id}").get_data(as_text=True)
    csv = client.get(f"/campaigns/compliance?year=2026&department={east.id}&format=csv").get_data(as_text=True)
    sales_people = {org.director, org.manager, org.learner, org.colleague}
    assert set(numbers(page)) == {e.employee_no for e in sales_people} | {"S001", "S002"}
    assert numbers(only_east) == ["S001", "S002"]
    assert [line.split(",")[0] for line in csv.strip().splitlines()[1:]] == ["S001", "S002"]
    assert "└ 华东销售" in page  # the tree in the department list


def test_only_people_with_a_finding_counts_the_company_day(synced, login_as, org, make_employee):
    late, on_time, away, overdue, done_late, done_in_time, open_ok, quiet = (
        make_employee(name, employee_no=f"F{n}") for n, name in enumerate(
            ("迟请假", "准时请假", "旷工", "逾期", "迟完成", "按时完成", "未到期", "无事")))
    # 3 days' notice: asked on 1 March after midnight in Shanghai (still 28 February in UTC) for the 3rd is late.
    leave(late, date(2026, 3, 3), datetime(2026, 3, 1, 0, 30))
    leave(on_time, date(2026, 3, 3), datetime(2026, 2, 28, 23, 30))
    leave(quiet, date(2025, 3, 3), datetime(2025, 3, 2, 9, 0))  # late, but another year
    absent(away, date(2026, 3, 5))
    absent(quiet, date(2025, 12, 31))
    db.session.commit()
    refresher(overdue, date(2026, 3, 10))
    refresher(done_late, date(2026, 3, 10), completed_at=datetime(2026, 3, 11, 0, 30))  # 10 March in UTC
    refresher(done_in_time, date(2026, 3, 10), completed_at=datetime(2026, 3, 10, 23, 30))
    refresher(open_ok, date(2026, 4, 30))
    db.session.commit()
    with clock.frozen(clock.as_utc(datetime(2026, 4, 1, 10, 0))):
        page = login_as("hr").get("/campaigns/compliance?year=2026&findings=1").get_data(as_text=True)
        csv = login_as("hr").get("/campaigns/compliance?year=2026&findings=1&format=csv").get_data(as_text=True)
        records = reports.compliance_many(list(db.session.scalars(db.select(Employee.id))), 2026)
    with_finding = {late, away, overdue, done_late}
    assert set(numbers(page)) == {e.employee_no for e in with_finding}
    assert {line.split(",")[0] for line in csv.strip().splitlines()[1:]} == {e.employee_no for e in with_finding}
    # The same people as the record itself counts (the filter is SQL, the record Python: they must agree).
    assert {i for i, r in records.items() if any(r[f] for f in FINDINGS)} == {e.id for e in with_finding}


def test_a_manager_sees_his_team_only(synced, login_as, org, make_employee):
    for n in range(3):
        make_employee(f"外人{n}", department="物流部", employee_no=f"X{n}")
    db.session.commit()
    client = login_as("manager")
    page = client.get("/campaigns/compliance?year=2026").get_data(as_text=True)
    csv = client.get("/campaigns/compliance?year=2026&format=csv").get_data(as_text=True)
    logistics = db.session.scalars(db.select(Department.id).where(Department.name == "物流部")).one()
    filtered = client.get(f"/campaigns/compliance?year=2026&department={logistics}").get_data(as_text=True)
    team = {org.manager.employee_no, org.learner.employee_no, org.colleague.employee_no}
    assert set(numbers(page)) == team
    assert {line.split(",")[0] for line in csv.strip().splitlines()[1:]} == team
    assert numbers(filtered) == []  # asking for another department shows nobody of it


def test_the_page_runs_the_same_statements_for_12_or_70_people(synced, login_as, org, make_employee,
                                                               count_statements):
    client = login_as("hr")

    def statements() -> int:
        client.get("/campaigns/compliance?year=2026")  # the layout's own caches warm up
        with count_statements() as seen:
            assert client.get("/campaigns/compliance?year=2026&findings=1").status_code == 200
            assert client.get("/campaigns/compliance?year=2026").status_code == 200
        return len(seen)

    def people(count: int, prefix: str) -> None:
        for n in range(count):
            person = make_employee(f"学员{prefix}{n}", employee_no=f"{prefix}{n:03d}")
            leave(person, date(2026, 3, 3), datetime(2026, 3, 2, 9, 0))  # late: each has a finding
            absent(person, date(2026, 3, 5))
        db.session.commit()
        for n in range(count):
            refresher(db.session.scalars(db.select(Employee).where(Employee.employee_no == f"{prefix}{n:03d}")).one(),
                      date(2026, 3, 10))
        db.session.commit()

    # Numbers after the named people's (T…): HR's own record stays on page 1, so the layout finds it loaded
    # both times rather than once loading it by itself.
    people(6, "U")
    few = statements()
    people(58, "V")
    assert statements() == few
