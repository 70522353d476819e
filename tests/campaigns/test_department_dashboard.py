"""HR's per-department page across all campaigns: completion and overdue per department including its
sub-departments at any depth, a department's overdue people with their manager, and the CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from lms import clock
from lms.campaigns import services
from lms.campaigns.models import Assignment
from lms.extensions import db


def launch(name: str, department: str, due_on: date):
    campaign = services.create_campaign({"name": name, "kind": "refresher", "launch_on": date(2026, 9, 1),
                                         "due_on": due_on, "rules": [{"department": department,
                                                                      "course": "handbook", "exam": "onboarding"}]})
    with clock.frozen(clock.as_utc(datetime(2026, 9, 1, 9, 0))):
        return services.launch(campaign.id)


def test_departments_count_their_sub_departments_across_campaigns_with_overdue_people_and_csv(
        synced, login_as, org, make_employee):
    east = make_employee("华东甲", department="华东销售部", parent_department="销售部", manager=org.manager,
                         status="active")
    shanghai = make_employee("上海乙", department="上海销售组", parent_department="华东销售部", status="active")
    first = launch("三季度", "销售部", date(2026, 9, 30))  # director, manager, learner, colleague, 华东甲, 上海乙
    launch("物流专项", "物流部", date(2026, 12, 31))  # the outsider, not yet due
    done = db.session.query(Assignment).filter_by(employee_id=shanghai.id).one()
    done.completed_at = clock.as_utc(datetime(2026, 9, 20, 10, 0))
    db.session.commit()
    hr = login_as("hr")
    with clock.frozen(clock.as_utc(datetime(2026, 10, 12, 9, 0))):
        page = hr.get("/campaigns/departments").get_data(as_text=True)
        text = hr.get("/campaigns/departments?format=csv").get_data(as_text=True)
        listed = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
        east_id = east.department_id
        drill = hr.get(f"/campaigns/departments?department={east_id}").get_data(as_text=True)
        one = hr.get(f"/campaigns/departments?campaign={first.id}&format=csv").get_data(as_text=True)
    assert "<svg" in page and "17%" in page
    assert 'data-test="销售部-assigned">6<' in page and 'data-test="销售部-overdue">5<' in page
    assert 'data-test="华东销售部-assigned">2<' in page and 'data-test="华东销售部-completed">1<' in page
    assert 'data-test="上海销售组-overdue">0<' in page and 'data-test="物流部-overdue">0<' in page
    rows = {row[0]: row for row in listed[1:]}
    # department, parent, assigned, completed, overdue, first try, completion %, then its own counts
    assert rows["销售部"][:7] == ["销售部", "", "6", "1", "5", "0", "17"]
    assert rows["销售部"][7:9] == ["4", "0"]  # only the four people sitting in 销售部 itself
    assert rows["上海销售组"][:7] == ["上海销售组", "华东销售部", "1", "1", "0", "0", "100"]
    assert rows["物流部"][2] == "1" and rows["人力资源部"][6] == ""
    overdue = drill.split('data-test="overdue"')[1]
    assert "华东甲" in overdue and "张伟" in overdue and "上海乙" not in overdue and "王芳" not in overdue
    assert "物流部" not in {row[0] for row in csv.reader(io.StringIO(one.lstrip("\ufeff"))) if row[2] != "0"}
    assert east.employee_no in drill


def test_only_hr_sees_the_department_page_and_unknown_filters_are_404(synced, login_as, org):
    assert login_as("manager").get("/campaigns/departments").status_code == 403
    hr = login_as("hr")
    assert hr.get("/campaigns/departments?department=999999").status_code == 404
    assert hr.get("/campaigns/departments?campaign=999999").status_code == 404
