"""`flask absence replay`: scenarios through the real services on a throw-away database."""

from __future__ import annotations

from pathlib import Path

import pytest

from lms.absence import replay

SCENARIOS = Path(__file__).resolve().parents[2] / "content" / "scenarios"
STEPS = ("alert1", "alert2", "reminder", "threshold_reached")


def _steps(timeline) -> list[tuple[str, str]]:
    return [(entry.at.strftime("%m-%d %H:%M"), entry.event) for entry in timeline if entry.event in STEPS]


def test_the_seed_case_replays_to_the_day_and_hour(app):
    timeline, differences = replay.replay(SCENARIOS / "seed_case.yaml")
    assert _steps(timeline) == [("06-15 11:00", "alert1"), ("06-15 15:00", "alert2"), ("06-16 11:00", "reminder"),
                                ("06-17 11:00", "reminder"), ("06-18 00:00", "threshold_reached")]
    assert {entry.employee_no for entry in timeline} == {"E0013"}  # the manager and HR punched every day
    assert differences == []


def test_national_day_counts_only_working_days_including_the_make_up_saturday(app):
    timeline, differences = replay.replay(SCENARIOS / "national_day_2026.yaml")
    counted = [entry.detail for entry in timeline if entry.event == "day_counted"]
    assert counted == ["2026-09-30", "2026-10-08", "2026-10-09", "2026-10-10"]
    assert differences == []


def test_a_reply_in_the_scenario_pauses_the_reminders(app, tmp_path):
    text = (SCENARIOS / "seed_case.yaml").read_text(encoding="utf-8")
    text = text.replace("actions: []", "actions:\n  - {at: 2026-06-15T13:20, reply: {employee_no: E0013, "
                                        "text: 我在医院, channel: link}}")
    scenario = tmp_path / "reply.yaml"
    scenario.write_text(text, encoding="utf-8")
    timeline, differences = replay.replay(scenario)
    # No second alert, no reminders, no threshold: the days still count (they are facts), and the
    # escalation waits for HR's decision on the reply.
    assert _steps(timeline) == [("06-15 11:00", "alert1")]
    assert [e.detail for e in timeline if e.event == "day_counted"] == ["2026-06-15", "2026-06-16", "2026-06-17"]
    assert [(e.event, e.detail) for e in timeline if e.event.endswith("skipped")] == [("alert2 skipped", "paused")]
    assert "expected 2026-06-15T15:00 E0013 alert2, did not happen" in differences
    assert [e.event for e in timeline if e.event == "reply_received"] == ["reply_received"]


def test_a_broken_scenario_says_what_is_missing(app, tmp_path):
    scenario = tmp_path / "bad.yaml"
    scenario.write_text("employees: []\n", encoding="utf-8")
    with pytest.raises(replay.ScenarioError, match="monitoring_from"):
        replay.replay(scenario)


def test_the_command_prints_the_timeline_and_fails_on_a_difference(app, tmp_path, capfd):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["absence", "replay", str(SCENARIOS / "seed_case.yaml")])
    assert result.exit_code == 0, result.output
    assert "alembic" not in capfd.readouterr().err + result.output  # the throw-away migrations stay quiet
    assert "threshold_reached" in result.output and "2026-06-17 11:00" in result.output
    changed = tmp_path / "changed.yaml"
    changed.write_text((SCENARIOS / "seed_case.yaml").read_text(encoding="utf-8").replace(
        "2026-06-17T11:00", "2026-06-17T10:00"), encoding="utf-8")
    failed = runner.invoke(args=["absence", "replay", str(changed)])
    assert failed.exit_code != 0 and "difference" in failed.output


def test_a_rostered_guard_whose_rest_days_fall_midweek(app):
    timeline, differences = replay.replay(SCENARIOS / "rostered_rest_midweek.yaml")
    assert _steps(timeline) == [("06-15 10:00", "alert1"), ("06-15 14:00", "alert2"), ("06-18 10:00", "reminder"),
                                ("06-19 10:00", "reminder"), ("06-20 00:00", "threshold_reached")]
    assert [e.detail for e in timeline if e.event == "day_counted"] == ["2026-06-15", "2026-06-18", "2026-06-19"]
    assert differences == []
