"""Recording approved leave: checks, overlaps named, files all-or-nothing, evidence, the HR page."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms import clock
from lms.absence import leave
from lms.absence.models import AbsenceCase, Leave
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db
from lms.people.records import InvalidRecords
from tests.absence.conftest import everyone_present, run_ticks


@pytest.fixture
def staff(make_employee):
    return {no: make_employee(name, employee_no=no) for no, name in
            (("L1", "王芳"), ("L2", "刘洋"), ("M1", "张伟"))}


def leave_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Leave))


def problems(exc: pytest.ExceptionInfo) -> dict[tuple[int, str], str]:
    return {(e.row, e.field): str(e.message) for e in exc.value.errors}


def test_one_leave_is_recorded_with_an_evidence_event(app, staff, org):
    saved = leave.record_leave("L1", "personal", date(2026, 6, 1), date(2026, 6, 14), "M1", "家中有事",
                               actor=org.users["hr"])
    assert (saved.type, saved.starts_on, saved.ends_on, saved.source) == (
        "personal", date(2026, 6, 1), date(2026, 6, 14), "page")
    assert saved.approved_by == "张伟 (M1)"  # an approver's employee number is stored with the name
    assert saved.created_by == f"user:{org.users['hr'].id}"
    event = db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "absence.leave_recorded")).one()
    assert event.subject == f"employee:{staff['L1'].id}"
    assert event.payload["leave_id"] == saved.id and event.payload["starts_on"] == "2026-06-01"


def test_an_approver_who_is_not_an_employee_number_is_kept_as_written(app, staff):
    assert leave.record_leave("L1", "sick", "2026-06-01", "2026-06-01", "王总").approved_by == "王总"


def test_chinese_type_names_are_accepted(app, staff):
    kinds = [leave.record_leave("L1", name, date(2026, 7, n), date(2026, 7, n)).type
             for n, name in enumerate(("事假", "病假", "年假", "婚假", "产假", "丧假", "其他"), start=1)]
    assert kinds == ["personal", "sick", "annual", "marriage", "maternity", "bereavement", "other"]


def test_every_problem_of_a_record_is_named(app, staff):
    with pytest.raises(InvalidRecords) as caught:
        leave.record_leave("NOPE", "holiday", "2026-06-10", "2026-06-01")
    found = problems(caught)
    assert set(found) == {(1, "employee_no"), (1, "type"), (1, "end")}
    assert "personal (事假)" in found[(1, "type")] and "ends before it starts" in found[(1, "end")]
    with pytest.raises(InvalidRecords) as caught:
        leave.record_leave("L1", "maternity", "2026-01-01", "2027-01-02")
    assert "more than 366 days" in problems(caught)[(1, "end")]
    with pytest.raises(InvalidRecords) as caught:
        leave.record_leave("L1", "", "June", None)
    assert set(problems(caught)) == {(1, "type"), (1, "start"), (1, "end")}
    assert leave_count() == 0


def test_overlapping_leave_names_the_record_it_overlaps(app, staff):
    first = leave.record_leave("L1", "personal", date(2026, 6, 1), date(2026, 6, 14))
    leave.record_leave("L2", "sick", date(2026, 6, 10), date(2026, 6, 12))  # someone else: no overlap
    leave.record_leave("L1", "annual", date(2026, 6, 15), date(2026, 6, 16))  # the day after: no overlap
    with pytest.raises(InvalidRecords) as caught:
        leave.record_leave("L1", "sick", date(2026, 6, 14), date(2026, 6, 14))
    [error] = caught.value.errors
    assert str(error.message) == f"Overlaps leave #{first.id} (personal leave 2026-06-01–2026-06-14)."
    assert error.code == "overlap"
    assert leave_count() == 3


def test_a_file_is_checked_whole_and_rows_overlapping_each_other_are_named(app, staff):
    data = ("工号,姓名,假期类型,开始日期,结束日期,审批人,备注\n"
            "L1,王芳,事假,2026-06-01,2026-06-14,M1,\n"
            "L1,王芳,病假,2026-06-10,2026-06-11,M1,\n"
            "L2,刘洋,年假,2026/06/01,2026/06/03,,\n"
            "L9,无名,年假,2026-06-01,2026-06-03,,\n")
    with pytest.raises(InvalidRecords) as caught:
        leave.import_leave_file("leave.csv", data.encode("gbk"))
    found = problems(caught)
    assert set(found) == {(3, "start"), (5, "employee_no")}
    assert found[(3, "start")] == "Overlaps row 2 (personal leave 2026-06-01–2026-06-14)."
    assert leave_count() == 0
    fixed = data.replace("L1,王芳,病假,2026-06-10,2026-06-11", "L1,王芳,病假,2026-06-15,2026-06-16").replace(
        "L9,无名,年假,2026-06-01,2026-06-03,,\n", "")
    saved = leave.import_leave_file("leave.csv", fixed.encode("gbk"))
    assert [(x.type, x.source) for x in saved] == [("personal", "csv"), ("sick", "csv"), ("annual", "csv")]
    assert db.session.scalar(select(func.count()).select_from(EvidenceEvent).where(
        body_field("kind") == "absence.leave_recorded")) == 3


def test_unknown_and_missing_columns_are_refused(app, staff):
    with pytest.raises(InvalidRecords) as caught:
        leave.import_leave_file("leave.csv", b"employee_no,kind,start\nL1,sick,2026-06-01\n")
    assert set(problems(caught)) == {(1, "kind"), (1, "type"), (1, "end")}


def test_the_sample_file_imports(app, make_employee):
    for no in ("E0013", "E0010", "E0016", "E0030", "E0024", "E0036", "E0002", "E0027"):
        make_employee("员工", employee_no=no)
    sample = Path(__file__).resolve().parents[2] / "content" / "samples" / "leave.csv"
    saved = leave.import_leave_file("leave.csv", sample.read_bytes())
    assert len(saved) == 5 and saved[0].approved_by == "员工 (E0010)"


def test_the_cli_imports_leave_and_refuses_a_bad_file(app, runner, staff, tmp_path):
    path = tmp_path / "leave.csv"
    path.write_text("employee_no,type,start,end\nL1,事假,2026-06-01,2026-06-14\n")
    result = runner.invoke(args=["absence", "import-leave", str(path)])
    assert result.exit_code == 0 and "imported leave.csv: 1 leave records" in result.output
    result = runner.invoke(args=["absence", "import-leave", str(path)])
    assert result.exit_code != 0 and "leave.csv: row 2, start: Overlaps leave #" in result.output
    assert leave_count() == 1


def test_cancelling_leave_deletes_it_and_keeps_it_in_the_evidence(app, staff, org):
    saved = leave.record_leave("L1", "personal", date(2026, 6, 1), date(2026, 6, 14))
    with pytest.raises(InvalidRecords):
        leave.cancel_leave(saved.id, "  ", actor=org.users["hr"])
    leave.cancel_leave(saved.id, "录入错误：日期写错", actor=org.users["hr"])
    assert leave_count() == 0
    event = db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "absence.leave_cancelled")).one()
    assert event.payload["reason"] == "录入错误：日期写错" and event.payload["ends_on"] == "2026-06-14"
    leave.record_leave("L1", "personal", date(2026, 6, 1), date(2026, 6, 10))  # no longer overlaps


def test_hr_records_leave_on_the_page(login_as, staff):
    client = login_as("hr")
    response = client.post("/absence/leave", data={
        "action": "one", "one-employee_no": "L1", "one-type": "personal", "one-start": "2026-06-01",
        "one-end": "2026-06-14", "one-approved_by": "M1", "one-note": ""}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and page.count('data-test="leave"') == 1 and "张伟 (M1)" in page
    clash = client.post("/absence/leave", data={
        "action": "one", "one-employee_no": "L1", "one-type": "sick", "one-start": "2026-06-14",
        "one-end": "2026-06-20"})
    assert clash.status_code == 422 and "Overlaps leave #" in clash.get_data(as_text=True)
    bad_file = "employee_no,type,start,end\nL2,vacation,2026-06-01,2026-06-02\nNOPE,sick,2026-06-01,2026-06-02\n"
    upload = client.post("/absence/leave", data={"action": "file", "file-file": (io.BytesIO(bad_file.encode()),
                                                                                   "leave.csv")},
                         content_type="multipart/form-data")
    page = upload.get_data(as_text=True)
    assert upload.status_code == 422 and "2 problems found" in page and "NOPE" in page
    assert client.get("/absence/leave?employee_no=L2").get_data(as_text=True).count('data-test="leave"') == 0


def test_hr_removes_leave_on_the_page(login_as, staff):
    saved = leave.record_leave("L1", "personal", date(2026, 6, 1), date(2026, 6, 14))
    client = login_as("hr")
    assert client.post(f"/absence/leave/{saved.id}/cancel", data={"reason": ""}).status_code == 303
    assert leave_count() == 1
    assert client.post(f"/absence/leave/{saved.id}/cancel", data={"reason": "重复录入"}).status_code == 303
    assert leave_count() == 0
    assert client.post(f"/absence/leave/{saved.id}/cancel", data={"reason": "again"}).status_code == 404


def test_only_hr_and_admin_see_the_leave_page(login_as):
    for who in ("learner", "manager", "outsider"):
        assert login_as(who).get("/absence/leave").status_code == 403
    assert login_as("admin").get("/absence/leave").status_code == 200


def test_leave_entered_late_resolves_a_case_it_covers(absence_setup):
    org = absence_setup
    leave.record_leave(org.learner.employee_no, "personal", date(2026, 6, 1), date(2026, 6, 14))
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 19), but=[org.learner])
    run_ticks(datetime(2026, 6, 15, 11, 0), datetime(2026, 6, 15, 12, 0))
    case = db.session.scalars(select(AbsenceCase)).one()
    assert (case.first_day, case.is_open) == (date(2026, 6, 15), True)
    with clock.frozen(clock.as_utc(datetime(2026, 6, 15, 12, 30))):
        leave.record_leave(org.learner.employee_no, "sick", date(2026, 6, 15), date(2026, 6, 16), "张伟")
    db.session.refresh(case)
    assert (case.state, case.resolution) == ("resolved", "leave")
