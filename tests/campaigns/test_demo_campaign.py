"""The demo has running refresher campaigns with some people overdue and some passed."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from lms import clock
from lms.campaigns import reports
from lms.campaigns.models import Campaign, Reminder
from lms.extensions import db
from lms.people import departments


def test_the_demo_has_a_running_campaign_with_people_overdue(app, runner):
    with clock.frozen(clock.as_utc(datetime(2026, 11, 30, 10, 0))):
        assert runner.invoke(args=["demo", "load"]).exit_code == 0
        campaigns = list(db.session.scalars(select(Campaign).order_by(Campaign.launch_on)))
        assert [(c.period, c.launch_on, c.state) for c in campaigns] == [
            ("2026Q3", date(2026, 7, 1), "running"), ("2026Q4", date(2026, 10, 8), "running")]
        counts = reports.counts(reports.rows(campaign_id=campaigns[1].id), clock.today())
        client = app.test_client()
        client.post("/login", data={"username": "hr", "password": "demo-hr-2026"})
        page = client.get(f"/campaigns/{campaigns[1].id}").get_data(as_text=True)
        by_department = client.get("/campaigns/departments").get_data(as_text=True)
        groups = {g["department"]: g for g in reports.department_tree_counts(clock.today())}
    assert counts["overdue"] >= 10 and counts["completed"] >= 5
    assert "<svg" in page and page.count("<tr>") > 10
    # sales has sub-departments two levels deep, and its figures include theirs
    assert departments.parents_by_name()["上海销售组"] == "华东销售部"
    assert departments.parents_by_name()["华东销售部"] == "销售部"
    assert groups["销售部"]["assigned"] > groups["销售部"]["own"]["assigned"] > 0
    assert groups["销售部"]["assigned"] == groups["销售部"]["own"]["assigned"] + groups["华东销售部"]["assigned"]
    assert groups["上海销售组"]["assigned"] > 0 and "上海销售组" in by_department
    steps = {r.step for r in db.session.scalars(select(Reminder))}
    assert {"manager", "hr"} <= steps  # overdue for weeks: managers and HR have been told
