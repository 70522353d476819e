"""The payroll effects of absence and termination: the ledger per employee and month, and the final settlement.

What the ledger carries is what this product changes; everything else (regular wages, tax, the housing
fund) stays with the payroll system. Per month of an absence case:
- counted 旷工 days are unpaid at monthly wage ÷ 21.75 a day (劳社部发〔2008〕3号), never a fine, and never more
  than the month's wage;
- the employer's contributions (a cost, shown) and the personal share due, from the employee's base held
  within the city's floor and ceiling and the rates in force that month; the personal share is withheld
  from the wages payable, and what they do not cover is booked as a receivable, offset from later pay
  (on return, or in the final settlement). Net pay is never negative; no employer share is passed on.
The final settlement (《工资支付暂行规定》第九条, paid in one sum at termination): the month's wage less the
working days after `terminated_on`, less unpaid days; unused statutory annual leave (《企业职工带薪年休假实施办法》
第十、十一、十二条) at 200 % of the daily wage on top; the personal share; receivables offset; a deduction for losses
at most 20 % of the month's wage that never leaves less than the city's minimum wage (第十六条).

Money is Decimal throughout. Rounding (half-up to the fen) happens only where `money()` is called: each
insurance type's contribution, each entry's amount; a daily wage is never rounded before it is multiplied.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from lms import clock, evidence
from lms.absence import workdays
from lms.absence.models import AbsenceCase, CaseDay, Leave
from lms.bulk import among
from lms.extensions import db
from lms.insurance import cities, stop
from lms.insurance.cities import InsuranceError
from lms.insurance.models import INSURANCE_TYPES, CityRule, LossClaim
from lms.people.models import Employee
from lms.ui import short_date

DAYS_PER_MONTH = Decimal("21.75")  # 月计薪天数, 劳社部发〔2008〕3号
CENT = Decimal("0.01")
DEDUCTION_CAP = Decimal("0.20")  # 《工资支付暂行规定》第十六条
ANNUAL_LEAVE_EXTRA = 2  # 300 % including the wages already paid for those days: 200 % on top (第十条)
LOOKBACK_MONTHS = 24  # how far back the ledger looks for cases whose receivables may still be open

# Entries that change the employee's pay (their sum is the net effect), then those that only inform.
PAY_KINDS = ("wages", "unpaid_absence", "annual_leave", "si_personal", "receivable_offset", "deduction")
INFO_KINDS = ("si_employer", "receivable_booked", "final_settlement")
KIND_LABELS = {
    "wages": _l("Wages up to the last day"), "unpaid_absence": _l("Absent days unpaid (旷工)"),
    "annual_leave": _l("Unused annual leave"), "si_personal": _l("Social insurance, personal share withheld"),
    "receivable_offset": _l("Receivable offset"), "deduction": _l("Deduction for losses"),
    "si_employer": _l("Social insurance, employer's cost"), "receivable_booked": _l("Receivable booked"),
    "final_settlement": _l("Final settlement (paid in one sum)"),
}


def money(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def month_text(month: date) -> str:
    return month.strftime("%Y-%m")


@dataclass
class Entry:
    month: date
    kind: str
    amount: Decimal  # the effect on the employee's pay (negative: deducted); informational entries: the amount
    basis: str
    quantity: Decimal | None = None

    @property
    def counts_to_pay(self) -> bool:
        return self.kind in PAY_KINDS

    def out(self) -> dict:
        return {"kind": self.kind, "label": str(KIND_LABELS[self.kind]), "amount": str(self.amount),
                "quantity": None if self.quantity is None else str(self.quantity), "basis": self.basis,
                "counts_to_pay": self.counts_to_pay}


@dataclass
class Account:
    """One employee's months as far as computed: entries per month, problems that stop a month, what is owed."""

    employee: Employee
    months: dict[date, list[Entry]] = field(default_factory=dict)
    problems: dict[date, str] = field(default_factory=dict)
    receivable: Decimal = Decimal("0.00")  # still owed by the employee after the last month computed
    warnings: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- facts, loaded in a fixed number of queries


@dataclass
class Facts:
    employees: dict[int, Employee]
    counted: dict[int, list[date]]
    unconfirmed: dict[int, list[date]]  # counted days HR has not confirmed yet: not unpaid until then
    case_months: dict[int, set[date]]
    rules: dict[str, list[CityRule]]
    claims: dict[int, Decimal]
    stops: dict[int, date]  # employee → the first month not paid, for those whose employment ended
    leave_taken: dict[int, int]
    days_after: dict[int, int]  # working days of the final month after the last day (and before the hire day)


