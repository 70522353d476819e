"""Reminders for one campaign: a terminated employee gets nothing more, a repeated tick sends nothing
twice, a reminder falling on a holiday goes out on the next working day at 09:30."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from lms import clock
from lms.campaigns import reminders, services
from lms.campaigns.models import Reminder
from lms.extensions import db
from lms.notify.models import Message


def launch(due_on: date, launch_on: date = date(2026, 9, 1)):
    campaign = services.create_campaign({"name": "Q3", "kind": "refresher", "launch_on": launch_on,
                                         "due_on": due_on,
                                         "rules": [{"department": "销售部", "course": "handbook",
                                                    "exam": "onboarding"}]})
    with clock.frozen(datetime(2026, 9, 1, 9, 0)):
        return services.launch(campaign.id)


def sent_steps(employee_id: int) -> list[tuple[str, str]]:
    rows = db.session.scalars(select(Reminder).where(Reminder.recipient_id == employee_id).order_by(Reminder.id))
    return [(r.step, clock.local(r.sent_at).strftime("%m-%d %H:%M")) for r in rows]


def test_a_reminder_on_a_holiday_waits_for_the_next_working_day_at_half_past_nine(synced, make_employee):
    person = make_employee("王芳", status="active")
    launch(due_on=date(2026, 10, 9))  # 3 days before = 10.6, in the National Day holiday
    for moment in (datetime(2026, 10, 6, 9, 30), datetime(2026, 10, 8, 9, 29)):
        assert reminders.send_due_reminders(clock.as_utc(moment)) == 0
    assert reminders.send_due_reminders(clock.as_utc(datetime(2026, 10, 8, 9, 30))) == 1
    assert reminders.send_due_reminders(clock.as_utc(datetime(2026, 10, 8, 16, 0))) == 0  # once
    assert sent_steps(person.id) == [("before", "10-08 09:30")]


def test_a_terminated_employee_gets_no_more_reminders(synced, make_employee, make_user):
    boss = make_employee("经理", department="行政部", status="active")
    person = make_employee("将离职", manager=boss, status="active")
    launch(due_on=date(2026, 9, 30))
    assert reminders.send_due_reminders(clock.as_utc(datetime(2026, 9, 28, 9, 30))) == 1  # 3 days before: 9.27 rest
    person.status = "terminated"
    db.session.commit()
    for day in range(29, 31):
        reminders.send_due_reminders(clock.as_utc(datetime(2026, 9, day, 10, 0)))
    reminders.send_due_reminders(clock.as_utc(datetime(2026, 10, 20, 10, 0)))
    assert sent_steps(person.id) == [("before", "09-28 09:30")]
    assert sent_steps(boss.id) == []
    assert db.session.scalar(select(Message.step_key).where(Message.recipient_id == person.id)).endswith(":before")


def test_a_pass_that_died_before_recording_sends_nothing_twice(synced, make_employee):
    person = make_employee("王芳", status="active")
    launch(due_on=date(2026, 9, 30))
    at = clock.as_utc(datetime(2026, 9, 28, 9, 30))
    assert reminders.send_due_reminders(at) == 1
    db.session.execute(Reminder.__table__.delete())  # as if the pass had died after sending
    db.session.commit()
    assert reminders.send_due_reminders(at) == 1  # recorded again …
    messages = db.session.scalars(select(Message).where(Message.recipient_id == person.id)).all()
    assert [m.step_key.rsplit(":", 1)[1] for m in messages] == ["before"]  # … but sent once
