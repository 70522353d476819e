"""Demo self-service records: requests waiting in the demo manager's inbox (张伟, E0010).

His team lead 刘洋 (E0011) applies for annual leave (his request goes to 张伟) and is marked away
today, so requests of 刘洋's reps — a late leave request, and 王芳's missed-punch correction — wait
for 张伟 as the manager's manager. Everything goes through the real services.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from lms import clock
from lms.absence import calendar
from lms.extensions import db
from lms.people.models import Employee
from lms.requests import corrections, leave_requests
from lms.requests.models import AwayMark
from lms.requests.rules import RequestRefused


def load_requests_demo() -> None:
    people = {e.employee_no: e for e in db.session.scalars(select(Employee).where(
        Employee.employee_no.in_(("E0011", "E0013", "E0016"))))}
    if len(people) < 3:
        return
    today = clock.today()
    try:
        leave_requests.submit_request(people["E0011"], type="annual", start=today + timedelta(days=7),
                                      end=today + timedelta(days=9), reason="带父母去医院复查", actor="demo")
        db.session.add(AwayMark(employee_id=people["E0011"].id, starts_on=today, ends_on=today + timedelta(days=1),
                                set_by="demo"))
        db.session.commit()
        leave_requests.submit_request(people["E0016"], type="personal", start=today + timedelta(days=1),
                                      end=today + timedelta(days=1), reason="孩子学校开家长会", actor="demo")
        before = [day for day in calendar.working_days(today - timedelta(days=6), today) if day < today]
        if before:
            day = before[-1]
            corrections.submit_correction(people["E0013"], day, clock.as_utc(datetime.combine(day, time(8, 40))),
                                          "考勤机排队故障，实际08:40到岗，有同事可以证明", actor="demo")
    except RequestRefused:  # no rules in force: the demo shows no requests
        db.session.rollback()
