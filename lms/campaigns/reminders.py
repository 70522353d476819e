"""Reminders and escalation, each exactly once per person and step (SPEC §3).

For an open assignment due on D (N days' notice, G days' grace, both from its template or campaign):
`before` to the employee on D − N, `due` to the employee on D, `manager` to the direct manager on the
first working day after the due reminder's day, `hr` to HR on the first working day after D + G. A step
falling on a rest day goes out on the next working day; every step goes out at 09:30 company time.

One reminder a day: when D − N falls in a holiday and moves to a working day on or after the due
reminder's day (National Day, the Spring Festival), the early reminder is skipped — the person gets
the due reminder alone. Passing the exam (an attempt started in the assignment's cycle) stops whatever
is still pending; so does leaving (a termination confirmed or done: they are leaving, not training).

Each assignment carries `next_reminder_on`, the earliest day a pending step may go out (NULL once
nothing is pending): the pass reads only assignments whose day has come, through its index, never
every open assignment.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import bindparam, exists, select, update

from lms import clock, notify
from lms.absence import calendar
from lms.bulk import among, insert_ignoring_conflicts
from lms.campaigns.models import Assignment, Reminder
from lms.exams.models import ExamAttempt, ExamVersion
from lms.extensions import db
from lms.people.access import hr_employee_ids
from lms.people.models import Employee

SEND_AT = time(9, 30)
STEPS = ("before", "due", "manager", "hr")
LOOKAHEAD_DAYS = 31  # the longest run of rest days is 8; an unknown calendar day stops a step
PAUSED = ("termination_pending",)  # still employed, leaving: nothing is sent, the steps wait
STOPPED = ("terminated",)  # gone: nothing is ever sent again


def _first_workday(day: date, days: dict) -> date | None:
    for n in range(LOOKAHEAD_DAYS):
        info = days.get(day + timedelta(days=n))
        if info is None or info.kind == calendar.UNKNOWN:
            return None  # never guess: the step waits until HR enters that year
        if info.is_workday:
            return day + timedelta(days=n)
    return None


def first_reminder_day(due_on: date, days_before: int) -> date:
    """The earliest day any step of an assignment may go out (before any holiday moves it)."""
    return due_on - timedelta(days=days_before)


def step_days(due_on: date, days_before: int, grace_days: int, days: dict) -> dict[str, date | None]:
    """The working day each step goes out, from the classified calendar `days` (None: the calendar does
    not know yet). `before` is left out when it would land on or after the due reminder's day."""
    due = _first_workday(due_on, days)
    when = {"before": _first_workday(first_reminder_day(due_on, days_before), days), "due": due,
            "manager": _first_workday(max(due_on, due or due_on) + timedelta(days=1), days),
            "hr": _first_workday(due_on + timedelta(days=grace_days + 1), days)}
    if when["before"] is not None and due is not None and when["before"] >= due:
        del when["before"]  # one reminder a day: the due reminder alone
    return when


def _nominal_days(due_on: date, days_before: int, grace_days: int) -> dict[str, date]:
    return {"before": first_reminder_day(due_on, days_before), "due": due_on,
            "manager": due_on + timedelta(days=1), "hr": due_on + timedelta(days=grace_days + 1)}


def send_instant(day: date) -> datetime:
    return clock.as_utc(datetime.combine(day, SEND_AT))


def _passed_in_cycle():
    return exists().where(ExamAttempt.employee_id == Assignment.employee_id,
                          ExamAttempt.exam_slug == Assignment.exam_slug, ExamAttempt.is_passed.is_(True),
                          ExamAttempt.started_at >= Assignment.assigned_at)


def due_candidates(today: date):
    """The assignments whose next reminder day has come (through its index), with what the pass needs."""
    return (select(Assignment.id, Assignment.employee_id, Assignment.due_on, Assignment.remind_days_before,
               Assignment.grace_days, Assignment.exam_slug, Assignment.next_reminder_on, Employee.manager_id,
               Employee.name, Employee.status, _passed_in_cycle().label("passed"))
        .join(Employee, Employee.id == Assignment.employee_id)
        # A completed assignment has no next day (complete_by_attempt clears it): one indexed range.
        .where(Assignment.next_reminder_on <= today))


def send_due_reminders(now: datetime) -> int:
    """Send every step that has come for open assignments, once; returns how many messages went."""
    today = clock.local(now).date()
    rows = db.session.execute(due_candidates(today)).all()
    rows = [r for r in rows if r.status not in PAUSED]
    if not rows:
        return 0
    start = min(first_reminder_day(r.due_on, r.remind_days_before) for r in rows)
    end = max(r.due_on + timedelta(days=r.grace_days + 1) for r in rows) + timedelta(days=LOOKAHEAD_DAYS)
    days = calendar.classify(start + timedelta(days=n) for n in range((end - start).days + 1))
    hr_ids = hr_employee_ids()
    sent = _sent_keys([r.id for r in rows])
    sent_steps = {(assignment_id, step) for assignment_id, step, _recipient in sent}
    wanted, next_day = [], {}
    for row in rows:
        if row.passed or row.status in STOPPED:
            next_day[row.id] = None
            continue
        when, nominal = step_days(row.due_on, row.remind_days_before, row.grace_days, days), \
            _nominal_days(row.due_on, row.remind_days_before, row.grace_days)
        pending = []
        for step in STEPS:
            if step not in when or (row.id, step) in sent_steps:
                continue
            day = when[step]
            if step == "before" and today > row.due_on:
                continue  # a missed "before" is stale once the due date has passed
            if day is None or now < send_instant(day):
                pending.append(day or nominal[step])
                continue
            recipients = {"before": [(row.employee_id, "employee")], "due": [(row.employee_id, "employee")],
                          "manager": [(row.manager_id, "manager")] if row.manager_id else [],
                          "hr": [(hr_id, "hr") for hr_id in hr_ids if hr_id != row.employee_id]}[step]
            if step == "hr" and not recipients:
                pending.append(day)  # no HR account yet: HR is told once one exists
                continue
            wanted.extend({"assignment_id": row.id, "step": step, "recipient_id": rid, "recipient_role": role,
                           "sent_at": now} for rid, role in recipients
                          if (row.id, step, rid) not in sent)
        next_day[row.id] = min(pending, default=None)
    if not wanted:
        _move_next_days(_changed(rows, next_day))
        db.session.commit()
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
    # Moved with the record, in one commit: a pass that dies before it leaves both for the next pass.
    _move_next_days(_changed(rows, next_day))
    db.session.commit()
    return len(recorded)


def _changed(rows, next_day: dict[int, date | None]) -> dict[int, date | None]:
    current = {r.id: r.next_reminder_on for r in rows}
    return {i: day for i, day in next_day.items() if day != current[i]}


def _move_next_days(changes: dict[int, date | None]) -> None:
    """Each assignment's next reminder day, in one executemany statement."""
    if not changes:
        return
    table = Assignment.__table__
    db.session.execute(update(table).where(table.c.id == bindparam("b_id"))
                       .values(next_reminder_on=bindparam("b_day")),
                       [{"b_id": i, "b_day": day} for i, day in changes.items()])


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
