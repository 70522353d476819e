"""On a phone: an employee applies for leave (seeing that it is on time before sending), and her manager
approves it from his inbox, which the badge in the menu points to."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from lms import clock
from lms.absence.models import Leave
from lms.extensions import db
from lms.requests.models import LeaveRequest
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_an_employee_applies_and_the_manager_approves_from_the_inbox(browser, page, live_server, org, content,
                                                                       artifacts):
    content.sync()
    start = clock.today() + timedelta(days=10)
    sign_in(page, live_server, "learner")
    page.goto(f"{live_server}/requests/")
    form = page.locator("[data-test=apply-leave]")
    form.locator("select[name=type]").select_option("annual")
    form.locator("input[name=start]").fill(start.isoformat())
    form.locator("input[name=end]").fill((start + timedelta(days=1)).isoformat())
    form.locator("textarea[name=reason]").fill("回老家探亲")
    page.screenshot(path=str(artifacts / "requests-apply-phone.png"), full_page=True)
    page.click("[data-test=review-leave]")
    assert "按时申请" in page.inner_text("[data-test=on-time]")
    page.screenshot(path=str(artifacts / "requests-review-phone.png"), full_page=True)
    page.click("[data-test=send-leave]")
    page.wait_for_selector(".flash")
    assert "待审批" in page.inner_text("[data-test=request-state]")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    sign_in(phone, live_server, "manager")
    phone.click("details.menu summary")
    assert phone.inner_text("details.menu [data-test=waiting-badge]") == "1"
    phone.click("details.menu [data-test=nav-waiting]")
    item = phone.locator("[data-test=inbox-request]")
    assert "王芳" in item.inner_text() and start.isoformat() in item.inner_text()
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    phone.screenshot(path=str(artifacts / "requests-inbox-phone.png"), full_page=True)
    item.locator("input[name=note]").fill("同意，注意交接")
    item.locator("[data-test=approve]").click()
    phone.wait_for_selector(".flash")
    assert phone.locator("[data-test=inbox-request]").count() == 0
    phone.screenshot(path=str(artifacts / "requests-approved-phone.png"), full_page=True)

    db.session.expire_all()
    request = db.session.scalars(select(LeaveRequest)).one()
    leave = db.session.scalars(select(Leave)).one()
    assert request.state == "approved" and request.leave_id == leave.id
    assert leave.approved_by == f"张伟 ({org.manager.employee_no})" and leave.starts_on == start
    page.reload()
    assert "已批准" in page.inner_text("[data-test=request-state]")
    page.screenshot(path=str(artifacts / "requests-approved-employee-phone.png"), full_page=True)
