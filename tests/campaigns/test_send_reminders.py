"""Reminders for one campaign: a terminated employee gets nothing more, a repeated tick sends nothing
twice, a reminder falling on a holiday goes out on the next working day at 09:30."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select, text, update

from lms import clock
from lms.campaigns import reminders, services
from lms.campaigns.models import Assignment, Reminder
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
    # as if the pass had died after sending, before recording: no reminder row, the next day not moved on
    db.session.execute(Reminder.__table__.delete())
    db.session.execute(update(Assignment).values(next_reminder_on=date(2026, 9, 27)))
    db.session.commit()
    assert reminders.send_due_reminders(at) == 1  # recorded again …
    messages = db.session.scalars(select(Message).where(Message.recipient_id == person.id)).all()
    assert [m.step_key.rsplit(":", 1)[1] for m in messages] == ["before"]  # … but sent once


def test_someone_whose_termination_is_pending_gets_no_reminders_and_neither_does_their_manager(
        synced, make_employee):
    boss = make_employee("经理", department="行政部", status="active")
    leaving = make_employee("待解除", manager=boss, status="active")
    staying = make_employee("留下的", manager=boss, status="active")
    launch(due_on=date(2026, 9, 30))
    leaving.status = "termination_pending"  # HR confirmed the termination; the notice is not served yet
    db.session.commit()
    for day in (28, 29, 30):
        reminders.send_due_reminders(clock.as_utc(datetime(2026, 9, day, 10, 0)))
    reminders.send_due_reminders(clock.as_utc(datetime(2026, 10, 20, 10, 0)))
    assert sent_steps(leaving.id) == []
    assert [step for step, _at in sent_steps(staying.id)] == ["before", "due"]
    assert [step for step, _at in sent_steps(boss.id)] == ["manager"]  # for the one staying only
    assert db.session.scalar(select(Message.id).where(Message.recipient_id == leaving.id)) is None
    # and a new campaign does not target them
    later = services.create_campaign({"name": "Q4", "kind": "refresher", "launch_on": date(2026, 10, 8),
                                      "due_on": date(2026, 11, 9),
                                      "rules": [{"department": "销售部", "course": "handbook", "exam": "onboarding"}]})
    everyone = services.preview(later)
    assert leaving.employee_no not in {row["employee_no"] for row in everyone["assignments"] + everyone["unmatched"]}


def test_the_pass_reads_only_assignments_whose_next_reminder_day_has_come_through_its_index(
        synced, make_employee, make_user):
    person = make_employee("王芳", status="active")
    launch(due_on=date(2026, 9, 30))
    assignment = db.session.scalars(select(Assignment).where(Assignment.employee_id == person.id)).one()
    assert assignment.next_reminder_on == date(2026, 9, 27)  # 3 days before, as assigned
    assert db.session.execute(reminders.due_candidates(date(2026, 9, 26))).all() == []
    reminders.send_due_reminders(clock.as_utc(datetime(2026, 9, 28, 9, 30)))
    db.session.refresh(assignment)
    assert assignment.next_reminder_on == date(2026, 9, 30)  # the due reminder's day
    reminders.send_due_reminders(clock.as_utc(datetime(2026, 10, 30, 9, 30)))
    db.session.refresh(assignment)
    # no HR account to tell yet: HR's step waits (9.30 + 6 days = 10.6, a holiday → 10.8)
    assert assignment.next_reminder_on == date(2026, 10, 8)
    make_user("hr2", "hr", make_employee("人事", department="人力资源部", status="active"))
    reminders.send_due_reminders(clock.as_utc(datetime(2026, 10, 30, 9, 35)))  # every step has gone
    db.session.refresh(assignment)
    assert assignment.next_reminder_on is None
    assert [step for step, _at in sent_steps(person.id)] == ["before", "due"]
    assert db.session.execute(reminders.due_candidates(date(2027, 1, 1))).all() == []
    query = reminders.due_candidates(date(2026, 10, 1)).compile(db.engine, compile_kwargs={"literal_binds": True})
    if db.engine.dialect.name == "sqlite":
        plan = " ".join(str(row) for row in db.session.execute(text(f"EXPLAIN QUERY PLAN {query}")))
    else:  # a tiny table: tell the planner a scan costs what it would at scale
        db.session.execute(text("SET LOCAL enable_seqscan = off"))
        plan = " ".join(str(row) for row in db.session.execute(text(f"EXPLAIN {query}")))
    assert "ix_refresher_assignment_next_reminder_on" in plan, plan
    db.session.rollback()
