"""Monitoring on before any rule set is in force: the absence tick warns and goes on, it does not fail."""

from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy import func, select

from lms import clock, jobs
from lms.absence import cases, detection
from lms.absence.models import AbsenceCase
from lms.absence.rules import RulesMissing
from lms.extensions import db


def test_the_scan_warns_when_no_rule_set_is_in_force_and_the_pass_goes_on(app, org, content, caplog):
    content.sync()  # the small tree's rules take effect on 2026-02-01
    with clock.frozen(clock.as_utc(datetime(2026, 1, 19, 12, 0))):
        cases.start_monitoring(date(2026, 1, 20), "test")
    caplog.set_level(logging.WARNING)
    result = jobs.run_tick(clock.as_utc(datetime(2026, 1, 21, 12, 0)).isoformat())
    assert "absence.scan" in result and result.failed == []
    assert "notify.retry_due" in result  # the handlers after it ran too
    warning = [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "no rule set" in r.getMessage()]
    assert warning and "2026-01-20" in warning[0]  # the day monitoring started, before the rules
    assert not db.session.get(jobs.TickRun, "absence.scan").is_failing
    assert db.session.scalar(select(func.count()).select_from(AbsenceCase)) == 0  # nobody counted without rules

    # Once the rule set takes effect the same tick detects absences as usual.
    result = jobs.run_tick(clock.as_utc(datetime(2026, 2, 2, 12, 0)).isoformat())
    assert "absence.scan" in result and result.failed == []
    assert db.session.scalar(select(func.count()).select_from(AbsenceCase)) > 0


def test_rules_missing_anywhere_in_the_absence_tick_is_a_warning_not_a_failure(app, monkeypatch, caplog):
    def no_rules(now):
        raise RulesMissing("no rule set with the absence procedure's values is in force on 2026-01-21")

    monkeypatch.setattr(detection, "scan", no_rules)
    result = jobs.run_tick(clock.as_utc(datetime(2026, 1, 21, 12, 0)).isoformat())
    assert "absence.scan" in result and result.failed == []
    assert any(r.levelname == "WARNING" and "absence.scan: no rule set in force for 2026-01-21" in r.getMessage()
               for r in caplog.records)
