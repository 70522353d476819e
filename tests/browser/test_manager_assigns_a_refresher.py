"""A manager assigns a refresher to his team on a desktop, a report takes it on her phone, and the
team's dashboard shows the completion. Screenshots in test-artifacts/."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from lms.campaigns.models import Assignment
from lms.exams.models import ExamAttempt
from lms.extensions import db
from tests.browser.conftest import sign_in
from tests.exams.test_take_exam import right_answers

pytestmark = pytest.mark.browser


def test_manager_assigns_report_takes_it_on_a_phone_dashboard_shows_it(page, live_server, org, content, browser,
                                                                        artifacts):
    content.sync()
    desktop = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    sign_in(desktop, live_server, "manager")
    desktop.goto(f"{live_server}/courses/team")
    desktop.click("[data-test=assign-refresher]")
    desktop.check("input[name=scope][value=team]")
    desktop.select_option("select[name=course]", "handbook")
    desktop.select_option("select[name=exam]", "onboarding")
    desktop.fill("input[name=due_on]", "2099-06-30")
    desktop.screenshot(path=str(artifacts / "refresher-assign-zh-desktop.png"), full_page=True)
    desktop.click("[data-test=assign]")
    expect(desktop.locator("body")).to_contain_text("已向 2 人分配复训")
    assert len(db.session.scalars(select(Assignment)).all()) == 2  # 王芳 and 刘洋, not himself

    sign_in(page, live_server, "learner")
    page.click(".menu summary")
    page.click(".menu >> text=我的复训")
    expect(page.locator("body")).to_contain_text("2099-06-30")
    expect(page.locator("body")).to_contain_text("员工手册")
    page.screenshot(path=str(artifacts / "refresher-mine-zh-phone.png"), full_page=True)
    page.click("[data-test=take-exam]")
    attempt = db.session.scalars(select(ExamAttempt)).one()
    for item in attempt.paper:
        for key, values in right_answers(item).items():
            for value in values:
                page.check(f"input[name='{key}'][value='{value}']")
        page.click("button[name=go][value=next]")
    page.click("[data-test=submit]")
    page.wait_for_load_state()
    assert "合格" in page.locator("section.card").first.inner_text()
    page.goto(f"{live_server}/campaigns/mine")
    assert page.inner_text("[data-test=my-status]") == "已完成"
    page.screenshot(path=str(artifacts / "refresher-done-zh-phone.png"), full_page=True)

    desktop.goto(f"{live_server}/campaigns/team")
    assert desktop.inner_text("[data-test=count-completed]") == "1"
    assert desktop.inner_text("[data-test=count-passed_first_try]") == "1"
    assert "已完成" in desktop.locator("figure.chart svg").inner_html()
    desktop.screenshot(path=str(artifacts / "refresher-team-dashboard-zh-desktop.png"), full_page=True)
