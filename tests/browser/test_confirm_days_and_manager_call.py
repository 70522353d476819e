"""HR confirms days found after the fact at a desk; a manager tells HR what the employee said, on a phone."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from lms import clock
from lms.absence import cases
from lms.absence.models import AbsenceCase
from lms.extensions import db
from tests.absence.conftest import everyone_present, run_ticks
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_hr_confirms_past_days_and_the_manager_records_a_call(browser, page, live_server, org, content, artifacts):
    content.sync()
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 19), but=[org.learner])
    with clock.frozen(clock.as_utc(datetime(2026, 6, 18, 10, 0))):
        cases.start_monitoring(date(2026, 6, 15), confirm_past=True, reason="打卡数据已导入")
    run_ticks(datetime(2026, 6, 18, 10, 0), datetime(2026, 6, 18, 11, 0))
    case = db.session.scalars(select(AbsenceCase)).one()

    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    sign_in(desk, live_server, "hr")
    desk.goto(f"{live_server}/absence/")
    block = desk.locator("[data-test=days-to-confirm]")
    assert "王芳" in block.inner_text() and "2026-06-15" in block.inner_text()
    desk.screenshot(path=str(artifacts / "absence-days-to-confirm-desk.png"), full_page=True)
    desk.goto(f"{live_server}/absence/cases/{case.id}")
    assert "待人力资源部确认" in desk.inner_text("[data-test=counted]")
    desk.locator("[data-test=confirm-days] button[type=submit]").click()
    desk.wait_for_selector(".flash")
    assert desk.inner_text("[data-test=state]") == "已达严重违纪标准"
    assert "2026-06-15, 2026-06-16, 2026-06-17" in desk.inner_text("[data-test=threshold]")
    desk.screenshot(path=str(artifacts / "absence-case-confirmed-desk.png"), full_page=True)

    sign_in(page, live_server, "manager")
    page.goto(f"{live_server}/absence/cases/{case.id}")
    page.fill("[data-test=manager-call] textarea[name=text]", "她家人来电：住院了，出院后补假。")
    page.click("[data-test=manager-call] button[type=submit]")
    page.wait_for_selector(".flash")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(artifacts / "absence-manager-call-phone.png"), full_page=True)
    db.session.refresh(case)
    assert [r.channel for r in case.replies] == ["manager"] and case.paused_at is not None
