"""One reminder a day: when "N days before" falls in a holiday and moves to the due reminder's day (or
later), the early reminder is skipped. Checked for every due date of 2026 against the official calendar,
and by the tick over the Spring Festival and National Day."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from lms import clock
from lms.absence import calendar
from lms.campaigns import reminders, services
from lms.campaigns.models import Reminder
from lms.extensions import db


def test_across_2026_the_early_reminder_is_skipped_exactly_when_it_would_meet_the_due_reminder(app):
    start, end = date(2025, 12, 1), date(2027, 2, 28)
    days = calendar.classify(start + timedelta(days=n) for n in range((end - start).days + 1))
    skipped = set()
    due_on = date(2026, 1, 1)
    while due_on < date(2026, 12, 31):  # the manager's day after 12.31 lies in 2027, not yet published
        for days_before in range(1, 8):
            when = reminders.step_days(due_on, days_before, 5, days)
            workdays = [when[step] for step in reminders.STEPS if step in when and step != "hr"]
            assert all(day is not None and days[day].is_workday for day in workdays)
            # the employee's reminders, then the manager's, each on its own later working day
            assert workdays == sorted(workdays) and len(set(workdays)) == len(workdays), (due_on, days_before, when)
            moved = due_on - timedelta(days=days_before)
            while not days[moved].is_workday:
                moved += timedelta(days=1)
            assert ("before" not in when) == (moved >= when["due"]), (due_on, days_before)
            if "before" not in when:
                skipped.add((due_on, days_before))
        due_on += timedelta(days=1)
    # the Spring Festival (2.15–2.23) and National Day (10.1–10.7) are among the days it happens
    assert (date(2026, 2, 24), 3) in skipped and (date(2026, 10, 8), 3) in skipped
    assert (date(2026, 10, 9), 3) not in skipped  # 10.6 moves to 10.8, the day before the due date


def launch(due_on: date, launch_on: date):
    campaign = services.create_campaign({"name": "节后", "kind": "refresher", "launch_on": launch_on,
                                         "due_on": due_on, "remind_days_before": 3,
                                         "rules": [{"department": "销售部", "course": "handbook",
                                                    "exam": "onboarding"}]})
    with clock.frozen(clock.as_utc(datetime.combine(launch_on, datetime.min.time()))):
        return services.launch(campaign.id)


def run_days(first: date, last: date) -> None:
    day = first
    while day <= last:
        for hour, minute in ((9, 30), (14, 0)):
            reminders.send_due_reminders(clock.as_utc(datetime(day.year, day.month, day.day, hour, minute)))
        day += timedelta(days=1)


def sent(recipient_id: int) -> list[tuple[str, date]]:
    return [(r.step, clock.local(r.sent_at).date()) for r in db.session.scalars(
        select(Reminder).where(Reminder.recipient_id == recipient_id).order_by(Reminder.id))]


def test_after_the_spring_festival_the_person_gets_the_due_reminder_alone(synced, make_employee):
    boss = make_employee("经理", department="行政部", status="active")
    person = make_employee("王芳", manager=boss, status="active")
    launch(due_on=date(2026, 2, 24), launch_on=date(2026, 2, 2))  # 3 days before = 2.21, in the holiday
    run_days(date(2026, 2, 20), date(2026, 2, 27))
    assert sent(person.id) == [("due", date(2026, 2, 24))]
    assert sent(boss.id) == [("manager", date(2026, 2, 25))]


def test_a_due_date_inside_national_day_the_manager_hears_the_working_day_after_the_due_reminder(
        synced, make_employee):
    boss = make_employee("经理", department="行政部", status="active")
    person = make_employee("王芳", manager=boss, status="active")
    launch(due_on=date(2026, 10, 5), launch_on=date(2026, 9, 1))  # 10.2 and 10.5: both in the holiday
    run_days(date(2026, 9, 28), date(2026, 10, 12))
    assert sent(person.id) == [("due", date(2026, 10, 8))]  # the first working day after the holiday
    assert sent(boss.id) == [("manager", date(2026, 10, 9))]  # not on the same day as the due reminder
