"""The shift day of a punch: a clock-out after midnight ends the previous day's shift (issue 12, item 9)."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import select

from lms import clock
from lms.absence import punches, schedules
from lms.absence.models import Punch
from lms.extensions import db
from tests.absence.conftest import add_leave, everyone_present, run_ticks
from tests.absence.rosters_helpers import cases_of


def _work_days(employee) -> list[tuple[str, date]]:
    return [(clock.local(at).strftime("%m-%d %H:%M"), day) for at, day in db.session.execute(
        select(Punch.punched_at, Punch.work_day).where(Punch.employee_id == employee.id).order_by(Punch.punched_at))]


def test_a_clock_out_at_00_30_counts_for_the_previous_day_not_as_presence_the_next(absence_setup):
    org = absence_setup
    add_leave(org.learner, date(2026, 6, 1), date(2026, 6, 14))
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 30), but=[org.learner])
    with clock.frozen(clock.as_utc(datetime(2026, 6, 16, 1, 0))):
        punches.import_punch_file("clock.csv", (f"employee_no,punched_at\n{org.learner.employee_no},2026-06-15 08:57\n"
                                                f"{org.learner.employee_no},2026-06-16 00:30\n").encode())
    assert _work_days(org.learner) == [("06-15 08:57", date(2026, 6, 15)), ("06-16 00:30", date(2026, 6, 15))]
    run_ticks(datetime(2026, 6, 15, 10, 0), datetime(2026, 6, 16, 12, 0))
    [case] = cases_of(org.learner)  # no other punch on the 16th: she is absent that day
    assert case.first_day == date(2026, 6, 16) and case.is_open


def test_a_dingtalk_next_day_punch_is_the_attendance_dates(absence_setup):
    org = absence_setup
    no = org.learner.employee_no
    data = ("考勤报表 原始记录\n工号,姓名,考勤日期,打卡时间,打卡结果\n"
            f"{no},王芳,2026-06-15 星期一,08:58,正常\n"
            f"{no},王芳,2026-06-15 星期一,次日 02:10,正常\n")  # after the 01:30 cut-off, but DingTalk says whose
    with clock.frozen(clock.as_utc(datetime(2026, 6, 16, 3, 0))):
        report = punches.import_punch_file("钉钉.csv", data.encode())
    assert report.days == (date(2026, 6, 15),)
    assert _work_days(org.learner) == [("06-15 08:58", date(2026, 6, 15)), ("06-16 02:10", date(2026, 6, 15))]


def test_the_cut_off_follows_the_groups_hours(app, org):
    late = schedules.save_shift_group("晚班", time(13), time(23))
    schedules.assign([org.colleague.employee_no], late.id)
    # 13:00–23:00: the midpoint between 23:00 and the next 13:00 is 06:00; an early shift has none after midnight.
    assert schedules.shift_for(org.colleague.id).day_cutoff.total_seconds() == 6 * 3600
    early = schedules.Shift(None, "早班", time(7), time(16))
    assert early.shift_day(clock.as_utc(datetime(2026, 6, 16, 0, 5))) == date(2026, 6, 16)
    with clock.frozen(clock.as_utc(datetime(2026, 6, 16, 12, 0))):
        punches.save_punches(punches.PunchBatch([(1, {"employee_no": org.colleague.employee_no,
                                                      "punched_at": "2026-06-16 04:40"})]), source="test")
    assert _work_days(org.colleague) == [("06-16 04:40", date(2026, 6, 15))]
