"""A weekly group: fixed weekdays, with public holidays off or not; make-up days follow the weekdays."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from lms.absence import schedules, workdays
from lms.absence.calendar import REST, WORKDAY
from tests.absence.conftest import everyone_present, run_ticks
from tests.absence.rosters_helpers import cases_of, punch_daily


def test_a_monday_to_saturday_group_is_watched_on_saturdays_and_off_on_holidays(absence_setup):
    org = absence_setup
    six_days = schedules.save_shift_group("门店班", time(9), time(18), pattern="weekly", weekdays="123456")
    five_days = schedules.save_shift_group("工地班", time(9), time(18), pattern="weekly", weekdays=[5, 1, 2, 3, 4],
                                           observes_holidays=False)
    schedules.assign([org.learner.employee_no], six_days.id)
    schedules.assign([org.colleague.employee_no], five_days.id)
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 30), but=[org.learner, org.colleague])
    # The learner misses Fri 6.19 and Sat 6.20 (the Dragon Boat Festival, 6.19–6.21) and Sat 6.27;
    # the colleague only 6.19.
    punch_daily(org.learner, date(2026, 6, 1), date(2026, 6, 29), but={date(2026, 6, d) for d in (19, 20, 27)})
    punch_daily(org.colleague, date(2026, 6, 1), date(2026, 6, 29), but={date(2026, 6, 19)})
    run_ticks(datetime(2026, 6, 19, 8, 0), datetime(2026, 6, 29, 12, 0), every=timedelta(hours=3))
    [learner_case] = cases_of(org.learner)
    assert learner_case.counted_days == [date(2026, 6, 27)]  # the holiday's Friday and Saturday are rest days
    assert learner_case.state == "resolved"  # back on Monday
    [colleague_case] = cases_of(org.colleague)
    assert colleague_case.counted_days == [date(2026, 6, 19)]  # holidays are working days in his group


def test_make_up_days_follow_the_weekdays_only(absence_setup):
    org = absence_setup
    weekly = schedules.save_shift_group("行政班", time(9), time(18), pattern="weekly", weekdays="12345")
    schedules.assign([org.learner.employee_no], weekly.id)
    # Sun 2026-09-20 and Sat 10.10 are make-up working days (调休) of the national calendar; 10.1 a holiday.
    kinds = workdays.kinds_for([org.learner.id, org.colleague.id], date(2026, 9, 20), date(2026, 10, 10))
    mine, calendar_group = kinds[org.learner.id], kinds[org.colleague.id]
    assert (mine[date(2026, 9, 20)].kind, calendar_group[date(2026, 9, 20)].kind) == (REST, WORKDAY)
    assert (mine[date(2026, 10, 10)].kind, calendar_group[date(2026, 10, 10)].kind) == (REST, WORKDAY)
    assert mine[date(2026, 10, 1)].kind == REST and mine[date(2026, 9, 21)].kind == WORKDAY
