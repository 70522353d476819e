"""HR, on a desktop in Chinese, enters Beijing's rates, opens a leaver's record, reads the stop and the final
settlement, records the 减员 filing with its receipt, and downloads the month's payroll ledger; the same pages on
a phone do not scroll sideways. Screenshots in test-artifacts/."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from lms.extensions import db
from lms.insurance.models import StopFiling
from tests.browser.conftest import sign_in
from tests.insurance.conftest import absent, days, end

pytestmark = pytest.mark.browser


def test_hr_from_city_rules_to_the_filing_and_the_ledger(page, live_server, browser, org, content, artifacts,
                                                          tmp_path):
    content.sync()
    wang = org.learner
    wang.hire_date, wang.work_city = date(2024, 7, 1), "北京市"
    wang.monthly_wage = wang.social_insurance_base = Decimal("8700.00")
    db.session.commit()
    absent(wang, days("11.16-11.18"))
    end(wang, date(2026, 11, 20))

    desktop = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    sign_in(desktop, live_server, "hr")
    desktop.click("nav.wide [data-test=nav-insurance] summary")
    desktop.click("nav.wide >> text=城市规则")
    expect(desktop.locator("body")).to_contain_text("未核实")  # the shipped Beijing cut-off
    desktop.fill("input[name=city]", "北京")
    desktop.fill("input[name=valid_from]", "2026-01-01")
    desktop.fill("input[name=cutoff_day]", "15")
    for name, value in (("pension_employer", "16"), ("pension_personal", "8"), ("medical_employer", "9.8"),
                        ("medical_personal", "2"), ("unemployment_employer", "0.5"),
                        ("unemployment_personal", "0.5"), ("work_injury_employer", "0.4"),
                        ("minimum_wage", "2540")):
        desktop.fill(f"input[name={name}]", value)
    desktop.fill("textarea[name=source]", "北京市人社局、医保局 2026 年缴费通知")
    desktop.fill("input[name=checked_on]", "2026-11-30")
    desktop.click("text=保存规则")
    expect(desktop.locator("body")).to_contain_text("北京的规则已保存")
    desktop.screenshot(path=str(artifacts / "insurance-1-city-rules-zh-desktop.png"), full_page=True)

    desktop.goto(f"{live_server}/people/employees/{wang.id}")
    desktop.click("[data-test=insurance-link]")
    assert desktop.inner_text("[data-test=last-paid]") == "2026-11"
    assert desktop.inner_text("[data-test=stop-from]") == "2026-12"
    assert "2026-12-15" in desktop.inner_text("[data-test=filing-due]")
    # 8,700 less 6 working days after 11.20 (11.23–27, 11.30) × 400 = 6,300; 3 days unpaid = −1,200; annual
    # leave: 324 days (1.1–11.20) ÷ 365 × 5 = 4.43 → 4 days × 400 × 2 = 3,200; her share −913.50 → 7,386.50.
    assert desktop.inner_text("[data-test=settlement-total]") == "7386.50"
    receipt = tmp_path / "减员回执.pdf"
    receipt.write_bytes(b"%PDF-1.4\n% receipt of the stop filing\n")
    desktop.fill("input[name=filed_on]", "2026-11-30")
    desktop.set_input_files("input[name=receipt]", str(receipt))
    desktop.click("text=登记减员办理")
    expect(desktop.locator("body")).to_contain_text("社保减员办理已登记")
    assert desktop.inner_text("[data-test=filed-on]").startswith("2026-11-30")
    filing = db.session.scalar(select(StopFiling))
    assert filing is not None and filing.receipt_file_id is not None
    desktop.screenshot(path=str(artifacts / "insurance-2-leaver-zh-desktop.png"), full_page=True)

    desktop.goto(f"{live_server}/insurance/ledger?month=2026-11")
    with desktop.expect_download() as download:
        desktop.click("[data-test=ledger-csv]")
    data = downloaded(download.value.path())
    assert data.startswith(b"\xef\xbb\xbf") and "离职结算".encode() in data

    sign_in(page, live_server, "hr")
    for url, shot in ((f"/insurance/employees/{wang.id}", "insurance-3-leaver-zh-phone.png"),
                      ("/insurance/ledger?month=2026-11", "insurance-4-ledger-zh-phone.png")):
        page.goto(live_server + url)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, url
        page.screenshot(path=str(artifacts / shot), full_page=True)


def downloaded(path) -> bytes:
    from pathlib import Path

    return Path(path).read_bytes()
