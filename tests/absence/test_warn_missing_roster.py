"""A roster month not entered: the days of those on it are unknown — no case, a warning to HR, never guessed."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from lms import clock
from lms.absence import rosters, schedules, workdays
from tests.absence.conftest import everyone_present, run_ticks
from tests.absence.rosters_helpers import cases_of, punch_daily


def test_a_missing_roster_month_is_unknown_warned_and_watched_once_entered(absence_setup, login_as):
    org = absence_setup
    group = schedules.save_shift_group("保安班", time(9), time(18), pattern="roster")
    schedules.assign([org.learner.employee_no, org.colleague.employee_no], group.id)
    rosters.save_roster("2026-06", "1-30", shift_group="保安班")  # June entered for the group; July not yet
    rosters.save_roster("2026-07", "1-31", employee_no=org.colleague.employee_no)  # he has his own July
    everyone_present(org, date(2026, 6, 1), date(2026, 7, 31), but=[org.learner, org.colleague])
    punch_daily(org.learner, date(2026, 6, 1), date(2026, 6, 30))  # she stops coming on 7.1
    punch_daily(org.colleague, date(2026, 6, 1), date(2026, 7, 31))
    run_ticks(datetime(2026, 7, 1, 8, 0), datetime(2026, 7, 3, 12, 0), every=timedelta(hours=2))
    assert cases_of(org.learner) == []  # her July days are unknown: not counted, no message
    assert workdays.unknown_employee_ids(date(2026, 7, 1)) == [org.learner.id]
    assert workdays.unknown_employee_ids(date(2026, 6, 30)) == []
    kinds = workdays.kinds_for([org.learner.id], date(2026, 7, 1), date(2026, 7, 1))[org.learner.id]
    assert kinds[date(2026, 7, 1)].kind == "unknown"
    with clock.frozen(clock.as_utc(datetime(2026, 7, 2, 9, 0))):
        [gap] = workdays.missing_rosters(date(2026, 7, 2), date(2026, 7, 31))
        assert (gap.group_name, gap.month, gap.members) == ("保安班", date(2026, 7, 1), 1)
        page = login_as("hr").get("/absence/").get_data(as_text=True)
        assert 'data-test="roster-warning"' in page and "保安班" in page and "2026-07" in page
    # The roster arrives: from then on her days are watched (her working day 7.6 is absent).
    rosters.save_roster("2026-07", "6-10", shift_group="保安班")
    run_ticks(datetime(2026, 7, 6, 8, 0), datetime(2026, 7, 6, 12, 0))
    [case] = cases_of(org.learner)
    assert case.first_day == date(2026, 7, 6)
    assert workdays.missing_rosters(date(2026, 7, 2), date(2026, 7, 31)) == []


def test_days_without_a_roster_are_scanned_after_the_fact_once_it_arrives(absence_setup):
    from sqlalchemy import func, select

    from lms.absence.models import ScanGap
    from lms.extensions import db
    from lms.notify.models import Message

    org = absence_setup
    group = schedules.save_shift_group("保安班", time(9), time(18), pattern="roster")
    schedules.assign([org.learner.employee_no], group.id)
    rosters.save_roster("2026-06", "1-30", shift_group="保安班")  # July is missing
    everyone_present(org, date(2026, 6, 1), date(2026, 7, 31), but=[org.learner])
    punch_daily(org.learner, date(2026, 6, 1), date(2026, 6, 30))  # she stops coming on 7.1
    run_ticks(datetime(2026, 7, 1, 8, 0), datetime(2026, 7, 3, 8, 0), every=timedelta(hours=4))
    assert cases_of(org.learner) == []
    assert sorted(day for _e, day in db.session.execute(select(ScanGap.employee_id, ScanGap.day))) == [
        date(2026, 7, 1), date(2026, 7, 2)]
    messages = db.session.scalar(select(func.count()).select_from(Message))
    # July's roster arrives on 7.3 with 7.1–7.3 as her working days: the two past days are found
    # after the fact (a case to review, nothing sent); 7.3 itself is a live day.
    with clock.frozen(clock.as_utc(datetime(2026, 7, 3, 9, 0))):
        rosters.save_roster("2026-07", "1-3, 6-10", shift_group="保安班")
    run_ticks(datetime(2026, 7, 3, 9, 0), datetime(2026, 7, 3, 9, 0))
    [case] = cases_of(org.learner)
    assert case.state == "review" and case.days_to_confirm == [date(2026, 7, 1), date(2026, 7, 2)]
    assert db.session.scalar(select(func.count()).select_from(Message)) == messages
    assert db.session.execute(select(ScanGap.day)).all() == []
