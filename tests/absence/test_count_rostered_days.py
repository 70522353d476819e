"""Rosters decide a rostered employee's working days: rest days midweek, work at weekends (issue 12, item 3)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from lms import clock
from lms.absence import rosters, schedules
from lms.absence.workdays import month_days
from tests.absence.conftest import add_leave, everyone_present, run_ticks
from tests.absence.rosters_helpers import cases_of, punch_daily, step_times


def _on_roster(org, working_days):
    group = schedules.save_shift_group("保安班", time(9), time(18), pattern="roster")
    schedules.assign([org.learner.employee_no], group.id)
    rosters.save_roster("2026-06", [d.isoformat() for d in working_days], employee_no=org.learner.employee_no)
    return group


def test_a_rostered_rest_day_on_a_tuesday_is_not_counted_and_does_not_break_the_run(absence_setup):
    org = absence_setup
    # June 2026: she works every day but Tuesday and Wednesday, the Dragon Boat Festival (Fri 6.19) too.
    _on_roster(org, [d for d in month_days(date(2026, 6, 1)) if d.isoweekday() not in (2, 3)])
    add_leave(org.learner, date(2026, 6, 1), date(2026, 6, 14))
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 30), but=[org.learner])
    run_ticks(datetime(2026, 6, 14, 23, 0), datetime(2026, 6, 20, 12, 0), every=timedelta(hours=2))
    [case] = cases_of(org.learner)
    # Mon 6.15 absent; Tue 6.16 and Wed 6.17 her rest days; Thu 6.18 and Fri 6.19 absent: three in a row.
    assert case.counted_days == [date(2026, 6, 15), date(2026, 6, 18), date(2026, 6, 19)]
    assert case.state == "threshold_reached"
    assert case.threshold_reached_at == clock.as_utc(datetime(2026, 6, 20, 0, 0))
    keys = [key for key, _status, _due in step_times(case)]
    assert "reminder:2026-06-16" not in keys and "reminder:2026-06-17" not in keys
    assert "reminder:2026-06-18" in keys and "reminder:2026-06-19" in keys


def test_a_rostered_saturday_is_watched_alerted_at_shift_start_plus_two_hours_and_counted(absence_setup):
    org = absence_setup
    weekdays = [d for d in month_days(date(2026, 6, 1)) if d.isoweekday() <= 5 and d != date(2026, 6, 19)]
    _on_roster(org, [*weekdays, date(2026, 6, 20)])  # Saturday 6.20 is a working day on her roster
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 30), but=[org.learner])
    punch_daily(org.learner, date(2026, 6, 1), date(2026, 6, 19))
    run_ticks(datetime(2026, 6, 20, 8, 0), datetime(2026, 6, 21, 1, 0))
    [case] = cases_of(org.learner)
    assert case.first_day == date(2026, 6, 20)
    assert step_times(case)[0] == ("alert1", "sent", "06-20 11:00")
    assert case.counted_days == [date(2026, 6, 20)]
    # Nobody else works Saturdays: nobody else has a case.
    assert all(not cases_of(person) for person in (org.manager, org.colleague, org.outsider))
