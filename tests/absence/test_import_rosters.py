"""Roster files: all rows or none, every row's problem listed; a replaced month is a new evidence event."""

from __future__ import annotations

from datetime import date, time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from lms.absence import rosters, schedules
from lms.absence.models import RosterDay, RosterMonth
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db
from lms.people.records import InvalidRecords

SAMPLES = Path(__file__).resolve().parents[2] / "content" / "samples"


@pytest.fixture
def staff(make_employee):
    schedules.save_shift_group("保安班", time(8), time(20), pattern="roster")
    schedules.save_shift_group("行政班", time(9), time(18))
    return [make_employee(f"员工{n}", employee_no=f"R{n}", status="active") for n in range(1, 3)]


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(RosterMonth))


def _events() -> list[dict]:
    return [e.payload for e in db.session.scalars(select(EvidenceEvent).where(
        body_field("kind") == "absence.roster_saved").order_by(EvidenceEvent.seq))]


def test_a_file_with_any_bad_row_saves_nothing_and_lists_every_row(app, staff):
    data = ("工号,班组,月份,出勤日期,姓名\n"
            "R1,,2026-06,\"1-5, 8, 2026-06-09\",员工1\n"
            "NOPE,,2026-06,1-5,\n"
            "R2,,2026-13,1-5,\n"
            "R2,,2026-06,\"2026-07-01\",\n"
            ",行政班,2026-06,1-5,\n"
            ",,2026-06,1,\n"
            "R1,,2026年6月,3,\n")
    with pytest.raises(InvalidRecords) as caught:
        rosters.import_roster_file("排班.csv", data.encode())
    assert {(e.row, e.field) for e in caught.value.errors} == {
        (3, "employee_no"), (4, "month"), (5, "working_days"), (6, "shift_group"), (7, "employee_no"),
        (8, "month")}
    assert "not in 2026-06" in str(next(e.message for e in caught.value.errors if e.row == 5))
    assert "row 2" in str(next(e.message for e in caught.value.errors if e.row == 8))
    assert _count() == 0 and _events() == []


def test_a_good_file_saves_every_roster_and_a_replacement_names_what_changed(app, staff, org):
    data = "employee_no,shift_group,month,working_days\nR1,,2026-06,\"1-5, 8\"\n,保安班,2026-06,1-30\nR2,,2026-06,无\n"
    saved = rosters.import_roster_file("roster.csv", data.encode(), actor=org.users["hr"])
    assert [(s.label, s.change, len(s.working_days)) for s in saved] == [
        ("R1", "created", 6), ("保安班", "created", 30), ("R2", "created", 0)]
    first = _events()
    assert [(e.get("employee_no"), e.get("shift_group"), e["month"]) for e in first] == [
        ("R1", None, "2026-06"), (None, "保安班", "2026-06"), ("R2", None, "2026-06")]
    assert first[0]["working_days"][:2] == ["2026-06-01", "2026-06-02"] and "replaces" not in first[0]
    again = rosters.import_roster_file("roster.csv", data.replace('"1-5, 8"', '"1-4, 8, 9"').encode())
    assert [s.change for s in again] == ["replaced", "unchanged", "unchanged"]
    replaced = _events()[-1]
    assert len(_events()) == 4 and replaced["replaces"] == {"added": ["2026-06-09"], "removed": ["2026-06-05"]}
    days = db.session.scalars(select(RosterDay.day).join(RosterMonth).where(
        RosterMonth.employee_id == staff[0].id).order_by(RosterDay.day)).all()
    assert days == [date(2026, 6, d) for d in (1, 2, 3, 4, 8, 9)]


def test_hr_uploads_a_roster_and_sees_the_month(login_as, staff):
    client = login_as("hr")
    bad = client.post("/absence/rosters", data={"action": "file", "file-file": (
        __import__("io").BytesIO(b"employee_no,month,working_days\nR1,2026-06,40\n"), "r.csv")},
        content_type="multipart/form-data")
    assert bad.status_code == 422 and 'data-test="row-errors"' in bad.get_data(as_text=True)
    good = client.post("/absence/rosters", data={"action": "file", "file-file": (
        __import__("io").BytesIO("工号,月份,出勤日期\nR1,2026-06,\"1-5\"\nR2,2026-06,\"6, 7\"\n".encode()),
        "r.csv")}, content_type="multipart/form-data")
    assert good.status_code == 302
    page = client.get("/absence/rosters?month=2026-06").get_data(as_text=True)
    assert page.count('data-test="roster-row"') == 2 and "R1" in page and "R2" in page
    one = client.post("/absence/rosters", data={"action": "one", "one-target": "保安班", "one-month": "2026-07",
                                                "one-working_days": "1-31"})
    assert one.status_code == 302 and _count() == 3
    wrong = client.post("/absence/rosters", data={"action": "one", "one-target": "R1", "one-month": "2026-07",
                                                  "one-working_days": "2026-08-01"})
    assert wrong.status_code == 422 and "not in 2026-07" in wrong.get_data(as_text=True)
    assert login_as("learner").get("/absence/rosters").status_code == 403


def test_the_sample_file_reads_cleanly(app):
    records = rosters.read_roster_file("rosters.csv", (SAMPLES / "rosters.csv").read_bytes())
    assert records and all(set(raw) <= set(rosters.HEADINGS) for _row, raw in records)
    for _row, raw in records:
        month = rosters.parse_month(raw["month"])
        assert month is not None and rosters.parse_working_days(raw["working_days"], month)[1] is None
