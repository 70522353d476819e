"""HR sees what needs attention as a banner, and switches monitoring on from a past date only by
confirming it with a reason — on a phone and at a desk."""

from __future__ import annotations

from datetime import timedelta

import pytest

from lms import clock
from lms.absence import cases
from lms.extensions import db
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("device,viewport", [("phone", {"width": 390, "height": 844}),
                                             ("desk", {"width": 1280, "height": 900})])
def test_banner_and_past_date_confirmation(browser, live_server, org, artifacts, device, viewport):
    page = browser.new_context(viewport=viewport, locale="zh-CN").new_page()
    sign_in(page, live_server, "hr")
    banner = page.locator("[data-test=health-banner]")
    assert banner.count() == 1
    assert "考勤监控尚未开启" in banner.inner_text() and page.locator("[data-test=health-no_rules]").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(artifacts / f"health-banner-{device}.png"), full_page=True)

    page.goto(f"{live_server}/absence/")
    past = clock.today() - timedelta(days=10)  # the server runs on the wall clock too
    page.fill("input[name=started_on]", past.isoformat())
    page.click("button:has-text('开启缺勤监测')")
    error = page.locator("[data-test=past-date] .error")
    assert error.count() == 1 and "早于今天" in error.inner_text()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(artifacts / f"monitoring-past-date-refused-{device}.png"), full_page=True)
    db.session.expire_all()
    assert cases.monitoring() is None

    page.check("input[name=confirm_past]")
    page.fill("textarea[name=reason]", "此前的打卡数据已全部导入")
    page.click("button:has-text('开启缺勤监测')")
    page.wait_for_selector("[data-test=monitoring-on]")
    assert "此前的打卡数据已全部导入" in page.inner_text("[data-test=monitoring-past]")
    assert page.locator("[data-test=health-monitoring_off]").count() == 0
    page.screenshot(path=str(artifacts / f"monitoring-on-{device}.png"), full_page=True)
    db.session.expire_all()
    assert cases.monitoring().started_on == past and cases.monitoring().is_past_confirmed
    page.context.close()
