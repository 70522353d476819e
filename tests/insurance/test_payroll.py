"""Pay during and after an absence, with figures computed by hand on the 2026 calendar (issue 15).

王芳: monthly wage 8,700.00 → 8,700 ÷ 21.75 = 400.00 a day; base 8,700.00, so (conftest.RATES) the employer pays
2,322.90 a month and she 913.50.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from decimal import Decimal

import pytest

from lms.absence.models import Leave
from lms.extensions import db
from lms.insurance import payroll
from lms.insurance.cities import InsuranceError
from tests.insurance.conftest import absent, at, days, end

SEED_DAYS = "6.15-6.18, 6.22-6.26, 6.29"  # 6.19 is the Dragon Boat Festival: not a working day


def lines(settlement) -> dict[str, Decimal]:
    return {line.kind: line.amount for line in settlement.lines}


def test_the_seed_case_settlement_line_by_line(app, wang, beijing):
    absent(wang, days(SEED_DAYS))
    end(wang, date(2026, 6, 29), "mutual")
    with at(2026, 6, 30, 9, 0):
        result = payroll.settlement(wang)
    got = lines(result)
    # June's wage less 6.30, the one working day after the last day: 8,700 − 400 = 8,300.00.
    assert got["wages"] == Decimal("8300.00")
    # 10 counted days × 400.00.
    assert got["unpaid_absence"] == Decimal("-4000.00")
    # 5 days' entitlement (1 year 11 months here); 1.1–6.29 is 180 days → 180/365 × 5 = 2.47 → 2 days;
    # 2 × 400.00 × 200 % = 1,600.00.
    assert got["annual_leave"] == Decimal("1600.00")
    # June is paid (employment ended in June): her share is withheld.
    assert got["si_personal"] == Decimal("-913.50")
    assert result.total == Decimal("8300.00") - Decimal("4000.00") + Decimal("1600.00") - Decimal("913.50")
    assert result.total == Decimal("4986.50")
    assert {line.kind: line.quantity for line in result.lines}["unpaid_absence"] == 10


def test_annual_leave_already_taken_is_subtracted_in_working_days(app, wang, beijing):
    # Two working days of annual leave in March (3.2 Mon – 3.3 Tue) leave 2.47 − 2 = 0.47 → nothing to pay.
    db.session.add(Leave(employee_id=wang.id, type="annual", starts_on=date(2026, 3, 2), ends_on=date(2026, 3, 3),
                         source="page", created_by="test"))
    db.session.commit()
    end(wang, date(2026, 6, 29))
    with at(2026, 6, 30, 9, 0):
        got = lines(payroll.settlement(wang))
    assert got["annual_leave"] == Decimal("0.00")


def test_a_month_with_no_pay_books_the_share_as_a_receivable_the_final_settlement_offsets(app, wang, beijing):
    wang.hire_date = date(2025, 6, 1)  # under a year of work: no annual leave to pay
    db.session.commit()
    # Absent every working day of March 2026 (22 days, no holiday): 22 × 400 = 8,800 > 8,700, so the whole wage
    # is unpaid (never more than the month's wage), nothing is payable and her 913.50 is a receivable.
    absent(wang, days("3.2-3.6, 3.9-3.13, 3.16-3.20, 3.23-3.27, 3.30-3.31"), resolved_on=date(2026, 4, 1))
    end(wang, date(2026, 4, 30))
    with at(2026, 5, 1, 9, 0):
        march = payroll.ledger(date(2026, 3, 1))
        result = payroll.settlement(wang)
    march_kinds = {entry.kind: entry.amount for _e, entry in march.rows}
    assert march_kinds["unpaid_absence"] == Decimal("-8700.00")
    assert "si_personal" not in march_kinds  # nothing to withhold it from
    assert march_kinds["receivable_booked"] == Decimal("913.50")
    assert march_kinds["si_employer"] == Decimal("2322.90")  # the employer's share is never passed on
    got = lines(result)
    assert got["wages"] == Decimal("8700.00")  # 4.30 is her last day and the month's last working day
    assert got["si_personal"] == Decimal("-913.50")  # April's own share
    assert got["receivable_offset"] == Decimal("-913.50")  # March's, offset in the final settlement
    assert result.total == Decimal("6873.00")


def test_a_deduction_for_losses_is_capped_at_20_percent_and_never_below_the_minimum_wage(app, wang, beijing, org):
    absent(wang, days(SEED_DAYS))
    end(wang, date(2026, 6, 29))
    with at(2026, 6, 30, 9, 0):
        payroll.record_loss(wang, Decimal("3000"), "遗失公司笔记本电脑（折旧后价值）", org.users["hr"])
        result = payroll.settlement(wang)
    # 20 % of the month's wage (8,300.00) is 1,660.00; 4,986.50 − 1,660.00 = 3,326.50 stays above 2,540.00.
    assert lines(result)["deduction"] == Decimal("-1660.00")
    assert result.total == Decimal("3326.50")
    assert any("3000.00" in w and "1660.00" in w for w in result.warnings)


def test_the_minimum_wage_binds_before_the_20_percent(app, wang, org):
    from tests.insurance.conftest import enter_rule

    enter_rule("北京", org.users["hr"], minimum_wage="4500")
    absent(wang, days(SEED_DAYS))
    end(wang, date(2026, 6, 29))
    with at(2026, 6, 30, 9, 0):
        payroll.record_loss(wang, Decimal("1000"), "损坏设备", org.users["hr"])
        result = payroll.settlement(wang)
    # 4,986.50 − 4,500.00 = 486.50 may be deducted, less than 20 % (1,660.00) and the claim (1,000.00).
    assert lines(result)["deduction"] == Decimal("-486.50")
    assert result.total == Decimal("4500.00")


def test_stop_before_the_cutoff_takes_no_share_for_the_final_month(app, wang, beijing):
    app.config["LMS_SI_POLICY"] = "stop_before_cutoff"
    absent(wang, days("6.1-6.5"))
    end(wang, date(2026, 6, 10))
    with at(2026, 6, 11, 9, 0):
        result = payroll.settlement(wang)
    got = lines(result)
    assert "si_personal" not in got
    # June 2026 has 13 working days after 6.10: 6.11–6.12, 6.15–6.18, 6.22–6.26, 6.29–6.30 (6.19 a holiday).
    assert got["wages"] == Decimal("8700.00") - 13 * Decimal("400.00")
    assert got["unpaid_absence"] == Decimal("-2000.00")


def test_what_is_missing_is_named(app, wang, beijing):
    wang.monthly_wage = None
    db.session.commit()
    end(wang, date(2026, 6, 29))
    with at(2026, 6, 30, 9, 0), pytest.raises(InsuranceError, match="monthly wage"):
        payroll.settlement(wang)


def test_the_ledger_csv_opens_in_excel_with_chinese_headings_and_its_totals_are_the_settlements(app, wang, beijing):
    absent(wang, days(SEED_DAYS))
    end(wang, date(2026, 6, 29))
    with at(2026, 6, 30, 9, 0):
        book = payroll.ledger(date(2026, 6, 1))
        data = payroll.ledger_csv(book)
        result = payroll.settlement(wang)
    assert data.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs to read UTF-8
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["月份", "工号", "姓名", "项目", "项目代码", "金额", "数量", "计入实发", "依据"]
    mine = [row for row in rows[1:] if row[1] == wang.employee_no]
    pay = [Decimal(row[5]) for row in mine if row[7] == "是"]
    assert sum(pay) == result.total == Decimal("4986.50")
    final = [row for row in mine if row[4] == "final_settlement"]
    assert Decimal(final[0][5]) == result.total
    assert {row[4]: row[5] for row in mine}["si_employer"] == "2322.90"
    assert all(row[0] == "2026-06" and row[2] == "王芳" for row in mine)


def test_days_found_after_the_fact_are_not_unpaid_until_hr_confirms_them(app, wang, beijing):
    absent(wang, days("6.15-6.18"), unconfirmed=True)
    with at(2026, 6, 30, 9, 0):
        account = payroll.cost_during_absence(wang)
    june = {entry.kind: entry.amount for entry in account.months[date(2026, 6, 1)]}
    assert "unpaid_absence" not in june
    assert june["si_personal"] == Decimal("-913.50")
    assert any("2026-06" in w and "confirm" in w for w in account.warnings)


def test_the_ledger_runs_the_same_statements_for_3_people_as_for_12(app, org, beijing, make_employee,
                                                                     count_statements):
    def ledger_statements(n: int) -> int:
        for i in range(n):
            person = make_employee(f"员工{n}-{i}", status="active", work_city="北京", monthly_wage="8700",
                                   social_insurance_base="8700")
            absent(person, days("6.15-6.18"))
        with at(2026, 6, 30, 9, 0), count_statements() as seen:
            book = payroll.ledger(date(2026, 6, 1))
        assert len({e.employee_no for e, _entry in book.rows}) >= n
        return len(seen)

    few = ledger_statements(3)
    assert ledger_statements(9) == few  # 12 people now: no statement per person
