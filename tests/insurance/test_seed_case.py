"""The seed's case to its end through the real detection and termination (the replay): Beijing, cut-off the 15th,
terminated on service 6.29 → June paid, July stopped, the 减员 filed by 7.15 (SPEC §4's seed case)."""

from __future__ import annotations

from pathlib import Path

from lms.absence import replay

SCENARIO = Path(__file__).resolve().parents[2] / "content" / "scenarios" / "terminated.yaml"


def test_the_seed_case_ends_with_june_paid_july_stopped_and_the_filing_due_on_7_15(app):
    timeline, differences = replay.replay(SCENARIO)
    assert differences == []
    stops = [(e.at.isoformat(), e.detail) for e in timeline if e.event == "si_stop"]
    assert stops == [("2026-06-29T11:00:00", "last paid 2026-06, stop from 2026-07, file by 2026-07-15")]
