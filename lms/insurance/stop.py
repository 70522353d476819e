"""The social-insurance stop (减员/停缴) after employment ends, and the registration of new hires.

Computed from `terminated_on` (any separation), never from a draft. Two policies (LMS_SI_POLICY):
- `pay_final_month` (default): the month employment ends in is paid; the stop runs from the next month,
  filed by that month's cut-off. No uninsured day.
- `stop_before_cutoff` (the seed article's practice): an ending on or before this month's cut-off (or
  before it, where the city's cut-off day itself is too late) stops this month, filed by the cut-off, and
  the days of the month still employed are uninsured: a loss from them is a labour dispute
  (最高人民法院劳动争议司法解释（一）第一条第（五）项). After the cut-off: as the default.
Filing late charges months for nobody, and contributions owed but paid late cost 0.05 % a day
(《社会保险法》第八十六条). Registration is due within 30 days of the start of employment (第五十八条).
"""

from __future__ import annotations

import calendar as month_calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms import clock, evidence, notify
from lms.absence.models import CaseTodo
from lms.documents import files
from lms.extensions import db
from lms.insurance import cities
from lms.insurance.cities import InsuranceError
from lms.insurance.models import CityRule, StopFiling
from lms.people.access import hr_employee_ids
from lms.people.models import Employee

POLICIES = ("pay_final_month", "stop_before_cutoff")
REGISTRATION_DAYS = 30  # 《社会保险法》第五十八条: within 30 days of the start of employment
LATE_SURCHARGE_PER_DAY = "0.05 %"  # 第八十六条


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def cutoff_in(rule: CityRule, month: date) -> date:
    """The cut-off day in `month` (the 31st of a 30-day month is its last day)."""
    last = month_calendar.monthrange(month.year, month.month)[1]
    return month.replace(day=min(rule.cutoff_day, last))


def filing_deadline(rule: CityRule, month: date) -> date:
    """The last day a change for `month` is still in time: the cut-off day, or the day before it where the
    city does not count the cut-off day itself."""
    cutoff = cutoff_in(rule, month)
    return cutoff if rule.cutoff_inclusive else cutoff - timedelta(days=1)


def stop_month(rule: CityRule, ended: date, chosen: str) -> date:
    """The first month not paid: the month employment ends in when the policy stops before the cut-off and the
    end is still in time for it, else the next month."""
    month = ended.replace(day=1)
    cutoff = cutoff_in(rule, month)
    in_time = ended <= cutoff if rule.cutoff_inclusive else ended < cutoff
    return month if chosen == "stop_before_cutoff" and in_time else add_months(month, 1)


def policy() -> str:
    chosen = current_app.config.get("LMS_SI_POLICY") or POLICIES[0]
    if chosen not in POLICIES:
        raise InsuranceError(_l("LMS_SI_POLICY is “%(value)s”; use pay_final_month or stop_before_cutoff.",
                                value=chosen))
    return chosen


@dataclass
class Stop:
    city: str
    policy: str
    terminated_on: date
    last_paid_month: date
    stop_from: date
    filing_due: date
    filed_on: date | None = None
    uninsured: tuple[date, date] | None = None
    charged_for_nobody: list[date] = field(default_factory=list)  # months charged because filing was late
    warnings: list[str] = field(default_factory=list)

    def out(self) -> dict:
        return {"city": self.city, "policy": self.policy, "terminated_on": self.terminated_on.isoformat(),
                "last_paid_month": self.last_paid_month.strftime("%Y-%m"),
                "stop_from": self.stop_from.strftime("%Y-%m"), "filing_due": self.filing_due.isoformat(),
                "filed_on": self.filed_on.isoformat() if self.filed_on else None,
                "uninsured_days": [self.uninsured[0].isoformat(), self.uninsured[1].isoformat()]
                if self.uninsured else None,
                "months_charged_for_nobody": [month.strftime("%Y-%m") for month in self.charged_for_nobody],
                "warnings": self.warnings}


