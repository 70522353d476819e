"""Departments form a tree: set by the import's parent column, the API and HR's page; cycles refused."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.people import departments, services
from lms.people.models import Department
from lms.people.records import InvalidEmployeeData
from tests.conftest import auth


def record(no, department, parent=None, **extra):
    return {"employee_no": no, "name": f"员工{no}", "department": department, "parent_department": parent,
            "hire_date": "2025-03-01", **extra}


def parents():
    return departments.parents_by_name()


def test_the_import_places_departments_under_their_parents_at_any_depth(app):
    services.save_employees([(2, record("A1", "销售部")), (3, record("A2", "华东销售部", "销售部")),
                             (4, record("A3", "上海销售组", "华东销售部"))])
    assert parents() == {"销售部": None, "华东销售部": "销售部", "上海销售组": "华东销售部"}
    shanghai = db.session.scalars(select(Department).where(Department.name == "上海销售组")).one()
    top = db.session.scalars(select(Department).where(Department.name == "销售部")).one()
    assert set(db.session.scalars(departments.subtree_of_id(top.id))) == {d.id for d in db.session.scalars(
        select(Department))}
    assert list(db.session.scalars(departments.subtree_of_id(shanghai.id))) == [shanghai.id]
    # a blank parent cell leaves the parent as it is
    services.save_employees([(2, record("A3", "上海销售组", None, name="改名"))])
    assert parents()["上海销售组"] == "华东销售部"


def test_the_import_refuses_a_cycle_and_two_parents_naming_the_rows_and_writes_nothing(app):
    services.save_employees([(2, record("B1", "华东销售部", "销售部"))])
    with pytest.raises(InvalidEmployeeData) as cycle:
        services.save_employees([(2, record("B2", "销售部", "华东销售部")), (3, record("B3", "新部门", "销售部"))])
    [problem] = cycle.value.errors
    assert (problem.row, problem.field) == (2, "parent_department")
    assert "销售部 → 华东销售部 → 销售部" in str(problem.message)
    with pytest.raises(InvalidEmployeeData) as two:
        services.save_employees([(2, record("B4", "物流部", "销售部")), (3, record("B5", "物流部", "行政部"))])
    assert [(e.row, e.field) for e in two.value.errors] == [(3, "parent_department")]
    with pytest.raises(InvalidEmployeeData) as itself:
        services.save_employees([(2, record("B6", "物流部", "物流部"))])
    assert "own parent" in str(itself.value.errors[0].message)
    assert parents() == {"销售部": None, "华东销售部": "销售部"}  # nothing half-written
    assert db.session.scalar(select(Department.id).where(Department.name.in_(["新部门", "物流部"]))) is None


def test_the_api_reads_and_reparents_departments_and_refuses_a_cycle(client, hr_token, make_employee):
    make_employee("甲", department="销售部")
    second = make_employee("乙", department="华东销售部", parent_department="销售部")
    make_employee("丙", department="上海销售组", parent_department="华东销售部")
    listed = client.get("/api/v1/departments", headers=auth(hr_token)).get_json()["items"]
    assert listed == [{"name": "销售部", "parent": None, "depth": 0},
                      {"name": "华东销售部", "parent": "销售部", "depth": 1},
                      {"name": "上海销售组", "parent": "华东销售部", "depth": 2}]
    refused = client.put("/api/v1/departments/销售部", json={"parent": "上海销售组"}, headers=auth(hr_token))
    assert refused.status_code == 422
    error = refused.get_json()["error"]
    assert error["field"] == "parent" and "销售部 → 上海销售组 → 华东销售部 → 销售部" in error["errors"][0]["message"]
    moved = client.put("/api/v1/departments/上海销售组", json={"parent": "销售部"}, headers=auth(hr_token))
    assert moved.status_code == 200 and moved.get_json() == {"name": "上海销售组", "parent": "销售部", "depth": 1}
    top = client.put("/api/v1/departments/上海销售组", json={"parent": None}, headers=auth(hr_token))
    assert top.get_json()["depth"] == 0
    assert client.put("/api/v1/departments/无此部门", json={"parent": None}, headers=auth(hr_token)).status_code == 404
    unknown = client.put("/api/v1/departments/上海销售组", json={"parent": "无此部门"}, headers=auth(hr_token))
    assert unknown.status_code == 422
    employee = client.get(f"/api/v1/employees/{second.employee_no}", headers=auth(hr_token)).get_json()
    assert employee["parent_department"] == "销售部"


def test_hr_places_a_department_on_the_page_and_a_cycle_is_refused_with_its_chain(login_as, org, make_employee):
    make_employee("丁", department="华东销售部", parent_department="销售部")
    ids = dict(db.session.execute(select(Department.name, Department.id)).all())
    hr = login_as("hr")
    page = hr.get("/people/departments").get_data(as_text=True)
    assert "华东销售部" in page and "└" in page
    refused = hr.post("/people/departments", data={"department": ids["销售部"], "parent": "华东销售部"})
    assert refused.status_code == 422
    assert "销售部 → 华东销售部 → 销售部" in refused.get_data(as_text=True)
    assert parents()["销售部"] is None
    saved = hr.post("/people/departments", data={"department": ids["物流部"], "parent": "销售部"})
    assert saved.status_code == 302 and parents()["物流部"] == "销售部"
    # the employee list of a department includes its sub-departments
    listing = hr.get(f"/people/employees?department={ids['销售部']}").get_data(as_text=True)
    assert "丁" in listing and org.outsider.name in listing
    assert login_as("manager").post("/people/departments", data={"department": ids["物流部"]}).status_code == 403
