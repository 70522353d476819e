"""Demo records for campaigns: the shipped quarterly template launched for the previous and the current
quarter on their first working days, some people passed, the others overdue (and reminded)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from lms import clock
from lms.campaigns import reminders, templates
from lms.campaigns.models import Assignment
from lms.courses.demo import FINISHED
from lms.exams import services as exams
from lms.extensions import db
from lms.people.models import Employee

PASSING = (*FINISHED, "E0015", "E0016", "E0026")
NOT_THIS_TIME = ("E0013",)  # the demo employee still has this quarter's refresher to take


def _pass(employee_id: int, slug: str) -> None:
    try:
        attempt = exams.start_attempt(employee_id, slug)
    except exams.ExamRefused:
        return
    for item in attempt.paper:
        exams.save_answer(attempt, item["n"], exams.answer_key(item))
    exams.submit(attempt, None)


def load_campaign_demo() -> None:
    tpl = templates.template("quarterly-refresher")
    if tpl is None:
        return
    today = clock.today()
    _period, start = templates.period_of(today, tpl.every)
    previous_period, previous_start = templates.period_of(start - timedelta(days=1), tpl.every)
    people = dict(db.session.execute(select(Employee.employee_no, Employee.id)).all())
    for period, first_day in ((previous_period, previous_start), (_period, start)):
        launch_on = templates.first_working_day(first_day)
        if launch_on is None or launch_on > today:
            continue
        with clock.frozen(clock.as_utc(datetime.combine(launch_on, time(9, 0)))):
            campaign = templates._launch(tpl, period, launch_on, None)
        with clock.frozen(clock.as_utc(datetime.combine(launch_on + timedelta(days=2), time(10, 0)))):
            assigned = set(db.session.scalars(select(Assignment.employee_id).where(
                Assignment.campaign_id == campaign.id)))
            for number in PASSING:
                if people.get(number) in assigned and (period == previous_period or number not in NOT_THIS_TIME):
                    _pass(people[number], "quarterly-refresher")
    reminders.send_due_reminders(clock.now())
