"""Reminders and escalation, each exactly once per person and step (SPEC §3).

For an open assignment due on D (N days' notice, G days' grace, both from its template or campaign):
`before` to the employee on D − N, `due` to the employee on D, `manager` to the direct manager on the
first working day after D, `hr` to HR on the first working day after D + G. A step falling on a rest
day goes out on the next working day; every step goes out at 09:30 company time. Passing the exam
(an attempt started in the assignment's cycle) stops whatever is still pending; so does termination.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import exists, select

from lms import clock, notify
from lms.absence import calendar
from lms.bulk import among, insert_ignoring_conflicts
from lms.campaigns.models import Assignment, Reminder
from lms.exams.models import ExamAttempt, ExamVersion
from lms.extensions import db
from lms.people.models import Employee, User

SEND_AT = time(9, 30)
STEPS = ("before", "due", "manager", "hr")
LOOKAHEAD_DAYS = 31  # the longest run of rest days is 8; an unknown calendar day stops a step


def _first_workday(day: date, days: dict) -> date | None:
    for n in range(LOOKAHEAD_DAYS):
        info = days.get(day + timedelta(days=n))
        if info is None or info.kind == calendar.UNKNOWN:
            return None  # never guess: the step waits until HR enters that year
        if info.is_workday:
            return day + timedelta(days=n)
    return None


def step_days(due_on: date, days_before: int, grace_days: int, days: dict) -> dict[str, date | None]:
    """The day each step goes out (a working day), from the classified calendar `days`."""
    return {"before": _first_workday(due_on - timedelta(days=days_before), days),
            "due": _first_workday(due_on, days),
            "manager": _first_workday(due_on + timedelta(days=1), days),
            "hr": _first_workday(due_on + timedelta(days=grace_days + 1), days)}


def send_instant(day: date) -> datetime:
    return clock.as_utc(datetime.combine(day, SEND_AT))


def _passed_in_cycle():
    return exists().where(ExamAttempt.employee_id == Assignment.employee_id,
                          ExamAttempt.exam_slug == Assignment.exam_slug, ExamAttempt.is_passed.is_(True),
                          ExamAttempt.started_at >= Assignment.assigned_at)


def send_due_reminders(now: datetime) -> int:
    """Send every step that has come for open assignments, once; returns how many messages went."""
    today = clock.local(now).date()
    rows = db.session.execute(
        select(Assignment.id, Assignment.employee_id, Assignment.due_on, Assignment.remind_days_before,
               Assignment.grace_days, Assignment.exam_slug, Employee.manager_id, Employee.name)
        .join(Employee, Employee.id == Assignment.employee_id)
        .where(Assignment.completed_at.is_(None), Employee.status != "terminated",
               ~_passed_in_cycle())).all()
    rows = [r for r in rows if r.due_on - timedelta(days=r.remind_days_before) <= today]
    if not rows:
        return 0
    start = min(r.due_on - timedelta(days=r.remind_days_before) for r in rows)
    end = max(r.due_on + timedelta(days=r.grace_days + 1) for r in rows) + timedelta(days=LOOKAHEAD_DAYS)
    days = calendar.classify(start + timedelta(days=n) for n in range((end - start).days + 1))
    hr_ids = list(db.session.scalars(select(User.employee_id).where(User.role == "hr", User.is_enabled.is_(True),
                                                                    User.employee_id.is_not(None))))
    wanted = []
    for row in rows:
        when = step_days(row.due_on, row.remind_days_before, row.grace_days, days)
        for step in STEPS:
            day = when[step]
            if day is None or now < send_instant(day):
                continue
            if step == "before" and today > row.due_on:
                continue  # a missed "before" is stale once the due date has passed
            recipients = {"before": [(row.employee_id, "employee")], "due": [(row.employee_id, "employee")],
                          "manager": [(row.manager_id, "manager")] if row.manager_id else [],
                          "hr": [(hr_id, "hr") for hr_id in hr_ids if hr_id != row.employee_id]}[step]
            wanted.extend({"assignment_id": row.id, "step": step, "recipient_id": rid, "recipient_role": role,
                           "sent_at": now} for rid, role in recipients)
    sent = _sent_keys(sorted({w["assignment_id"] for w in wanted}))
    wanted = [w for w in wanted if (w["assignment_id"], w["step"], w["recipient_id"]) not in sent]
    if not wanted:
        return 0
    by_id = {r.id: r for r in rows}
    titles = {slug: (zh, en) for slug, zh, en in db.session.execute(
        select(ExamVersion.slug, ExamVersion.title_zh, ExamVersion.title_en).order_by(ExamVersion.number))}
    # Send, then record: notify.send sends a step key once, so a pass that dies in between (or a second
    # worker) sends nothing twice, and the next pass records what went.
    for reminder in wanted:
        row = by_id[reminder["assignment_id"]]
        zh, en = titles.get(row.exam_slug, (row.exam_slug, row.exam_slug))
        context = {"employee": row.name, "exam_zh": zh, "exam_en": en, "due": row.due_on.isoformat(),
                   "overdue_days": (today - row.due_on).days}
        notify.send(f"refresher:{row.id}:{reminder['step']}", reminder["recipient_id"], f"refresher_{reminder['step']}",
                    context, ["inapp", "sms"] if reminder["step"] in ("before", "due") else ["inapp"],
                    evidence_subject=f"employee:{row.employee_id}")
    table = Reminder.__table__
    recorded = insert_ignoring_conflicts(table, wanted, [table.c.id],
                                         index_elements=["assignment_id", "step", "recipient_id"])
    db.session.commit()
    return len(recorded)


def _sent_keys(assignment_ids: list[int]) -> set[tuple[int, str, int]]:
    sent = set()
    for condition in among(Reminder.assignment_id, assignment_ids):
        sent.update(db.session.execute(select(Reminder.assignment_id, Reminder.step, Reminder.recipient_id)
                                       .where(condition)).all())
    return sent


def reminders_of(assignment_ids: list[int]) -> dict[int, list[Reminder]]:
    """The reminders sent for these assignments, in order (one query per slice of ids)."""
    found: dict[int, list[Reminder]] = {}
    for condition in among(Reminder.assignment_id, assignment_ids):
        for reminder in db.session.scalars(select(Reminder).where(condition).order_by(Reminder.sent_at, Reminder.id)):
            found.setdefault(reminder.assignment_id, []).append(reminder)
    return found
