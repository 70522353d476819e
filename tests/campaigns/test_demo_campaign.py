"""The demo has running refresher campaigns with some people overdue and some passed."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from lms import clock
from lms.campaigns import reports
from lms.campaigns.models import Campaign, Reminder
from lms.extensions import db


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
    assert counts["overdue"] >= 10 and counts["completed"] >= 5
    assert "<svg" in page and page.count("<tr>") > 10
    steps = {r.step for r in db.session.scalars(select(Reminder))}
    assert {"manager", "hr"} <= steps  # overdue for weeks: managers and HR have been told