def _load(employee_ids: list[int], through: date) -> Facts:
    employees = {e.id: e for condition in among(Employee.id, employee_ids)
                 for e in db.session.scalars(select(Employee).where(condition))}
    start = stop.add_months(through, -LOOKBACK_MONTHS)
    counted: dict[int, list[date]] = defaultdict(list)
    case_months: dict[int, set[date]] = defaultdict(set)
    today_month = clock.today().replace(day=1)
    for condition in among(AbsenceCase.employee_id, employee_ids):
        for case in db.session.scalars(select(AbsenceCase).where(condition)):
            last = case.resolved_at and clock.local(case.resolved_at).date().replace(day=1) or today_month
            month = max(case.first_day.replace(day=1), start)
            while month <= min(last, stop.add_months(through, 1)):
                case_months[case.employee_id].add(month)
                month = stop.add_months(month, 1)
    unconfirmed: dict[int, list[date]] = defaultdict(list)
    for condition in among(CaseDay.employee_id, employee_ids):
        for employee_id, day, waiting in db.session.execute(select(
                CaseDay.employee_id, CaseDay.day,
                CaseDay.needs_confirmation & CaseDay.confirmed_at.is_(None)).where(
                condition, CaseDay.status == "counted", CaseDay.day >= start)):
            (unconfirmed if waiting else counted)[employee_id].append(day)
    names = {cities.normalise(e.work_city) for e in employees.values()} - {""}
    rules: dict[str, list[CityRule]] = defaultdict(list)
    if names:
        for rule in db.session.scalars(select(CityRule).where(CityRule.city.in_(names))
                                       .order_by(CityRule.valid_from, CityRule.id)):
            rules[rule.city].append(rule)
    claims = {employee_id: total for condition in among(LossClaim.employee_id, employee_ids)
              for employee_id, total in db.session.execute(select(LossClaim.employee_id, func.sum(LossClaim.amount))
                                                           .where(condition).group_by(LossClaim.employee_id))}
    facts = Facts(employees, {k: sorted(set(v)) for k, v in counted.items()},
                  {k: sorted(set(v)) for k, v in unconfirmed.items()}, case_months, rules, claims, {}, {}, {})
    ended = [e for e in employees.values() if e.status == "terminated" and e.terminated_on]
    chosen = stop.policy()
    for employee in ended:
        rule = rule_on(facts, employee, employee.terminated_on)
        if rule is not None:
            facts.stops[employee.id] = stop.stop_month(rule, employee.terminated_on, chosen)
    _load_final_month(facts, ended)
    return facts


def _load_final_month(facts: Facts, ended: list[Employee]) -> None:
    """Annual leave taken this year and the working days of the last month outside the employment."""
    if not ended:
        return
    first = min(date(e.terminated_on.year, 1, 1) for e in ended)
    last = max(stop.add_months(e.terminated_on.replace(day=1), 1) - timedelta(days=1) for e in ended)
    kinds = workdays.kinds_for([e.id for e in ended], first, last)
    leaves = db.session.scalars(select(Leave).where(Leave.employee_id.in_([e.id for e in ended]),
                                                    Leave.type == "annual", Leave.ends_on >= first)).all()
    for employee in ended:
        mine = kinds.get(employee.id, {})
        ended_on = employee.terminated_on
        year_start = date(ended_on.year, 1, 1)
        taken = {leave.starts_on + timedelta(days=n) for leave in leaves if leave.employee_id == employee.id
                 for n in range((leave.ends_on - leave.starts_on).days + 1)}
        facts.leave_taken[employee.id] = sum(1 for day in taken if year_start <= day <= ended_on
                                             and mine.get(day) is not None and mine[day].is_workday)
        month_end = stop.add_months(ended_on.replace(day=1), 1) - timedelta(days=1)
        facts.days_after[employee.id] = sum(
            1 for day, info in mine.items() if info.is_workday and day.replace(day=1) == ended_on.replace(day=1)
            and (day > ended_on or day < employee.hire_date) and day <= month_end)


def rule_on(facts: Facts, employee: Employee, day: date) -> CityRule | None:
    rows = [rule for rule in facts.rules.get(cities.normalise(employee.work_city), []) if rule.valid_from <= day]
    return rows[-1] if rows else None


# ---------------------------------------------------------------- the months


