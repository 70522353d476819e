"""A threshold that no longer holds is withdrawn at once: late leave, a late punch, HR's acceptance."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select

from lms import clock
from lms.absence import cases, decisions, replay
from lms.absence.models import AbsenceCase, Punch
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db
from tests.absence.conftest import add_leave, everyone_present, run_ticks

SCENARIOS = Path(__file__).resolve().parents[2] / "content" / "scenarios"


def _reached(org) -> AbsenceCase:
    """The seed's case up to 6.18 08:00: absent 6.15–6.17, threshold reached at 6.18 00:00."""
    add_leave(org.learner, date(2026, 6, 1), date(2026, 6, 14))
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 30), but=[org.learner])
    run_ticks(datetime(2026, 6, 14, 23, 0), datetime(2026, 6, 18, 8, 0))
    case = db.session.scalars(select(AbsenceCase)).one()
    assert case.state == "threshold_reached"
    return case


def _withdrawals(case_id: int) -> list[dict]:
    return [e.payload for e in db.session.scalars(select(EvidenceEvent).where(
        body_field("subject") == cases.subject(case_id), body_field("kind") == "absence.threshold_withdrawn"))]


def test_the_replayed_scenario_withdraws_and_reaches_the_threshold_again_on_the_facts(app):
    timeline, differences = replay.replay(SCENARIOS / "withdrawn_threshold.yaml")
    assert differences == []
    reached = [(e.at.strftime("%m-%d %H:%M"), e.detail) for e in timeline if e.event == "threshold_reached"]
    assert reached == [("06-18 00:00", "consecutive: 2026-06-15, 2026-06-16, 2026-06-17"),
                       ("06-23 00:00", "consecutive: 2026-06-17, 2026-06-18, 2026-06-22")]


def test_sick_leave_entered_late_withdraws_the_threshold_and_tells_hr(absence_setup):
    org = absence_setup
    case = _reached(org)
    with clock.frozen(clock.as_utc(datetime(2026, 6, 18, 9, 30))):
        add_leave(org.learner, date(2026, 6, 16), date(2026, 6, 16), kind="sick")
    db.session.refresh(case)
    assert case.state == "reminded" and case.threshold_reached_at is None
    assert case.counted_days == [date(2026, 6, 15), date(2026, 6, 17)]
    todos = {t.kind: t.done_at is not None for t in case.todos}
    # No return-to-work notice may follow a threshold that does not hold; HR is asked to look.
    assert todos["prepare_return_notice"] is True and todos["threshold_withdrawn"] is False
    assert [(p["day"], p["because"]) for p in _withdrawals(case.id)] == [("2026-06-16", "leave")]
    # The reminders resume: 6.18's reminder goes out at 11:00.
    run_ticks(datetime(2026, 6, 18, 11, 0), datetime(2026, 6, 18, 11, 0))
    db.session.refresh(case)
    assert {s.key: s.status for s in case.steps}["reminder:2026-06-18"] == "sent"


def test_a_late_punch_for_a_day_in_the_middle_withdraws_without_ending_the_case(absence_setup):
    org = absence_setup
    case = _reached(org)
    # The time clock's upload of 6.16 arrives on 6.18: she was at work that day.
    db.session.add(Punch(employee_id=org.learner.id, punched_at=clock.as_utc(datetime(2026, 6, 16, 8, 58)),
                         work_day=date(2026, 6, 16), source="test"))
    db.session.commit()
    with clock.frozen(clock.as_utc(datetime(2026, 6, 18, 9, 0))):
        from lms.absence import reconcile
        reconcile.reconcile([org.learner.id])
    db.session.refresh(case)
    assert case.is_open and case.state == "reminded"
    assert case.counted_days == [date(2026, 6, 15), date(2026, 6, 17)]
    assert [p["because"] for p in _withdrawals(case.id)] == ["punched"]


def test_hr_accepting_the_explanation_for_one_day_withdraws_and_the_procedure_goes_on(absence_setup):
    org = absence_setup
    case = _reached(org)
    with clock.frozen(clock.as_utc(datetime(2026, 6, 18, 9, 0))):
        decisions.record_reply(case, "16号我在医院，有诊断证明", "inapp", "employee")
    with clock.frozen(clock.as_utc(datetime(2026, 6, 18, 10, 0))):
        decisions.decide(case, "accept", org.users["hr"], "诊断证明属实", leave_type="sick", days=[date(2026, 6, 16)])
    db.session.refresh(case)
    assert case.is_open and case.paused_at is None and case.state == "reminded"
    assert case.counted_days == [date(2026, 6, 15), date(2026, 6, 17)]
    assert [p["day"] for p in _withdrawals(case.id)] == ["2026-06-16"]


def test_a_threshold_that_still_holds_is_not_withdrawn(absence_setup):
    org = absence_setup
    add_leave(org.learner, date(2026, 6, 1), date(2026, 6, 14))
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 30), but=[org.learner])
    run_ticks(datetime(2026, 6, 14, 23, 0), datetime(2026, 6, 19, 8, 0))  # 6.15–6.18 counted
    case = db.session.scalars(select(AbsenceCase)).one()
    with clock.frozen(clock.as_utc(datetime(2026, 6, 19, 9, 0))):
        add_leave(org.learner, date(2026, 6, 15), date(2026, 6, 15), kind="sick")
    db.session.refresh(case)
    assert case.state == "threshold_reached"  # 6.16, 6.17, 6.18 are still three in a row
    assert _withdrawals(case.id) == []
