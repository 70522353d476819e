"""Days nobody was told about in time count toward a threshold only once HR confirms them:
days of cases that resolved by themselves, days before monitoring was switched on; warned days
count again only if the rules say so."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from lms import clock
from lms.absence import cases, decisions
from lms.absence.models import AbsenceCase, CaseDay
from lms.extensions import db
from lms.notify.models import Message
from tests.absence.conftest import add_punch, everyone_present, run_ticks, switch_on
from tests.content_tree import RULES

ABSENT = [date(2026, 6, 2), date(2026, 6, 9), date(2026, 6, 16), date(2026, 6, 23)]  # four Tuesdays


def _present_except(org, start: date, end: date, absent: list[date]) -> None:
    """Everyone punches every day; the learner every day but the `absent` ones."""
    everyone_present(org, start, end, but=[org.learner])
    day = start
    while day <= end:
        if day not in absent:
            add_punch(org.learner, datetime.combine(day, datetime.min.time()).replace(hour=8, minute=57))
        day += timedelta(days=1)


def _one_day_absences(org) -> None:
    """Absent four single Tuesdays and Monday 6.29, back the next morning each time."""
    _present_except(org, date(2026, 6, 1), date(2026, 6, 30), ABSENT + [date(2026, 6, 29)])
    run_ticks(datetime(2026, 6, 1, 8, 0), datetime(2026, 6, 30, 8, 0), every=timedelta(hours=4))


def test_days_of_cases_that_ended_by_themselves_do_not_reach_the_monthly_threshold_unconfirmed(absence_setup):
    org = absence_setup
    _one_day_absences(org)
    june = db.session.scalars(select(AbsenceCase).order_by(AbsenceCase.first_day)).all()
    assert [c.first_day for c in june] == ABSENT + [date(2026, 6, 29)]
    assert all(c.state != "threshold_reached" for c in june)
    assert [c.days_to_confirm for c in june[:4]] == [[day] for day in ABSENT]
    assert [case for case, _days in decisions.days_to_confirm()] == june[:4]


def test_confirmed_days_count_toward_the_month(absence_setup):
    org = absence_setup
    _present_except(org, date(2026, 6, 1), date(2026, 6, 28), ABSENT)
    run_ticks(datetime(2026, 6, 1, 8, 0), datetime(2026, 6, 28, 8, 0), every=timedelta(hours=4))
    for case in db.session.scalars(select(AbsenceCase)).all():
        with clock.frozen(clock.as_utc(datetime(2026, 6, 28, 10, 0))):
            decisions.confirm_days(case, case.days_to_confirm, "absence", org.users["hr"], "核实确属旷工")
    everyone_present(org, date(2026, 6, 29), date(2026, 6, 30), but=[org.learner])
    add_punch(org.learner, datetime(2026, 6, 30, 8, 57))
    run_ticks(datetime(2026, 6, 29, 8, 0), datetime(2026, 6, 30, 8, 0), every=timedelta(hours=4))
    last = db.session.scalars(select(AbsenceCase).where(AbsenceCase.first_day == date(2026, 6, 29))).one()
    # The fifth day in June, with four confirmed: the monthly threshold, reached at 6.30 00:00.
    assert last.threshold_reached_at == clock.as_utc(datetime(2026, 6, 30, 0, 0))


def test_hr_can_excuse_a_day_to_confirm(absence_setup):
    org = absence_setup
    _present_except(org, date(2026, 6, 1), date(2026, 6, 4), [date(2026, 6, 2)])
    run_ticks(datetime(2026, 6, 1, 8, 0), datetime(2026, 6, 4, 8, 0), every=timedelta(hours=4))
    case = db.session.scalars(select(AbsenceCase)).one()
    decisions.confirm_days(case, [date(2026, 6, 2)], "excused", org.users["hr"], "系统故障")
    db.session.refresh(case)
    assert case.counted_days == [] and decisions.days_to_confirm() == []


def test_monitoring_switched_on_for_past_days_opens_a_review_case_and_sends_nothing(app, org, content):
    content.sync()
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 19), but=[org.learner])
    # Switched on at 6.18 10:00 for days from 6.15: the learner was absent 6.15–6.17 and is still away.
    with clock.frozen(clock.as_utc(datetime(2026, 6, 18, 10, 0))):
        cases.start_monitoring(date(2026, 6, 15), confirm_past=True, reason="打卡数据已导入")
    run_ticks(datetime(2026, 6, 18, 10, 0), datetime(2026, 6, 18, 10, 0))
    case = db.session.scalars(select(AbsenceCase)).one()
    assert case.state == "review" and case.days_to_confirm == [date(2026, 6, d) for d in (15, 16, 17)]
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0
    assert [t.kind for t in case.todos] == ["confirm_days"]
    # 6.18 is a live day: she is alerted as usual at 11:00; the past days still wait for HR.
    run_ticks(datetime(2026, 6, 18, 11, 0), datetime(2026, 6, 18, 11, 0))
    db.session.refresh(case)
    assert case.state == "alerted"
    with clock.frozen(clock.as_utc(datetime(2026, 6, 18, 12, 0))):
        decisions.confirm_days(case, case.days_to_confirm, "absence", org.users["hr"], "考勤机记录核实")
    db.session.refresh(case)
    assert case.state == "threshold_reached"
    assert all(d.confirmed_at for d in db.session.scalars(select(CaseDay)))


@pytest.mark.parametrize("count_warned_days", [False, True])
def test_warned_days_count_again_only_if_the_rules_say_so(app, org, content, count_warned_days):
    flag = str(count_warned_days).lower()
    content.write("rules/2026-01.yaml", RULES.replace(
        "days_per_calendar_month: 5", f"days_per_calendar_month: 3, count_warned_days: {flag}"))
    switch_on(content)
    absent = [date(2026, 6, 2), date(2026, 6, 3), date(2026, 6, 16)]
    _present_except(org, date(2026, 6, 1), date(2026, 6, 30), absent)
    run_ticks(datetime(2026, 6, 1, 8, 0), datetime(2026, 6, 3, 12, 0), every=timedelta(hours=4))
    first = db.session.scalars(select(AbsenceCase)).one()
    with clock.frozen(clock.as_utc(datetime(2026, 6, 3, 12, 30))):
        decisions.record_reply(first, "睡过头了，明天一定到", "inapp", "employee")
    run_ticks(datetime(2026, 6, 4, 8, 0), datetime(2026, 6, 4, 8, 0))
    with clock.frozen(clock.as_utc(datetime(2026, 6, 4, 10, 0))):
        decisions.decide(first, "warn", org.users["hr"], "书面警告")
    assert first.resolution == "warned" and first.counted_days == [date(2026, 6, 2), date(2026, 6, 3)]
    run_ticks(datetime(2026, 6, 15, 8, 0), datetime(2026, 6, 17, 8, 0), every=timedelta(hours=4))
    second = db.session.scalars(select(AbsenceCase).where(AbsenceCase.id != first.id)).one()
    # 6.16 with the two warned days makes three in June: the month's threshold only if warned days count.
    assert (second.threshold_reached_at is not None) is count_warned_days