def contributions(rule: CityRule, base: Decimal) -> tuple[Decimal, Decimal, Decimal]:
    """(employer, personal, the base used): each type's share rounded to the fen, the base held within the
    city's floor and ceiling."""
    held = base
    if rule.base_floor is not None:
        held = max(held, rule.base_floor)
    if rule.base_ceiling is not None:
        held = min(held, rule.base_ceiling)
    employer = personal = Decimal("0.00")
    for kind, has_personal in INSURANCE_TYPES:
        employer += money(held * getattr(rule, f"{kind}_employer") / 100)
        if has_personal:
            personal += money(held * getattr(rule, f"{kind}_personal") / 100)
    return employer, personal, held


def annual_leave(employee: Employee, taken: int) -> tuple[int, str]:
    """Unused statutory annual leave at the end of employment, whole days (第十二条), with how it was found."""
    ended = employee.terminated_on
    start = max(date(ended.year, 1, 1), employee.hire_date)
    elapsed = (ended - start).days + 1
    months_here = (ended.year - employee.hire_date.year) * 12 + ended.month - employee.hire_date.month \
        - (1 if ended.day < employee.hire_date.day else 0)
    years = (employee.prior_work_years or Decimal(0)) + Decimal(max(months_here, 0)) / 12
    entitlement = 0 if years < 1 else 5 if years < 10 else 10 if years < 20 else 15
    share = Decimal(elapsed) / 365 * entitlement - taken
    days = max(int(share.to_integral_value(rounding=ROUND_FLOOR)), 0)
    basis = str(_l("%(elapsed)s days elapsed (%(start)s–%(end)s) ÷ 365 × %(entitled)s days' entitlement "
                   "(%(years)s years of work) − %(taken)s taken = %(share)s → %(days)s whole days",
                   elapsed=elapsed, start=short_date(start), end=short_date(ended), entitled=entitlement,
                   years=years.quantize(Decimal("0.1")), taken=taken, share=share.quantize(CENT), days=days))
    return days, basis


def account(facts: Facts, employee: Employee, through: date) -> Account:
    """The employee's months from their first case month in the lookback window through `through`."""
    result = Account(employee)
    ended_month = employee.terminated_on.replace(day=1) if employee.status == "terminated" and \
        employee.terminated_on else None
    months = sorted(facts.case_months.get(employee.id, set()) | ({ended_month} if ended_month else set()))
    if not months:
        return result
    counted = facts.counted.get(employee.id, [])
    month = months[0]
    while month <= through and (ended_month is None or month <= ended_month):
        final = month == ended_month
        if month in facts.case_months.get(employee.id, set()) or final or result.receivable > 0:
            try:
                result.months[month] = _month(facts, employee, month, final,
                                              [d for d in counted if d.replace(day=1) == month], result)
            except InsuranceError as exc:
                result.problems[month] = str(exc)
                break
        month = stop.add_months(month, 1)
    return result


