"""HR launches the shipped template by hand; the tick then does not launch that quarter again."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from lms import clock
from lms.campaigns.models import Campaign
from lms.courses.services import sync_content
from lms.extensions import db
from lms.jobs import run_tick


def test_hr_launches_the_template_by_hand_and_the_tick_leaves_the_quarter_alone(app, runner, make_employee):
    sync_content()
    make_employee("销售", job_family="sales", status="active")
    with clock.frozen(clock.as_utc(datetime(2026, 8, 10, 10, 0))):
        result = runner.invoke(args=["campaigns", "launch", "quarterly-refresher"])
        assert result.exit_code == 0, result.output
        assert "due 2026-09-09" in result.output
        again = runner.invoke(args=["campaigns", "launch", "quarterly-refresher"])
        assert again.exit_code != 0 and "2026Q3" in again.output
    run_tick(clock.as_utc(datetime(2026, 8, 11, 9, 30)).isoformat())
    campaigns = list(db.session.scalars(select(Campaign)))
    assert [(c.period, c.launch_on, c.state) for c in campaigns] == [("2026Q3", date(2026, 8, 10), "running")]