def compute(employee: Employee, filing: StopFiling | None = None, chosen: str | None = None) -> Stop:
    """The stop for an employee whose employment has ended; InsuranceError (NoCityRule naming the city) else."""
    ended = employee.terminated_on
    if employee.status != "terminated" or ended is None:
        raise InsuranceError(_l("%(name)s's employment has not ended: the stop follows the date it ends, never a "
                                "draft.", name=employee.name))
    chosen = chosen or policy()
    rule = cities.in_force(employee.work_city, ended)
    month = ended.replace(day=1)
    warnings = cities.warnings_of(rule)
    if stop_month(rule, ended, chosen) == month:
        stop_from, due, uninsured = month, filing_deadline(rule, month), (month, ended)
        warnings.append(str(_l(
            "Stopping from %(month)s leaves %(start)s–%(end)s uninsured while %(name)s was still employed: a loss "
            "from those days (an injury, an illness) is a labour dispute the company answers for "
            "(最高人民法院劳动争议司法解释（一）第一条第（五）项).", month=month.strftime("%Y-%m"),
            start=month.isoformat(), end=ended.isoformat(), name=employee.name)))
    else:
        stop_from, uninsured = add_months(month, 1), None
        following = cities.rules_in_force([rule.city], stop_from).get(rule.city, rule)
        due = filing_deadline(following, stop_from)
    if filing is None:
        filing = latest_filing(employee.id)
    stop = Stop(rule.city, chosen, ended, add_months(stop_from, -1), stop_from, due,
                filing.filed_on if filing else None, uninsured, warnings=warnings)
    _late(stop, rule)
    return stop


def _late(stop: Stop, rule: CityRule) -> None:
    """Months charged because the filing missed their deadline (filed, or still not filed today)."""
    by = stop.filed_on or clock.today()
    month = stop.stop_from
    while by > filing_deadline(rule, month) and len(stop.charged_for_nobody) < 120:
        stop.charged_for_nobody.append(month)
        month = add_months(month, 1)
    if not stop.charged_for_nobody:
        return
    months = "、".join(m.strftime("%Y-%m") for m in stop.charged_for_nobody)
    if stop.filed_on:
        stop.warnings.append(str(_l(
            "Filed on %(day)s, after the deadline (%(due)s): %(months)s are charged for nobody; contributions owed "
            "and paid late cost a surcharge of %(rate)s a day (《社会保险法》第八十六条).",
            day=stop.filed_on.isoformat(), due=stop.filing_due.isoformat(), months=months,
            rate=LATE_SURCHARGE_PER_DAY)))
    else:
        stop.warnings.append(str(_l(
            "Not filed and the deadline (%(due)s) has passed: %(months)s are being charged for nobody; contributions "
            "owed and paid late cost a surcharge of %(rate)s a day (《社会保险法》第八十六条).",
            due=stop.filing_due.isoformat(), months=months, rate=LATE_SURCHARGE_PER_DAY)))


def latest_filing(employee_id: int) -> StopFiling | None:
    return db.session.scalars(select(StopFiling).where(StopFiling.employee_id == employee_id)
                              .order_by(StopFiling.id.desc()).limit(1)).first()


def record_filing(employee: Employee, filed_on: date, actor, receipt: files.StoredFile | None = None) -> StopFiling:
    """HR filed the stop on `filed_on` (the receipt's scan, if any, is kept): evidence, the to-do closes."""
    if latest_filing(employee.id) is not None:
        raise InsuranceError(_l("The stop for %(name)s was already filed on %(day)s.", name=employee.name,
                                day=latest_filing(employee.id).filed_on.isoformat()), "filed_on")
    if filed_on > clock.today():
        raise InsuranceError(_l("The filing date is in the future."), "filed_on")
    if employee.terminated_on is not None and filed_on < employee.terminated_on:
        raise InsuranceError(_l("The filing date is before the employment ended (%(day)s).",
                                day=employee.terminated_on.isoformat()), "filed_on")
    filing = StopFiling(employee_id=employee.id, filed_on=filed_on, receipt_file_id=receipt.id if receipt else None,
                        recorded_by=evidence.actor_of(actor), recorded_at=clock.now())
    stop = compute(employee, filing)  # refuses before anything is written
    db.session.add(filing)
    db.session.flush()
    evidence.record("insurance.stop_filed", evidence.subject_of("employee", employee.id), {
        "employee": employee.employee_no, "filed_on": filed_on, "city": stop.city, "policy": stop.policy,
        "last_paid_month": stop.last_paid_month.strftime("%Y-%m"), "stop_from": stop.stop_from.strftime("%Y-%m"),
        "filing_due": stop.filing_due, "late": filed_on > stop.filing_due,
        "receipt": files.described(receipt) if receipt else None}, actor=actor)
    now = clock.now()
    for todo in db.session.scalars(select(CaseTodo).where(CaseTodo.employee_id == employee.id,
                                                          CaseTodo.kind == "file_si_stop",
                                                          CaseTodo.done_at.is_(None))):
        todo.done_at, todo.done_by = now, evidence.actor_of(actor)
    db.session.commit()
    return filing


