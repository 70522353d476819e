"""Target rules on their edges: tenure at exactly 12 months, overlapping rules (first match only),
terminated people, and people moved or hired while a campaign runs."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from lms import clock
from lms.campaigns import services
from lms.campaigns.models import Assignment
from lms.extensions import db

LAUNCH = date(2026, 10, 8)


def campaign(rules, launch_on=LAUNCH, due_on=date(2026, 11, 9)):
    return services.create_campaign({"name": "Q4", "kind": "refresher", "launch_on": launch_on, "due_on": due_on,
                                     "rules": rules})


def rule(**fields):
    return {"course": "handbook", "exam": "onboarding", **fields}


def test_under_one_year_means_fewer_than_twelve_full_months_on_the_launch_date(synced, make_employee):
    exactly_twelve = make_employee("整一年", hire_date=date(2025, 10, 8), status="active")
    a_day_short = make_employee("差一天", hire_date=date(2025, 10, 9), status="active")
    eleven = make_employee("十一个月", hire_date=date(2025, 11, 8), status="active")
    assert services.tenure_months(date(2025, 10, 8), LAUNCH) == 12
    assert services.tenure_months(date(2025, 10, 9), LAUNCH) == 11
    found = services.preview(campaign([rule(tenure_months_max=11)]))
    picked = {row["employee_no"] for row in found["assignments"]}
    assert picked == {a_day_short.employee_no, eleven.employee_no}
    assert exactly_twelve.employee_no in {row["employee_no"] for row in found["unmatched"]}
    both_bounds = services.preview(campaign([rule(tenure_months_min=12, tenure_months_max=12)]))
    assert [row["employee_no"] for row in both_bounds["assignments"]] == [exactly_twelve.employee_no]


def test_overlapping_rules_give_the_first_match_only_in_hrs_order(synced, make_employee):
    new_sales = make_employee("新销售", job_family="sales", hire_date=date(2026, 3, 1), status="active")
    old_sales = make_employee("老销售", job_family="sales", hire_date=date(2020, 3, 1), status="active")
    new_driver = make_employee("新司机", job_family="logistics", department="物流部", hire_date=date(2026, 5, 1),
                               status="active")
    office = make_employee("文员", job_family="office", department="行政部", hire_date=date(2019, 1, 1),
                           status="active")
    found = services.preview(campaign([rule(job_family="sales"), rule(tenure_months_max=11, course="urgent"),
                                       rule(department="物流部")]))
    by_person = {row["employee_no"]: row["rule"] for row in found["assignments"]}
    assert by_person == {new_sales.employee_no: 1, old_sales.employee_no: 1, new_driver.employee_no: 2}
    assert found["counts"] == {1: 2, 2: 1}
    assert [row["employee_no"] for row in found["unmatched"]] == [office.employee_no]


def test_position_and_department_pick_and_terminated_people_are_never_targeted(synced, make_employee):
    rep = make_employee("销售代表", position="销售代表", status="active")
    gone = make_employee("已离职", position="销售代表", status="terminated")
    lead = make_employee("组长", position="销售组长", status="active")
    found = services.preview(campaign([rule(department="销售部", position="销售代表")]))
    assert [row["employee_no"] for row in found["assignments"]] == [rep.employee_no]
    everyone = {row["employee_no"] for row in found["assignments"] + found["unmatched"]}
    assert gone.employee_no not in everyone and lead.employee_no in everyone


def test_people_moved_or_hired_into_a_target_group_are_enrolled_on_the_next_tick(synced, make_employee):
    seller = make_employee("销售甲", status="active")
    mover_out = make_employee("调走的", status="active")
    mover_in = make_employee("调来的", department="物流部", status="active")
    with clock.frozen(datetime(2026, 10, 8, 9, 0)):
        launched = services.launch(campaign([rule(department="销售部")]).id)
    assigned = {a.employee_id: a for a in db.session.scalars(select(Assignment))}
    assert set(assigned) == {seller.id, mover_out.id}
    mover_out.department = mover_in.department  # moved out mid-campaign: keeps the cycle as assigned
    mover_in.department = seller.department
    db.session.commit()
    with clock.frozen(datetime(2026, 10, 20, 9, 0)):
        hired = make_employee("新来的", hire_date=date(2026, 10, 19), status="onboarding")
        assert services.enrol_late_joiners(date(2026, 10, 20)) == 2
        assert services.enrol_late_joiners(date(2026, 10, 20)) == 0  # once
    rows = {a.employee_id: a for a in db.session.scalars(select(Assignment).where(
        Assignment.campaign_id == launched.id))}
    assert set(rows) == {seller.id, mover_out.id, mover_in.id, hired.id}
    assert rows[mover_out.id].due_on == date(2026, 11, 9)
    # the later of the campaign's due date and today + the 30-day minimum window
    assert rows[mover_in.id].due_on == rows[hired.id].due_on == date(2026, 11, 19)
