"""Demo records for absence: a warehouse shift, ten days of punches and leave, and three live cases.

Everything goes through the real services, and the scan runs at the moments the scheduler would
have run over those days, so the cases carry real alerts, counted days and HR to-dos:

- E0030 (物流部) has been absent for the last four working days and today: threshold reached;
- E0014 (销售部) missed the last two working days and today, and answered the SMS link: awaiting HR;
- 王芳 (E0013, the demo employee) has no punch today: her alert arrives at 11:00.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from lms import clock
from lms.absence import calendar, cases, decisions, detection, leave, punches, rules, schedules, steps
from lms.absence.models import AbsenceCase
from lms.extensions import db
from lms.people.models import Employee

WAREHOUSE = ("E0024", "E0025", "E0026", "E0027", "E0028", "E0029", "E0030")


def load_absence_demo() -> None:
    try:
        rules.rules_in_force()
    except rules.RulesMissing:  # no rules synced: nothing to watch by
        return
    today = clock.today()
    start = today - timedelta(days=10)
    group = schedules.save_shift_group("物流早班", time(7, 30), time(16, 30), actor="demo")
    schedules.assign(list(WAREHOUSE), group.id, actor="demo")
    workdays = calendar.working_days(start, today)
    recent = [day for day in workdays if day < today]
    absent = {"E0030": set(recent[-4:]) | {today}, "E0014": set(recent[-2:]) | {today}, "E0013": {today}}
    leave.record_leaves([
        (1, {"employee_no": "E0015", "type": "annual", "start": today - timedelta(days=2),
             "end": today + timedelta(days=2), "approved_by": "E0010"}),
        (2, {"employee_no": "E0036", "type": "sick", "start": recent[-1] if recent else today,
             "end": recent[-1] if recent else today, "approved_by": "E0035", "note": "急性肠胃炎，附医院证明"}),
    ], source="demo", actor="demo")
    cases.start_monitoring(start, actor="demo", confirm_past=True,
                           reason="演示：从十天前开始，演示里才有案件可看")
    _punch_everyone(workdays, absent)
    _run_scheduler(start, today)
    _reply_for("E0014", "手机坏了，家里有急事回了老家，下周一回来，请假条补交。")


def _punch_everyone(workdays: list[date], absent: dict[str, set[date]]) -> None:
    rng = random.Random(20260615)
    now = clock.now()
    rows = []
    numbers = db.session.scalars(select(Employee.employee_no).where(Employee.status != "terminated")).all()
    for day in workdays:
        for number in numbers:
            if day in absent.get(number, ()):
                continue
            base = time(7, 10) if number in WAREHOUSE else time(8, 30)
            moment = clock.as_utc(datetime.combine(day, base) + timedelta(minutes=rng.randint(0, 35)))
            if moment <= now:
                rows.append((len(rows) + 1, {"employee_no": number, "punched_at": moment.isoformat()}))
    punches.save_punches(punches.PunchBatch(rows=rows), source="demo", actor="demo")


def _run_scheduler(start: date, today: date) -> None:
    """The scan and the sends at the moments the minute tick would have done them."""
    now = clock.now()
    moments = []
    for offset in range((today - start).days + 1):
        day = start + timedelta(days=offset)
        moments += [clock.as_utc(datetime.combine(day, time(hour))) for hour in (0, 9, 10, 11, 15)]
    for moment in [m for m in moments if m <= now] + [now]:
        with clock.frozen(moment):
            detection.scan(moment)
            steps.send_due_steps(moment)


def _reply_for(employee_no: str, text: str) -> None:
    case = db.session.scalars(select(AbsenceCase).join(Employee).where(
        Employee.employee_no == employee_no, AbsenceCase.state != "resolved")).first()
    if case is not None:
        decisions.record_reply(case, text, "link", actor=f"employee:{case.employee_id}")