def _month(facts: Facts, employee: Employee, month: date, final: bool, counted: list[date],
           result: Account) -> list[Entry]:
    wage = employee.monthly_wage
    if wage is None:
        raise InsuranceError(_l("%(name)s has no monthly wage: enter it before pay is computed.", name=employee.name),
                             "monthly_wage")
    rule = rule_on(facts, employee, month)
    if rule is None:
        raise cities.NoCityRule(cities._missing(employee.work_city))
    daily = money(wage / DAYS_PER_MONTH)
    entries: list[Entry] = []
    gross = wage
    if final:
        outside = facts.days_after.get(employee.id, 0)
        gross = max(Decimal("0.00"), money(wage - wage * outside / DAYS_PER_MONTH))
        entries.append(Entry(month, "wages", gross, str(_l(
            "Monthly wage %(wage)s less %(n)s working days outside the employment (after %(day)s) × %(daily)s",
            wage=wage, n=outside, day=short_date(employee.terminated_on), daily=daily)), Decimal(outside)))
    if final:
        counted = [d for d in counted if d <= employee.terminated_on]
    waiting = [d for d in facts.unconfirmed.get(employee.id, []) if d.replace(day=1) == month]
    if waiting:
        result.warnings.append(str(_l(
            "%(month)s: %(days)s await HR's confirmation as 旷工 (found after the fact): they are not unpaid until "
            "HR confirms them on the case.", month=month_text(month), days="、".join(short_date(d) for d in waiting))))
    unpaid = min(money(wage * len(counted) / DAYS_PER_MONTH), gross) if counted else Decimal("0.00")
    if counted:
        entries.append(Entry(month, "unpaid_absence", -unpaid, str(_l(
            "%(n)s days of 旷工 (%(days)s) × %(daily)s (monthly wage %(wage)s ÷ 21.75), never more than the month's "
            "wage", n=len(counted), days="、".join(short_date(d) for d in counted), daily=daily, wage=wage)),
            Decimal(len(counted))))
    payable = gross - unpaid
    if final:
        days, basis = annual_leave(employee, facts.leave_taken.get(employee.id, 0))
        payout = money(wage * days * ANNUAL_LEAVE_EXTRA / DAYS_PER_MONTH)
        entries.append(Entry(month, "annual_leave", payout, str(_l(
            "%(basis)s × %(daily)s × 200 %% (300 %% with the wages already paid for them)", basis=basis,
            daily=daily)), Decimal(days)))
        payable += payout
    prior = result.receivable
    stop_from = facts.stops.get(employee.id)
    if stop_from is None or month < stop_from:
        if not rule.has_rates:
            cities.rates_of(rule)
        if employee.social_insurance_base is None:
            raise InsuranceError(_l("%(name)s has no social-insurance base: enter it before contributions are "
                                    "computed.", name=employee.name), "social_insurance_base")
        employer, personal, held = contributions(rule, employee.social_insurance_base)
        entries.append(Entry(month, "si_employer", employer, str(_l(
            "Base %(base)s × the employer's rates of %(city)s in force %(month)s", base=held, city=rule.city,
            month=month_text(month)))))
        withheld = min(personal, payable)
        if withheld > 0:
            entries.append(Entry(month, "si_personal", -withheld, str(_l(
                "Base %(base)s × the personal rates of %(city)s: %(due)s due, withheld from the wages payable",
                base=held, city=rule.city, due=personal))))
        booked = personal - withheld
        if booked > 0:
            entries.append(Entry(month, "receivable_booked", booked, str(_l(
                "The personal share (%(due)s) is more than the wages payable (%(payable)s): the rest is owed by "
                "the employee, to be offset from later pay", due=personal, payable=payable))))
        payable -= withheld
        result.receivable += booked
    offset = min(prior, payable)
    if offset > 0:
        entries.append(Entry(month, "receivable_offset", -offset, str(_l(
            "Personal shares booked in earlier months (%(owed)s owed)", owed=prior))))
        payable -= offset
        result.receivable -= offset
    if final:
        entries.extend(_deduction(facts, employee, rule, gross, payable, month, result))
        total = sum((e.amount for e in entries if e.counts_to_pay), Decimal("0.00"))
        entries.append(Entry(month, "final_settlement", total, str(_l(
            "The sum of the pay entries, paid in one sum at termination (《工资支付暂行规定》第九条)"))))
        if result.receivable > 0:
            result.warnings.append(str(_l("%(amount)s of personal shares remain owed by %(name)s after the final "
                                          "settlement.", amount=result.receivable, name=employee.name)))
    return entries


def _deduction(facts: Facts, employee: Employee, rule: CityRule, gross: Decimal, payable: Decimal, month: date,
               result: Account) -> list[Entry]:
    claimed = facts.claims.get(employee.id)
    if not claimed:
        return []
    if rule.minimum_wage is None:
        result.warnings.append(str(_l("No deduction for losses: %(city)s's rule has no minimum wage, and a deduction "
                                      "may never leave less than it (第十六条).", city=rule.city)))
        return []
    allowed = max(Decimal("0.00"), min(claimed, money(gross * DEDUCTION_CAP), payable - rule.minimum_wage))
    if allowed < claimed:
        result.warnings.append(str(_l("Of %(claimed)s claimed for losses only %(allowed)s may be deducted: at most "
                                      "20 %% of the month's wage, never leaving less than the minimum wage "
                                      "(%(minimum)s; 《工资支付暂行规定》第十六条).", claimed=claimed, allowed=allowed,
                                      minimum=rule.minimum_wage)))
    if allowed <= 0:
        return []
    return [Entry(month, "deduction", -allowed, str(_l(
        "Losses claimed %(claimed)s, at most 20 %% of %(gross)s and never below the minimum wage %(minimum)s",
        claimed=claimed, gross=gross, minimum=rule.minimum_wage)))]


# ---------------------------------------------------------------- what callers ask for


@dataclass
class Settlement:
    employee: Employee
    lines: list[Entry]
    total: Decimal
    warnings: list[str]

    def out(self) -> dict:
        return {"employee_no": self.employee.employee_no, "terminated_on": self.employee.terminated_on.isoformat(),
                "lines": [line.out() for line in self.lines], "total": str(self.total), "warnings": self.warnings}


