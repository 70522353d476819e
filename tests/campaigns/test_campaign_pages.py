"""HR's pages: a new campaign from the form, its preview, launch, and the dashboard with the SVG chart
(Chinese labels), its table, the CSV beside it and the overdue list with the manager; the employee's
own refreshers; the compliance record as a page, CSV and API."""

from __future__ import annotations

from datetime import date, datetime

from lms import clock
from lms.absence.models import Leave
from lms.campaigns import services
from lms.extensions import db
from tests.conftest import auth


def test_hr_creates_previews_launches_and_reads_the_dashboard(synced, login_as, org):
    client = login_as("hr")
    form = {"name": "三季度复训", "kind": "refresher", "launch_on": "2026-07-01", "due_on": "2026-07-31",
            "remind_days_before": "3", "grace_days": "5",
            "rules-0-department": "销售部", "rules-0-course": "handbook", "rules-0-exam": "onboarding"}
    response = client.post("/campaigns/new", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    preview = client.get(response.headers["Location"]).get_data(as_text=True)
    assert preview.count('data-test="preview-row"') == 4  # director, manager, learner, colleague
    assert "赵强" in preview and "李娜" in preview  # matched by no rule, shown by name
    with clock.frozen(clock.as_utc(datetime(2026, 7, 1, 9, 0))):
        launched = client.post(response.headers["Location"] + "/launch")
    assert launched.status_code == 302
    with clock.frozen(clock.as_utc(datetime(2026, 8, 3, 9, 0))):
        campaign_id = int(response.headers["Location"].rsplit("/", 1)[1])
        page = client.get(f"/campaigns/{campaign_id}")
        client.post("/language", data={"locale": "zh_CN"})
        zh = client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)
        csv = client.get(f"/campaigns/{campaign_id}/report.csv")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "<svg" in html and "销售部" in html
    assert 'data-test="count-overdue">4<' in html
    assert "张伟" in html.split('data-test="overdue"')[1]  # the learner's manager, in the overdue list
    chart = zh.split("<svg")[1].split("</svg>")[0]
    assert "已完成" in chart and "销售部" in chart  # Chinese labels inside the server-rendered SVG
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    assert csv.get_data(as_text=True).splitlines()[1] == "销售部,4,0,4,0"


def test_the_employee_sees_her_refreshers_and_nobody_sees_internal_ids(synced, login_as, org):
    services.assign([org.learner.id], "handbook", "onboarding", date(2099, 1, 31), "hr", source="hr")
    page = login_as("learner").get("/campaigns/mine").get_data(as_text=True)
    assert 'data-test="my-refresher"' in page and "2099-01-31" in page and "take-exam" in page
    assert "Onboarding exam" in page or "入职考试" in page
    services.assign([org.learner.id], "handbook", "onboarding", date(2099, 6, 30), "hr", source="hr")
    record = login_as("hr").get(f"/people/employees/{org.learner.id}").get_data(as_text=True)
    cycles = record[record.index('data-test="refresher-cycles"'):]
    assert cycles.count("<tr>") == 3 and "2099-01-31" in cycles and "2099-06-30" in cycles  # every cycle, kept


def test_the_compliance_record_counts_late_leave_absence_and_exams(synced, login_as, org, hr_token, client):
    with clock.frozen(clock.as_utc(datetime(2026, 3, 2, 10, 0))):
        db.session.add_all([
            Leave(employee_id=org.learner.id, type="personal", starts_on=date(2026, 3, 3), ends_on=date(2026, 3, 3),
                  source="page", created_by="hr", created_at=clock.now()),  # 1 day ahead: late (3 needed)
            Leave(employee_id=org.learner.id, type="annual", starts_on=date(2026, 3, 20), ends_on=date(2026, 3, 21),
                  source="page", created_by="hr", created_at=clock.now())])
        db.session.commit()
        services.assign([org.learner.id], "handbook", "onboarding", date(2026, 3, 10), "hr", source="hr")
    with clock.frozen(clock.as_utc(datetime(2026, 4, 1, 10, 0))):
        record = client.get(f"/api/v1/employees/{org.learner.employee_no}/compliance?year=2026",
                            headers=auth(hr_token)).get_json()
        page = login_as("manager").get("/campaigns/compliance?year=2026").get_data(as_text=True)
        csv = login_as("hr").get("/campaigns/compliance?year=2026&format=csv").get_data(as_text=True)
    assert record == {"employee_no": org.learner.employee_no, "year": 2026, "leave_requests": 2,
                      "late_leave_requests": 1, "absent_days": 0, "exams_passed_first_time": 0,
                      "exams_passed_after_make_up": 0, "refreshers": 1, "refreshers_overdue": 1}
    assert "王芳" in page and "赵强" not in page  # a manager sees his team only
    assert f"{org.learner.employee_no},王芳,销售部,2,1,0,0,0,1,1" in csv
