"""Days the calendar did not know are scanned again once HR enters the year: after the fact, no messages."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from lms import clock
from lms.absence import calendar, cases
from lms.absence.models import AbsenceCase, ScanDay
from lms.extensions import db
from lms.notify.models import Message
from tests.absence.conftest import everyone_present, run_ticks


def test_unknown_days_are_scanned_once_the_year_is_entered(app, org, content):
    content.sync()
    with clock.frozen(clock.as_utc(datetime(2026, 12, 30, 12, 0))):
        cases.start_monitoring(date(2027, 1, 4))  # chinesecalendar 1.11 knows nothing of 2027
    everyone_present(org, date(2027, 1, 4), date(2027, 1, 12), but=[org.learner])
    run_ticks(datetime(2027, 1, 4, 8, 0), datetime(2027, 1, 7, 8, 0), every=timedelta(hours=6))
    assert db.session.scalars(select(AbsenceCase)).all() == []
    assert {d.status for d in db.session.scalars(select(ScanDay))} == {"unknown"}
    with clock.frozen(clock.as_utc(datetime(2027, 1, 7, 9, 0))):
        calendar.enter_year(2027, "2027-01-01 休 元旦", "国办发明电〔2026〕X号", org.users["hr"])
    run_ticks(datetime(2027, 1, 7, 9, 0), datetime(2027, 1, 7, 9, 0))
    case = db.session.scalars(select(AbsenceCase)).one()
    assert case.employee_id == org.learner.id and case.state == "review"
    assert case.days_to_confirm == [date(2027, 1, 4), date(2027, 1, 5), date(2027, 1, 6)]
    assert db.session.scalar(select(func.count()).select_from(Message)) == 0
    assert {d.status for d in db.session.scalars(select(ScanDay))} == {"scanned"}