def settlement(employee: Employee) -> Settlement:
    """The final settlement of an employee whose employment has ended; InsuranceError naming what is missing."""
    if employee.status != "terminated" or employee.terminated_on is None:
        raise InsuranceError(_l("%(name)s's employment has not ended: the final settlement follows the date it "
                                "ends.", name=employee.name))
    month = employee.terminated_on.replace(day=1)
    facts = _load([employee.id], month)
    result = account(facts, employee, month)
    if month in result.problems or result.problems:
        raise InsuranceError(next(iter(result.problems.values())))
    entries = result.months.get(month, [])
    lines = [entry for entry in entries if entry.counts_to_pay]
    total = sum((line.amount for line in lines), Decimal("0.00"))
    rule = rule_on(facts, employee, employee.terminated_on)
    return Settlement(employee, lines, total, [*cities.warnings_of(rule), *result.warnings])


def cost_during_absence(employee: Employee) -> Account:
    """Every month of the employee's cases (and the final month), as the ledger has them."""
    through = clock.today().replace(day=1)
    if employee.terminated_on:
        through = min(through, employee.terminated_on.replace(day=1))
    facts = _load([employee.id], through)
    return account(facts, employee, through)


@dataclass
class Ledger:
    month: date
    rows: list[tuple[Employee, Entry]]
    problems: list[tuple[Employee, str]]

    def totals(self) -> dict[str, Decimal]:
        sums: dict[str, Decimal] = defaultdict(lambda: Decimal("0.00"))
        for _employee, entry in self.rows:
            sums[entry.kind] += entry.amount
        return dict(sums)


def ledger(month: date) -> Ledger:
    """The entries of `month` for everyone this product affects: people with a case that month (or a receivable
    still open from one) and people whose employment ended that month. A fixed number of queries."""
    month = month.replace(day=1)
    following = stop.add_months(month, 1)
    window = stop.add_months(month, -LOOKBACK_MONTHS)
    with_cases = select(AbsenceCase.employee_id).where(AbsenceCase.first_day < following,
                                                       AbsenceCase.first_day >= window)
    ended = select(Employee.id).where(Employee.terminated_on >= month, Employee.terminated_on < following)
    ids = sorted(set(db.session.scalars(with_cases)) | set(db.session.scalars(ended)))
    facts = _load(ids, month)
    rows, problems = [], []
    for employee_id in ids:
        employee = facts.employees[employee_id]
        result = account(facts, employee, month)
        for entry in result.months.get(month, []):
            rows.append((employee, entry))
        if result.problems:
            problems.append((employee, next(iter(result.problems.values()))))
    return Ledger(month, rows, problems)


CSV_HEADINGS = ("月份", "工号", "姓名", "项目", "项目代码", "金额", "数量", "计入实发", "依据")


def ledger_csv(book: Ledger) -> bytes:
    """UTF-8 with a BOM (Excel opens it with the Chinese intact), one row per entry, amounts as plain decimals."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_HEADINGS)
    for employee, entry in book.rows:
        writer.writerow((month_text(entry.month), employee.employee_no, employee.name, str(KIND_LABELS[entry.kind]),
                         entry.kind, str(entry.amount), "" if entry.quantity is None else str(entry.quantity),
                         "是" if entry.counts_to_pay else "否", entry.basis))
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def record_loss(employee: Employee, amount: Decimal, reason: str, actor) -> LossClaim:
    """A loss HR wants deducted from the final pay; the settlement caps it (第十六条). Evidence."""
    reason = (reason or "").strip()
    if not reason:
        raise InsuranceError(_l("Say what was lost and how the amount was found."), "reason")
    if len(reason) > 2000:
        raise InsuranceError(_l("The reason is longer than %(n)s characters.", n=2000), "reason")
    if not amount.is_finite() or amount <= 0 or amount > Decimal("9999999"):
        raise InsuranceError(_l("The amount is a positive sum of money."), "amount")
    claim = LossClaim(employee_id=employee.id, amount=money(amount), reason=reason,
                      recorded_by=evidence.actor_of(actor), recorded_at=clock.now())
    db.session.add(claim)
    db.session.flush()
    evidence.record("insurance.loss_claimed", evidence.subject_of("employee", employee.id), {
        "employee": employee.employee_no, "amount": claim.amount, "reason": reason}, actor=actor)
    db.session.commit()
    return claim
