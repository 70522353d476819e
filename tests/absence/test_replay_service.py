"""Replay learns the service inputs (issue_notice, dispatch, tracking, public_notice) and events (dispatched,
served, service_failed, deadline_set, deadline_passed), and the termination's (union_letter, union_notice,
union_opinion, union_reply, terminate → termination_served, terminated)."""

from __future__ import annotations

from pathlib import Path

import pytest

from lms.absence import replay

SCENARIOS = Path(__file__).resolve().parents[2] / "content" / "scenarios"


def test_the_seed_case_served_on_6_21_has_its_deadline_on_6_25(app):
    timeline, differences = replay.replay(SCENARIOS / "notice_served.yaml")
    assert differences == []
    assert [e.event for e in timeline if e.event in ("dispatched", "served", "deadline_set", "deadline_passed")] == [
        "dispatched", "served", "deadline_set", "deadline_passed"]


def test_a_returned_notice_then_the_household_address(app):
    timeline, differences = replay.replay(SCENARIOS / "notice_returned.yaml")
    assert differences == []


def test_the_seed_case_to_its_lawful_end(app):
    timeline, differences = replay.replay(SCENARIOS / "terminated.yaml")
    assert differences == []
    events = [e.event for e in timeline]
    assert events.index("union_notice") < events.index("termination_confirmed") < events.index("terminated")


def test_termination_before_the_union_is_told_stops_the_replay_naming_article_43(app, tmp_path):
    text = (SCENARIOS / "terminated.yaml").read_text(encoding="utf-8")
    text = "\n".join(line for line in text.splitlines() if "union_notice:" not in line and "union_opinion:" not in line)
    scenario = tmp_path / "early.yaml"
    scenario.write_text(text, encoding="utf-8")
    with pytest.raises(replay.ScenarioError, match="第四十三条"):
        replay.replay(scenario)
