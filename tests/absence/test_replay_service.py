"""Replay learns the service inputs (issue_notice, dispatch, tracking, public_notice) and events (dispatched,
served, service_failed, deadline_set, deadline_passed). The notices' issuing is another part of the product:
where `lms.absence.notices.issue_return_notice` is absent these tests stand one in that inserts a Document
row."""

from __future__ import annotations

from pathlib import Path

import pytest

from lms import clock
from lms.absence import replay
from tests.absence.service_helpers import make_document

SCENARIOS = Path(__file__).resolve().parents[2] / "content" / "scenarios"


@pytest.fixture
def issuing(monkeypatch):
    """The notices' issuing: the real one if this checkout has it, else a stand-in inserting a Document row."""
    if replay._issue_function() is not None:
        return
    monkeypatch.setattr(replay, "_issue_function", lambda: lambda case, deadline=None, dispatch_on=None: make_document(
        case, clock.today(), stated_deadline=deadline))


def test_the_seed_case_served_on_6_21_has_its_deadline_on_6_25(app, issuing):
    timeline, differences = replay.replay(SCENARIOS / "notice_served.yaml")
    assert differences == []
    assert [e.event for e in timeline if e.event in ("dispatched", "served", "deadline_set", "deadline_passed")] == [
        "dispatched", "served", "deadline_set", "deadline_passed"]


def test_a_returned_notice_then_the_household_address(app, issuing):
    timeline, differences = replay.replay(SCENARIOS / "notice_returned.yaml")
    assert differences == []


def test_without_issuing_the_notice_is_skipped_and_a_dispatch_says_why(app, monkeypatch):
    monkeypatch.setattr(replay, "_issue_function", lambda: None)
    with pytest.raises(replay.ScenarioError, match="no notice issued"):
        replay.replay(SCENARIOS / "notice_served.yaml")
