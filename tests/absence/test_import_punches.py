"""Importing time-clock exports: the generic layout, DingTalk's 原始记录, all-or-nothing, duplicates, work days."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms import clock
from lms.absence import punches
from lms.absence.models import AbsenceCase, Punch
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db
from lms.people import services
from lms.people.models import Employee
from lms.people.records import InvalidRecords
from tests.absence.conftest import add_leave, everyone_present, run_ticks

SAMPLES = Path(__file__).resolve().parents[2] / "content" / "samples"

DINGTALK = """\
原始记录,,,,,,,,,
统计日期：2026-06-15 至 2026-06-16,,,,,,,,,
报表生成时间：2026-06-17 09:12,,,,,,,,,
姓名,考勤组,部门,工号,考勤日期,考勤时间,打卡时间,打卡结果,打卡地址,打卡备注
王芳,标准班次,销售部,D1,26-06-15 星期一,09:00,08:51,正常,北京市朝阳区建国路88号,
王芳,标准班次,销售部,D1,26-06-15 星期一,18:00,18:07,正常,北京市朝阳区建国路88号,
刘洋,标准班次,销售部,D2,2026/6/15,09:00,,缺卡,,
刘洋,标准班次,销售部,D2,2026-06-16,09:00,09:17:30,迟到,北京市朝阳区建国路88号,
刘洋,标准班次,销售部,D2,2026-06-16,18:00,次日 00:40,正常,北京市朝阳区建国路88号,加班
"""


@pytest.fixture
def staff(make_employee):
    return {no: make_employee(name, employee_no=no, status="active")
            for no, name in (("D1", "王芳"), ("D2", "刘洋"), ("D3", "赵强"))}


def stored() -> list[tuple[str, datetime, date, str]]:
    return [tuple(row) for row in db.session.execute(
        select(Employee.employee_no, Punch.punched_at, Punch.work_day, Punch.source)
        .join(Employee, Employee.id == Punch.employee_id).order_by(Punch.punched_at))]


def local(*args) -> datetime:
    return clock.as_utc(datetime(*args))


def test_a_generic_export_with_every_accepted_time_format(app, staff):
    data = ("employee_no,punched_at,姓名\n"
            "D1,2026-06-15T08:56:12+08:00,王芳\n"
            "D1,2026-06-15 18:03,王芳\n"
            "D2,2026/06/15 09:01,刘洋\n"
            "D2,2026-06-15T10:00:00Z,刘洋\n"
            "D3,2026-06-15 08:59:30,赵强\n")
    report = punches.import_punch_file("clock.csv", data.encode(), layout="auto")
    assert (report.new, report.duplicates, report.layout) == (5, 0, "generic")
    assert report.employee_nos == ("D1", "D2", "D3") and report.days == (date(2026, 6, 15),)
    rows = stored()
    assert rows[0] == ("D1", local(2026, 6, 15, 8, 56, 12), date(2026, 6, 15), "csv:generic")
    assert ("D2", datetime(2026, 6, 15, 10, 0, tzinfo=UTC), date(2026, 6, 15), "csv:generic") in rows
    assert ("D1", local(2026, 6, 15, 18, 3), date(2026, 6, 15), "csv:generic") in rows


def test_chinese_headings_in_the_generic_layout(app, staff):
    report = punches.import_punch_file("门禁.csv", "工号,打卡时间\nD1,2026-06-15 08:50:00\n".encode())
    assert report.new == 1 and report.layout == "generic"


def test_a_gbk_dingtalk_export_with_title_rows(app, staff):
    report = punches.import_punch_file("钉钉原始记录.csv", DINGTALK.encode("gbk"))
    assert report.layout == "dingtalk"
    assert (report.new, report.duplicates, report.skipped) == (4, 0, 1)  # the 缺卡 row is no punch
    rows = stored()
    assert [(no, at) for no, at, _day, _source in rows] == [
        ("D1", local(2026, 6, 15, 8, 51)), ("D1", local(2026, 6, 15, 18, 7)),
        ("D2", local(2026, 6, 16, 9, 17, 30)), ("D2", local(2026, 6, 17, 0, 40))]
    # 次日 00:40 ends the shift of the 16th, its 考勤日期: presence on the 16th, not on the 17th.
    assert rows[-1][2] == date(2026, 6, 16)
    assert {source for *_rest, source in rows} == {"csv:dingtalk"}


def test_dingtalk_dates_in_other_spellings_and_full_times(app, staff):
    data = ("工号,考勤日期,打卡时间,打卡结果\n"
            "D1,2026年6月15日,2026-06-15 08:51:07,正常\n"
            "D2,2026/6/15,8:05,正常\n"
            "D3,2026-06-15 周一,--,\n")
    report = punches.import_punch_file("d.csv", data.encode())
    assert (report.new, report.skipped) == (2, 1)
    assert [at for _no, at, _day, _source in stored()] == [local(2026, 6, 15, 8, 5), local(2026, 6, 15, 8, 51, 7)]


def test_impossible_dates_and_times_are_errors(app, staff):
    data = "employee_no,punched_at\nD1,2026-02-30 09:00\nD2,2026-06-15 24:10\nD3,26-06-15 08:10\n"
    with pytest.raises(InvalidRecords) as caught:
        punches.import_punch_file("c.csv", data.encode())
    assert [(e.row, e.field) for e in caught.value.errors] == [(2, "punched_at"), (3, "punched_at")]


def test_a_dingtalk_xlsx_with_date_and_time_cells(app, staff):
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["原始记录"])
    sheet.append(["姓名", "工号", "考勤日期", "打卡时间", "打卡结果"])
    sheet.append(["王芳", "D1", date(2026, 6, 15), time(8, 51), "正常"])
    sheet.append(["刘洋", "D2", "26-06-15 星期一", datetime(2026, 6, 15, 9, 2), "正常"])
    sheet.append(["赵强", "D3", "26-06-15 星期一", None, "未打卡"])
    buffer = io.BytesIO()
    book.save(buffer)
    report = punches.import_punch_file("dingtalk.xlsx", buffer.getvalue())
    assert (report.new, report.skipped, report.layout) == (2, 1, "dingtalk")
    assert [(no, at, source) for no, at, _day, source in stored()] == [
        ("D1", local(2026, 6, 15, 8, 51), "xlsx:dingtalk"), ("D2", local(2026, 6, 15, 9, 2), "xlsx:dingtalk")]


def test_every_bad_row_is_reported_and_nothing_is_written(app, staff):
    data = ("employee_no,punched_at\n"
            "D1,2026-06-15 08:50\n"
            "NOPE,2026-06-15 08:51\n"
            "D2,yesterday morning\n"
            ",2026-06-15 08:52\n"
            "D3,2026-06-15\n"
            "D3,2099-01-01 09:00\n")
    with pytest.raises(InvalidRecords) as caught:
        punches.import_punch_file("clock.csv", data.encode())
    found = {(e.row, e.field) for e in caught.value.errors}
    assert found == {(3, "employee_no"), (4, "punched_at"), (5, "employee_no"), (6, "punched_at"),
                     (7, "punched_at")}
    messages = {e.row: str(e.message) for e in caught.value.errors}
    assert "NOPE" in messages[3] and "future" in messages[7]
    assert db.session.scalar(select(func.count()).select_from(Punch)) == 0
    assert db.session.scalar(select(func.count()).select_from(EvidenceEvent).where(
        body_field("kind") == "absence.punches_imported")) == 0


def test_a_dingtalk_row_names_its_columns_as_written(app, staff):
    data = "工号,考勤日期,打卡时间\nD1,someday,08:51\nD2,2026-06-15,25:99\n"
    with pytest.raises(InvalidRecords) as caught:
        punches.import_punch_file("d.csv", data.encode())
    assert {(e.row, e.field) for e in caught.value.errors} == {(2, "考勤日期"), (3, "打卡时间")}


def test_a_file_without_a_header_or_with_a_missing_column_is_refused(app, staff):
    with pytest.raises(InvalidRecords) as caught:
        punches.import_punch_file("x.csv", b"a,b\n1,2\n")
    assert caught.value.errors[0].field == "file" and "工号" in str(caught.value.errors[0].message)
    with pytest.raises(InvalidRecords) as caught:  # told DingTalk, but the file has no 考勤日期
        punches.import_punch_file("x.csv", "工号,打卡时间\nD1,08:51\n".encode(), layout="dingtalk")
    assert [(e.row, e.field) for e in caught.value.errors] == [(1, "考勤日期")]
    with pytest.raises(InvalidRecords):
        punches.import_punch_file("x.txt", b"employee_no,punched_at\n")


def test_duplicates_in_the_file_and_on_reimport_are_ignored(app, staff):
    data = (b"employee_no,punched_at\n"
            b"D1,2026-06-15 08:50:00\n"
            b"D1,2026-06-15T08:50:00+08:00\n"  # the same instant written differently
            b"D2,2026-06-15 08:55:00\n")
    first = punches.import_punch_file("clock.csv", data)
    assert (first.new, first.duplicates) == (2, 1)
    again = punches.import_punch_file("clock.csv", data)
    assert (again.new, again.duplicates, again.employee_ids) == (0, 3, ())
    assert db.session.scalar(select(func.count()).select_from(Punch)) == 2


def test_the_work_day_is_the_shift_day(app, staff):
    data = ("employee_no,punched_at\nD1,2026-06-16 00:30\nD2,2026-06-15 23:59\nD3,2026-06-15T16:30:00Z\n"
            "D1,2026-06-16 01:30\n")
    punches.import_punch_file("night.csv", data.encode())
    days = {(no, at): day for no, at, day, _source in stored()}
    # 00:30 in Beijing is 16:30 UTC the day before. Before 01:30 (the midpoint between 18:00 and
    # 09:00 of the standard day) a punch ends the previous day's shift; from 01:30 on it is the new day's.
    assert days == {("D1", local(2026, 6, 16, 0, 30)): date(2026, 6, 15),
                    ("D1", local(2026, 6, 16, 1, 30)): date(2026, 6, 16),
                    ("D2", local(2026, 6, 15, 23, 59)): date(2026, 6, 15),
                    ("D3", local(2026, 6, 16, 0, 30)): date(2026, 6, 15)}


def test_one_evidence_event_describes_the_whole_import(app, staff, org):
    data = b"employee_no,punched_at\nD1,2026-06-15 08:50\nD2,2026-06-15 08:55\nD2,2026-06-16 08:55\n"
    punches.import_punch_file("clock.csv", data, actor=org.users["hr"])
    [event] = db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "absence.punches_imported")).all()
    payload = event.payload
    assert (payload["new"], payload["source"], payload["file"]) == (3, "csv:generic", "clock.csv")
    assert payload["employees"] == ["D1", "D2"] and payload["days"] == ["2026-06-15", "2026-06-16"]
    assert payload["file_sha256"] == hashlib.sha256(data).hexdigest() and len(payload["punches_sha256"]) == 64
    punches.import_punch_file("clock.csv", data)  # nothing new: nothing to record
    assert db.session.scalar(select(func.count()).select_from(EvidenceEvent).where(
        body_field("kind") == "absence.punches_imported")) == 1


def test_a_terminated_employee_punches_are_still_facts(app, make_employee):
    make_employee("离职者", employee_no="X1", status="terminated")
    assert punches.import_punch_file("c.csv", b"employee_no,punched_at\nX1,2026-06-15 08:50\n").new == 1


def test_the_sample_files_import_cleanly(app, make_employee):
    numbers = [f"E{n:04d}" for n in (1, 2, 3, *range(10, 26))]
    services.save_employees([(i, {"employee_no": no, "name": f"员工{no}", "department": "销售部",
                                  "hire_date": date(2024, 1, 1), "status": "active"})
                             for i, no in enumerate(numbers, start=2)])
    generic = punches.import_punch_file("punches-generic.csv", (SAMPLES / "punches-generic.csv").read_bytes())
    dingtalk = punches.import_punch_file("punches-dingtalk.csv", (SAMPLES / "punches-dingtalk.csv").read_bytes())
    assert generic.layout == "generic" and generic.new > 50 and "E0013" not in generic.employee_nos
    assert dingtalk.layout == "dingtalk" and dingtalk.new > 30 and dingtalk.skipped == 6
    assert "E0013" not in dingtalk.employee_nos  # 王芳's rows are all 缺卡: the seed case's absence


def test_the_cli_imports_and_refuses_a_bad_file_with_every_problem(app, runner, staff, tmp_path):
    good = tmp_path / "punches.csv"
    good.write_text("employee_no,punched_at\nD1,2026-06-15 08:50\nD1,2026-06-15 08:50\nD2,2026-06-15 08:51\n")
    result = runner.invoke(args=["absence", "import-punches", str(good)])
    assert result.exit_code == 0, result.output
    assert "imported punches.csv (generic): 2 new, 1 duplicates" in result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("employee_no,punched_at\nD1,2026-06-17 08:50\nNOPE,2026-06-17 08:50\nD2,never\n")
    result = runner.invoke(args=["absence", "import-punches", str(bad), "--layout", "generic"])
    assert result.exit_code != 0
    assert "bad.csv: row 3, employee_no" in result.output and "bad.csv: row 4, punched_at" in result.output
    assert "nothing was imported" in result.output
    assert db.session.scalar(select(func.count()).select_from(Punch)) == 2


def test_hr_uploads_on_the_page_and_sees_every_problem(login_as, staff):
    client = login_as("hr")
    assert client.get("/absence/punches").status_code == 200
    bad = "employee_no,punched_at\nD1,2026-06-15 08:50\nNOPE,2026-06-15 08:51\nD2,garbage\n"
    response = client.post("/absence/punches", data={"file": (io.BytesIO(bad.encode()), "p.csv"), "layout": "auto"},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "2 problems found — nothing was imported" in page and "NOPE" in page and "punched_at" in page
    response = client.post("/absence/punches", data={"file": (io.BytesIO(DINGTALK.encode("gbk")), "钉钉.csv"),
                                                     "layout": "dingtalk"},
                           content_type="multipart/form-data", follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "4 new punches" in page and "1 rows without a punch" in page
    assert page.count('data-test="punch"') == 4
    filtered = client.get("/absence/punches?employee_no=D2").get_data(as_text=True)
    assert filtered.count('data-test="punch"') == 2 and "2026-06-17 00:40:00" in filtered


def test_only_hr_and_admin_see_the_punch_page(login_as):
    for who in ("learner", "manager", "outsider"):
        assert login_as(who).get("/absence/punches").status_code == 403
    assert login_as("admin").get("/absence/punches").status_code == 200


def test_a_punch_import_ends_the_open_case_of_the_employee_who_returned(absence_setup):
    org = absence_setup
    add_leave(org.learner, date(2026, 6, 1), date(2026, 6, 14))
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 19), but=[org.learner])
    run_ticks(datetime(2026, 6, 15, 11, 0), datetime(2026, 6, 15, 12, 0))
    case = db.session.scalars(select(AbsenceCase)).one()
    assert case.is_open
    with clock.frozen(local(2026, 6, 15, 14, 0)):
        punches.import_punch_file("late.csv", f"employee_no,punched_at\n{org.learner.employee_no},"
                                              f"2026-06-15 13:40\n".encode())
    db.session.refresh(case)
    assert (case.state, case.resolution) == ("resolved", "returned")
