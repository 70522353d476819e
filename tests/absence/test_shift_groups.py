"""Shift groups: the built-in 09:00–18:00 day, groups made default, employees moved in and back."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest
from sqlalchemy import select

from lms import clock
from lms.absence import schedules
from lms.absence.models import ShiftAssignment, ShiftGroup
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db


@pytest.fixture
def staff(make_employee):
    return [make_employee(f"员工{n}", employee_no=f"S{n}", status="active") for n in range(1, 4)]


def test_without_groups_everyone_works_the_standard_day(app, staff):
    shift = schedules.shift_for(staff[0].id)
    assert (shift.group_id, shift.starts_at, shift.ends_at) == (None, time(9), time(18))
    assert shift.start_on(date(2026, 6, 15)) == clock.as_utc(datetime(2026, 6, 15, 9, 0))


def test_a_group_made_default_replaces_the_previous_default(app, staff, org):
    early = schedules.save_shift_group("早班", time(7), time(16), is_default=True, actor=org.users["hr"])
    assert schedules.default_shift().group_id == early.id
    late = schedules.save_shift_group("晚班", time(12), time(21), is_default=True)
    assert schedules.default_shift().group_id == late.id
    assert db.session.get(ShiftGroup, early.id).is_default is False
    with pytest.raises(schedules.ScheduleError):
        schedules.save_shift_group("晚班", time(8), time(17))  # the name is taken
    with pytest.raises(schedules.ScheduleError):
        schedules.save_shift_group("夜班", time(22), time(6))  # shifts end the day they start


def test_assigning_moves_employees_and_back_to_the_default(app, staff):
    group = schedules.save_shift_group("仓库班", time(8), time(17))
    assert schedules.assign(["S1", "S2"], group.id) == 2
    assert schedules.shift_for(staff[0].id).group_id == group.id
    assert schedules.assign(["S2", "S3"], group.id) == 2  # S2 already there: still one row each
    assert db.session.scalar(select(ShiftAssignment.shift_group_id).where(
        ShiftAssignment.employee_id == staff[1].id)) == group.id
    groups, unassigned = schedules.groups_with_counts()
    assert ([(g.name, n) for g, n in groups], unassigned) == ([("仓库班", 3)], 0)
    schedules.assign(["S1"], None)
    assert schedules.shift_for(staff[0].id).group_id is None
    with pytest.raises(schedules.ScheduleError, match="NOPE"):
        schedules.assign(["S2", "NOPE"], None)
    assert schedules.shift_for(staff[1].id).group_id == group.id  # all or nothing
    events = db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "absence.shift_assigned")).all()
    assert [e.payload["employees"] for e in events] == [["S1", "S2"], ["S2", "S3"], ["S1"]]


def test_hr_creates_edits_and_fills_a_group_on_the_page(login_as, staff):
    client = login_as("hr")
    page = client.get("/absence/shifts").get_data(as_text=True)
    assert "09:00–18:00" in page and page.count('data-test="shift-group"') == 1  # the built-in day
    saved = client.post("/absence/shifts", data={"action": "group", "group-name": "仓库班",
                                                 "group-starts_at": "08:00", "group-ends_at": "17:00"})
    assert saved.status_code == 302
    group = db.session.scalars(select(ShiftGroup)).one()
    moved = client.post("/absence/shifts", data={"action": "assign", "assign-group": str(group.id),
                                                 "assign-employee_nos": "S1\nS2，S3"}, follow_redirects=True)
    assert moved.status_code == 200 and "3 employees moved" in moved.get_data(as_text=True)
    page = client.get("/absence/shifts").get_data(as_text=True)
    assert f'data-test="members-{group.id}"' in page and ">3</a>" in page
    members = client.get(f"/absence/shifts?members={group.id}").get_data(as_text=True)
    assert all(f"S{n}" in members for n in (1, 2, 3))
    edit = client.get(f"/absence/shifts?edit={group.id}").get_data(as_text=True)
    assert 'value="仓库班"' in edit
    client.post("/absence/shifts", data={"action": "group", "group-group_id": str(group.id), "group-name": "仓库班",
                                         "group-starts_at": "08:30", "group-ends_at": "17:30", "group-is_default": "y"})
    db.session.refresh(group)
    assert (group.starts_at, group.is_default) == (time(8, 30), True)
    page = client.get("/absence/shifts").get_data(as_text=True)
    assert page.count('data-test="shift-group"') == 1  # the built-in day gave way to the default group
    back = client.post("/absence/shifts", data={"action": "assign", "assign-group": "default",
                                                "assign-employee_nos": "S1, S2"})
    assert back.status_code == 302
    assert db.session.scalar(select(ShiftAssignment.employee_id)) == staff[2].id


def test_mistakes_on_the_page_are_422_with_the_reason(login_as, staff):
    client = login_as("hr")
    bad = client.post("/absence/shifts", data={"action": "group", "group-name": "夜班",
                                               "group-starts_at": "22:00", "group-ends_at": "06:00"})
    assert bad.status_code == 422 and "must end after it starts" in bad.get_data(as_text=True)
    unknown = client.post("/absence/shifts", data={"action": "assign", "assign-group": "default",
                                                   "assign-employee_nos": "S1 NOPE"})
    assert unknown.status_code == 422 and "NOPE" in unknown.get_data(as_text=True)
    assert client.get("/absence/shifts?edit=999").status_code == 404


def test_only_hr_and_admin_see_the_shift_page(login_as):
    for who in ("learner", "manager", "outsider"):
        assert login_as(who).get("/absence/shifts").status_code == 403
    assert login_as("admin").get("/absence/shifts").status_code == 200
