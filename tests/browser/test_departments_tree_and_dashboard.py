"""HR places a department under another on a desktop, then reads the refreshers by department (with
its sub-departments) on a phone. Screenshots in test-artifacts/."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from playwright.sync_api import expect

from lms import clock
from lms.campaigns import services
from lms.people import departments
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_hr_builds_the_tree_and_reads_the_department_dashboard(page, live_server, org, content, browser,
                                                               make_employee, artifacts):
    content.sync()
    make_employee("华东甲", department="华东销售部", manager=org.manager, status="active")
    campaign = services.create_campaign({"name": "三季度复训", "kind": "refresher", "launch_on": date(2026, 9, 1),
                                         "due_on": date(2026, 9, 30), "rules": [
                                             {"department": "销售部", "course": "handbook", "exam": "onboarding"}]})
    with clock.frozen(clock.as_utc(datetime(2026, 9, 1, 9, 0))):
        services.launch(campaign.id)  # before 华东销售部 is placed under 销售部: not assigned by this launch

    desktop = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    sign_in(desktop, live_server, "hr")
    desktop.goto(f"{live_server}/people/departments")
    desktop.select_option("select[name=department]", label="华东销售部")
    desktop.select_option("select[name=parent]", "销售部")
    desktop.click("form[method=post] button[type=submit]")
    expect(desktop.locator("body")).to_contain_text("部门已保存")
    assert departments.parents_by_name()["华东销售部"] == "销售部"
    desktop.select_option("select[name=department]", label="销售部")
    desktop.select_option("select[name=parent]", "华东销售部")
    desktop.click("form[method=post] button[type=submit]")
    expect(desktop.locator("body")).to_contain_text("销售部 → 华东销售部 → 销售部")  # a cycle, refused
    desktop.screenshot(path=str(artifacts / "departments-tree-zh-desktop.png"), full_page=True)

    sign_in(page, live_server, "hr")
    page.goto(f"{live_server}/campaigns/departments")
    assert page.inner_text("[data-test='销售部-assigned']") == "4"
    assert "上级部门" not in page.inner_text("h1")
    page.screenshot(path=str(artifacts / "departments-dashboard-zh-phone.png"), full_page=True)
    desktop.goto(f"{live_server}/campaigns/departments")
    desktop.screenshot(path=str(artifacts / "departments-dashboard-zh-desktop.png"), full_page=True)