# ---------------------------------------------------------------- to-dos


def open_filing_todo(employee: Employee, case_id: int | None) -> dict:
    """When employment ends: HR's to-do to file the stop, due on the filing deadline (none yet while the
    city has no rule: saving the rule dates it). Returns the stop as the end of employment's evidence states it."""
    try:
        found = compute(employee)
    except InsuranceError as exc:
        found, summary = None, {"refused": str(exc)}
    else:
        summary = {"policy": found.policy, "last_paid_month": found.last_paid_month.strftime("%Y-%m"),
                   "stop_from": found.stop_from.strftime("%Y-%m"), "filing_due": found.filing_due,
                   "uninsured_days": list(found.uninsured) if found.uninsured else None}
    db.session.add(CaseTodo(case_id=case_id, employee_id=employee.id, kind="file_si_stop", created_at=clock.now(),
                            due_on=found.filing_due if found else None))
    return summary


def date_waiting_filings(city: str) -> None:
    """Filing to-dos of people in `city` that waited for its rule get their deadline (in the caller's
    transaction)."""
    waiting = db.session.scalars(select(CaseTodo).join(Employee, Employee.id == CaseTodo.employee_id).where(
        CaseTodo.kind == "file_si_stop", CaseTodo.done_at.is_(None), CaseTodo.due_on.is_(None))).all()
    for todo in waiting:
        if cities.normalise(todo.employee.work_city) == city:
            try:
                todo.due_on = compute(todo.employee).filing_due
            except InsuranceError:
                continue


def open_registration_todos(now: datetime) -> int:
    """A 社保登记 to-do for each hire whose 30 days have not run out yet (or start later) and who has none:
    due 30 days after the start of employment. Set-based: one query finds them."""
    today = clock.local(now).date()
    has_todo = select(CaseTodo.employee_id).where(CaseTodo.kind == "register_si")
    hires = db.session.execute(select(Employee.id, Employee.hire_date).where(
        Employee.status != "terminated", Employee.hire_date >= today - timedelta(days=REGISTRATION_DAYS),
        Employee.id.not_in(has_todo))).all()
    for employee_id, hired in hires:
        db.session.add(CaseTodo(employee_id=employee_id, kind="register_si", created_at=now,
                                due_on=registration_due(hired)))
    db.session.commit()
    return len(hires)


def registration_due(hired: date) -> date:
    """30 days from the start of employment, the start day not counted (hired 3.1 → due 3.31)."""
    return hired + timedelta(days=REGISTRATION_DAYS)


def escalate_late_registrations(now: datetime) -> int:
    """Each registration not done by its due day goes to every HR person, once (the message's step key)."""
    today = clock.local(now).date()
    late = db.session.execute(select(CaseTodo.id, CaseTodo.due_on, Employee.id, Employee.name, Employee.employee_no)
                              .join(Employee, Employee.id == CaseTodo.employee_id).where(
        CaseTodo.kind == "register_si", CaseTodo.done_at.is_(None), CaseTodo.due_on < today)).all()
    if not late:
        return 0
    hr_people = hr_employee_ids()
    for todo_id, due, employee_id, name, number in late:
        for hr_id in hr_people:
            notify.send(f"si-registration-late:{todo_id}", hr_id, "si_registration_late",
                        {"employee": name, "number": number, "due": due.isoformat()}, ["inapp", "email"],
                        evidence_subject=evidence.subject_of("employee", employee_id))
    return len(late)
