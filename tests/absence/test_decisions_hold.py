"""HR's decision holds until a newer fact arrives: "continue" after a return is not undone by the next tick."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from lms import clock
from lms.absence import decisions
from lms.absence.models import AbsenceCase
from lms.extensions import db
from tests.absence.conftest import add_leave, add_punch, everyone_present, run_ticks


def test_continue_after_a_return_after_the_threshold_holds_until_a_newer_punch(absence_setup):
    org = absence_setup
    add_leave(org.learner, date(2026, 6, 1), date(2026, 6, 14))
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 30), but=[org.learner])
    run_ticks(datetime(2026, 6, 14, 23, 0), datetime(2026, 6, 18, 8, 0))
    with clock.frozen(clock.as_utc(datetime(2026, 6, 18, 9, 10))):
        add_punch(org.learner, datetime(2026, 6, 18, 9, 5))
    case = db.session.scalars(select(AbsenceCase)).one()
    assert case.paused_at is not None  # back after the threshold: HR decides
    with clock.frozen(clock.as_utc(datetime(2026, 6, 18, 14, 0))):
        decisions.decide(case, "continue", org.users["hr"], "本人到岗后拒绝说明，继续程序")
    run_ticks(datetime(2026, 6, 18, 15, 0), datetime(2026, 6, 19, 10, 0))
    db.session.refresh(case)
    assert case.paused_at is None and case.state == "threshold_reached"
    assert [t.kind for t in case.todos].count("decide_return") == 1
    # A punch after the decision is a new fact: HR decides again.
    with clock.frozen(clock.as_utc(datetime(2026, 6, 22, 9, 10))):
        add_punch(org.learner, datetime(2026, 6, 22, 9, 1))
    db.session.refresh(case)
    assert case.paused_at == clock.as_utc(datetime(2026, 6, 22, 9, 1))
    assert [t.kind for t in case.todos].count("decide_return") == 2
