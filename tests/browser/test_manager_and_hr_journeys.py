"""Two journeys on the demo company, on a desktop, in Chinese, using only what the screens offer:
the manager from his team's progress to a coaching record and a refresher for people he ticks; HR from
the absence review to an employee's page and her dispute file. Screenshots in test-artifacts/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from lms import clock
from lms.campaigns.models import Assignment
from lms.exams.models import CoachingTask
from lms.extensions import db
from tests.platform.test_words_not_keys import VERBATIM

pytestmark = pytest.mark.browser


@pytest.fixture
def demo(app, runner):
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    return app


@pytest.fixture
def desktop(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    yield context.new_page()
    context.close()


def _sign_in(page, live_server, username: str, password: str) -> None:
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/")


def _menu(page, group: str, path: str) -> None:
    page.click(f"nav.wide [data-test=nav-{group}] summary")
    page.click(f"nav.wide [data-test=nav-{group}] a[href='{path}']")
    page.wait_for_load_state()


def _no_ids(page) -> None:
    found = re.findall(r"\buser:\d+|\bemployee:\d+|\b[a-z]+\.[a-z_]+\b", VERBATIM.sub(" ", page.inner_text("main")))
    assert not found, found


def test_the_manager_from_his_team_to_coaching_and_a_refresher(demo, desktop, live_server, artifacts):
    # One of his team (E0017, under his team lead) failed the onboarding exam: a coaching task waits for him.
    from lms.exams import services
    from lms.people.models import Employee

    report = db.session.scalars(select(Employee).where(Employee.employee_no == "E0017")).one()
    exam = next(e for e in services.current_exams() if e.slug == "onboarding")
    services.submit(services.start_attempt(report.id, exam.slug), None)
    page = desktop
    _sign_in(page, live_server, "manager", "demo-manager-2026")
    _menu(page, "training", "/courses/team")
    rows = page.locator("[data-test=team-row]")
    assert rows.count() > 0 and "张伟" not in " ".join(rows.all_inner_texts())  # never himself
    assert page.locator("th", has_text="考试成绩").count() == 1
    _no_ids(page)
    page.screenshot(path=str(artifacts / "manager-team-progress-zh-desktop.png"), full_page=True)

    _menu(page, "training", "/exams/coaching")
    task = page.locator("[data-test=coaching-task]").first
    # The company's today (Asia/Shanghai), not the browser's UTC date: from 16:00 UTC on, that is still the day
    # before the failed attempt, and the coaching date is refused as earlier than the failure.
    task.locator("input[name=coached_on]").fill(clock.today().isoformat())
    task.locator("textarea[name=notes]").fill("逐条讲解请假与旷工制度，确认已理解")
    page.screenshot(path=str(artifacts / "manager-coaching-zh-desktop.png"), full_page=True)
    task.locator("button[type=submit]").click()
    page.wait_for_load_state()
    task = db.session.scalars(select(CoachingTask).where(CoachingTask.employee_id == report.id)).one()
    assert task.completed_at is not None

    _menu(page, "training", "/campaigns/team")
    checklist = page.locator("[data-test=team-checklist] input[type=checkbox]")
    assert checklist.count() >= 2
    checklist.nth(0).check()
    checklist.nth(1).check()
    page.select_option("select[name=course]", index=1)
    page.select_option("select[name=exam]", index=1)
    page.fill("input[name=due_on]", "2099-06-30")
    page.screenshot(path=str(artifacts / "manager-assign-checklist-zh-desktop.png"), full_page=True)
    before = len(db.session.scalars(select(Assignment)).all())
    page.click("[data-test=assign]")
    expect(page.locator("body")).to_contain_text("已向 2 人分配复训")
    assert len(db.session.scalars(select(Assignment)).all()) == before + 2
    _no_ids(page)


def test_hr_from_the_review_page_to_an_employee_s_dispute_file(demo, desktop, live_server, artifacts, page):
    phone, page = page, desktop
    _sign_in(page, live_server, "hr", "demo-hr-2026")
    page.click("nav.wide a[href='/absence/']")
    page.wait_for_load_state()
    page.screenshot(path=str(artifacts / "hr-review-zh-desktop.png"), full_page=True)
    page.locator("[data-test=open-case] a").first.click()
    page.wait_for_load_state()
    assert page.locator("[data-test=timeline-day]").count() >= 1
    _no_ids(page)
    page.screenshot(path=str(artifacts / "hr-case-timeline-zh-desktop.png"), full_page=True)
    page.click("[data-test=case-employee]")
    page.wait_for_load_state()
    assert page.locator("[data-test=training-record]").count() == 1
    assert page.locator("[data-test=employee-case]").count() >= 1
    _no_ids(page)
    page.screenshot(path=str(artifacts / "hr-employee-page-zh-desktop.png"), full_page=True)
    employee_url, case_url = page.url, page.locator("[data-test=employee-case] a").first.get_attribute("href")
    _sign_in(phone, live_server, "hr", "demo-hr-2026")  # the same pages on a phone
    for url, name in ((employee_url, "hr-employee-page-zh-phone.png"),
                      (live_server + case_url, "hr-case-zh-phone.png")):
        phone.goto(url)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # nothing pushes the page sideways
        phone.screenshot(path=str(artifacts / name), full_page=True)
    page.click("[data-test=build-dispute-file]")
    with page.expect_download() as download:
        page.click("[data-test=dispute-file] button[type=submit]")
    assert download.value.suggested_filename.endswith(".zip")
    page.screenshot(path=str(artifacts / "hr-dispute-file-zh-desktop.png"), full_page=False)
