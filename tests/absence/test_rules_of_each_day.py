"""Each day is judged under the rule set in force on that day; before any, no day counts."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select

from lms import clock, jobs
from lms.absence import cases, replay
from lms.absence.models import AbsenceCase, CaseDay, ScanDay
from lms.extensions import db
from tests.absence.conftest import everyone_present, run_ticks
from tests.content_tree import RULES

SCENARIOS = Path(__file__).resolve().parents[2] / "content" / "scenarios"


def test_days_before_the_rules_take_effect_are_never_counted_and_the_tick_goes_on(app):
    timeline, differences = replay.replay(SCENARIOS / "rules_not_yet_in_force.yaml")
    assert differences == []
    counted = [e.detail for e in timeline if e.event == "day_counted"]
    assert counted == ["2026-02-02", "2026-02-03", "2026-02-04"]


def test_a_tick_before_any_rule_set_records_no_rules_instead_of_failing(app, org, content):
    content.sync()  # rules effective 2026-02-01
    with clock.frozen(clock.as_utc(datetime(2026, 1, 19, 12, 0))):
        cases.start_monitoring(date(2026, 1, 20))
    everyone_present(org, date(2026, 1, 20), date(2026, 1, 23), but=[org.learner])
    ran = jobs.run_tick(clock.as_utc(datetime(2026, 1, 23, 12, 0)).isoformat())
    assert "absence.scan" in ran
    assert db.session.scalars(select(AbsenceCase)).all() == []
    days = {d.day: d.status for d in db.session.scalars(select(ScanDay))}
    assert days == {date(2026, 1, d): "no_rules" for d in (20, 21, 22)}


def test_each_counted_day_names_the_rule_version_in_force_on_it(app, org, content):
    content.sync()
    # A new version from 7.1 that escalates after 2 consecutive days instead of 3.
    content.write("rules/2026-07.yaml", RULES.replace('"2026-01"', '"2026-07"')
                  .replace("effective_from: 2026-02-01", "effective_from: 2026-07-01")
                  .replace("adopted_on: 2026-01-15", "adopted_on: 2026-06-15")
                  .replace("consecutive_working_days: 3", "consecutive_working_days: 2"))
    content.sync()
    with clock.frozen(clock.as_utc(datetime(2026, 6, 1, 12, 0))):
        cases.start_monitoring(date(2026, 6, 1))
    everyone_present(org, date(2026, 6, 1), date(2026, 7, 3), but=[org.learner])
    others = [org.director, org.manager, org.colleague, org.hr_officer, org.outsider]
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 28), but=others)  # the learner works until 6.26
    run_ticks(datetime(2026, 6, 29, 8, 0), datetime(2026, 7, 2, 1, 0))
    case = db.session.scalars(select(AbsenceCase)).one()
    days = {d.day: d.rule_version for d in db.session.scalars(select(CaseDay))}
    assert days == {date(2026, 6, 29): "2026-01", date(2026, 6, 30): "2026-01", date(2026, 7, 1): "2026-07"}
    # Two days under the June rules reached nothing; on 7.1 the new rules' 2 days in a row hold.
    assert case.state == "threshold_reached"
    assert case.threshold_reached_at == clock.as_utc(datetime(2026, 7, 2, 0, 0))
