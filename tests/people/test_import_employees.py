"""Import from CSV and XLSX: all rows or none, every problem reported by row and column."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from lms.extensions import db
from lms.people import services
from lms.people.models import Department, Employee
from lms.people.records import InvalidEmployeeData, read_employee_file

HEADER = "employee_no,name,department,position,job_family,manager_no,hire_date,status,mobile,email,national_id\n"


def count_employees() -> int:
    return db.session.scalar(select(func.count(Employee.id)))


def import_csv(text: str, encoding: str = "utf-8"):
    return services.save_employees(read_employee_file("staff.csv", text.encode(encoding)))


def test_a_valid_csv_creates_departments_employees_and_the_hierarchy(app):
    report = import_csv(
        HEADER
        + "M1,张伟,销售部,销售经理,sales,,2020-01-06,active,13800000001,zhang@example.cn,\n"
        + "E1,王芳,销售部,销售代表,销售,M1,2024/03/01,,+86 138 1234 5678,,110105199003071239\n"
        + "E2,刘洋,物流部,配送员,logistics,M1,2024年5月6日,在职,,,\n"
    )
    assert (report.created, report.updated) == (3, 0)
    wang = db.session.scalars(select(Employee).where(Employee.employee_no == "E1")).one()
    assert wang.manager.employee_no == "M1"
    assert wang.job_family == "sales"
    assert wang.mobile == "13812345678"
    assert wang.status == "onboarding"  # the default for a new hire
    assert wang.hire_date.isoformat() == "2024-03-01"
    assert sorted(db.session.scalars(select(Department.name))) == ["物流部", "销售部"]


def test_managers_may_appear_after_their_reports_in_the_file(app):
    import_csv(HEADER + "E1,王芳,销售部,,,M1,2024-03-01,,,,\nM1,张伟,销售部,,,,2020-01-06,,,,\n")
    assert db.session.scalars(select(Employee).where(Employee.employee_no == "E1")).one().manager.name == "张伟"


def test_every_problem_is_reported_at_once_and_nothing_is_written(app, make_employee):
    make_employee("已有员工", employee_no="OLD1", national_id="110105198506124561")
    before = count_employees()
    bad = (
        HEADER
        + "E1,王芳,销售部,,,,2024-13-01,,12345,not-an-email,\n"  # bad date, phone, e-mail
        + "E1,王芳二,销售部,,,NOBODY,2024-03-01,,,,\n"  # duplicate number, unknown manager
        + "E3,,销售部,,,,2024-03-01,retired,,,110105199003071230\n"  # no name, bad status, bad check digit
        + "E4,赵强,物流部,,pilot,,2024-03-01,,,,110105198506124561\n"  # unknown family, ID taken
        + "E5,孙丽,物流部,,,E5,2024-03-01,,,,\n"  # own manager
    )
    with pytest.raises(InvalidEmployeeData) as caught:
        import_csv(bad)
    found = {(e.row, e.field) for e in caught.value.errors}
    assert found == {
        (2, "hire_date"), (2, "mobile"), (2, "email"),
        (3, "employee_no"), (3, "manager_no"),
        (4, "name"), (4, "status"), (4, "national_id"),
        (5, "job_family"), (5, "national_id"),
        (6, "manager_no"),
    }
    messages = {(e.row, e.field): str(e.message) for e in caught.value.errors}
    assert "row 2" in messages[(3, "employee_no")]
    assert "NOBODY" in messages[(3, "manager_no")]
    assert "OLD1" in messages[(5, "national_id")]
    assert count_employees() == before
    assert db.session.scalar(select(func.count(Department.id))) == 1  # no department half-created


def test_a_reporting_cycle_is_refused(app):
    with pytest.raises(InvalidEmployeeData) as caught:
        import_csv(HEADER + "A,甲,部,,,B,2024-01-01,,,,\nB,乙,部,,,C,2024-01-01,,,,\nC,丙,部,,,A,2024-01-01,,,,\n")
    assert {(e.row, e.field) for e in caught.value.errors} == {(2, "manager_no"), (3, "manager_no"),
                                                             (4, "manager_no")}
    assert "A → B → C → A" in str(caught.value.errors[0].message)
    assert count_employees() == 0


def test_unknown_and_missing_columns_are_named(app):
    with pytest.raises(InvalidEmployeeData) as caught:
        read_employee_file("staff.csv", "工号,姓名,部门,shoe_size\nE1,王芳,销售部,42\n".encode())
    errors = {(e.row, e.field): str(e.message) for e in caught.value.errors}
    assert "shoe_size" in errors[(1, "shoe_size")]
    assert (1, "hire_date") in errors


def test_chinese_headings_and_a_gbk_file_from_excel(app):
    text = "工号,姓名,部门,入职日期,手机号,身份证号\nE1,王芳,销售部,2024-03-01,13812345678,110105199003071239\n"
    report = import_csv(text, encoding="gbk")
    assert report.created == 1
    assert db.session.scalars(select(Employee.name)).one() == "王芳"


def test_reimport_updates_and_blank_cells_keep_values(app):
    import_csv(HEADER + "E1,王芳,销售部,销售代表,sales,,2024-03-01,active,13812345678,,\n")
    report = import_csv(HEADER + "E1,王芳,市场部,,,,2024-03-01,,,new@example.cn,\n")
    assert (report.created, report.updated) == (0, 1)
    wang = db.session.scalars(select(Employee)).one()
    assert (wang.department.name, wang.position, wang.mobile, wang.email, wang.status) == (
        "市场部", "销售代表", "13812345678", "new@example.cn", "active")


def test_an_xlsx_file_with_real_dates_imports(app):
    from datetime import datetime

    book = Workbook()
    sheet = book.active
    sheet.append(["工号", "姓名", "部门", "入职日期", "社保缴费基数"])
    sheet.append([1001, "王芳", "销售部", datetime(2024, 3, 1), 8500])
    buffer = io.BytesIO()
    book.save(buffer)
    report = services.save_employees(read_employee_file("staff.xlsx", buffer.getvalue()))
    assert report.created == 1
    wang = db.session.scalars(select(Employee)).one()
    assert (wang.employee_no, str(wang.social_insurance_base)) == ("1001", "8500.00")


def test_a_damaged_xlsx_and_an_unsupported_type_are_clear_errors(app):
    with pytest.raises(InvalidEmployeeData) as caught:
        read_employee_file("staff.xlsx", b"this is not a zip file")
    assert "XLSX" in str(caught.value.errors[0].message)
    with pytest.raises(InvalidEmployeeData) as caught:
        read_employee_file("staff.pdf", b"%PDF")
    assert ".csv" in str(caught.value.errors[0].message)


def test_the_shipped_sample_file_imports(app):
    from pathlib import Path

    sample = Path(__file__).resolve().parents[2] / "content" / "samples" / "employees.csv"
    report = services.save_employees(read_employee_file(sample.name, sample.read_bytes()))
    assert report.created >= 5
    from lms.people.departments import parents_by_name

    assert parents_by_name()["华东销售部"] == "销售部"  # the 上级部门 column


def test_cli_import_reports_all_errors_and_exits_non_zero(app, runner, tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "E1,,销售部,,,,2024-02-30,,,,\n", encoding="utf-8")
    result = runner.invoke(args=["people", "import", str(path)])
    assert result.exit_code != 0
    assert "row 2, name" in result.output and "row 2, hire_date" in result.output
    assert "nothing was imported" in result.output
    good = tmp_path / "good.csv"
    good.write_text(HEADER + "E1,王芳,销售部,,,,2024-02-28,,,,\n", encoding="utf-8")
    result = runner.invoke(args=["people", "import", str(good)])
    assert result.exit_code == 0, result.output
    assert "1 created" in result.output


def test_hr_upload_page_lists_errors_and_imports_a_valid_file(login_as):
    client = login_as("hr")
    bad = HEADER + "E9,,销售部,,,,not-a-date,,,,\n"
    response = client.post("/people/import", data={"file": (io.BytesIO(bad.encode()), "staff.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "hire_date" in page and "This field is required." in page and "nothing was imported" in page
    good = HEADER + "E9,孙丽,销售部,,,,2024-03-01,,,,\n"
    response = client.post("/people/import", data={"file": (io.BytesIO(good.encode()), "staff.csv")},
                           content_type="multipart/form-data", follow_redirects=True)
    assert response.status_code == 200
    assert "孙丽" in response.get_data(as_text=True)


def test_only_hr_and_admin_may_import(login_as):
    for who in ("learner", "manager"):
        assert login_as(who).get("/people/import").status_code == 403
    assert login_as("admin").get("/people/import").status_code == 200


def test_each_saved_employee_is_an_evidence_event_without_the_id_number(app, login_as):
    from lms.evidence.models import EvidenceEvent, body_field

    client = login_as("hr")
    csv = HEADER + "E9,孙丽,销售部,,,,2024-03-01,,,,110105198506124561\n"
    client.post("/people/import", data={"file": (io.BytesIO(csv.encode()), "staff.csv")},
                content_type="multipart/form-data")
    sun = db.session.scalars(select(Employee).where(Employee.employee_no == "E9")).one()
    event = db.session.scalars(select(EvidenceEvent).where(body_field("subject") == f"employee:{sun.id}")).one()
    assert event.kind == "people.employee_created"
    assert event.payload["source"] == "upload:staff.csv"
    assert "national_id" in event.payload["fields"] and "110105198506124561" not in event.body
    assert event.actor.startswith("user:")
