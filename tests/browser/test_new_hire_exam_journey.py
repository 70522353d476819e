"""A new hire on a phone, in Chinese: fails the onboarding exam, her manager records the coaching,
she passes the make-up, downloads her certificate and is active."""

from __future__ import annotations

import io

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import select

from lms import clock
from lms.exams.models import ExamAttempt
from lms.extensions import db
from tests.browser.conftest import sign_in
from tests.exams.test_take_exam import right_answers

pytestmark = pytest.mark.browser


def answer_on_screen(page, attempt: ExamAttempt, correctly: bool):
    for item in attempt.paper:
        if correctly:
            for key, values in right_answers(item).items():
                for value in values:
                    page.check(f"input[name='{key}'][value='{value}']")
        page.click("button[name=go][value=next]")
    page.click("[data-test=submit]")
    page.wait_for_load_state()


def test_fail_coaching_make_up_certificate_active(page, live_server, org, content, make_employee, make_user,
                                                  browser, artifacts):
    content.sync()
    newcomer = make_employee("赵晨", manager=org.manager, status="onboarding")
    make_user("newhire", "employee", newcomer)

    sign_in(page, live_server, "newhire")
    page.click(".menu summary")
    page.click(".menu >> text=考试")
    page.click("[data-test=start]")
    first = db.session.scalars(select(ExamAttempt)).one()
    page.screenshot(path=str(artifacts / "exam-question-zh-phone.png"), full_page=True)
    answer_on_screen(page, first, correctly=False)
    expect(page.locator("body")).to_contain_text("不合格")

    manager = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    sign_in(manager, live_server, "manager")
    manager.goto(f"{live_server}/exams/coaching")
    manager.fill("input[name=coached_on]", clock.today().isoformat())
    manager.fill("textarea[name=notes]", "逐条讲解请假流程、旷工认定和失联处理")
    manager.click("text=记录辅导")
    expect(manager.locator("body")).to_contain_text("辅导已记录")

    page.goto(f"{live_server}/exams/")
    page.click("[data-test=start]")
    db.session.expire_all()
    second = db.session.scalars(select(ExamAttempt).where(ExamAttempt.number == 2)).one()
    answer_on_screen(page, second, correctly=True)
    assert "合格" in page.locator("section.card").first.inner_text()
    page.screenshot(path=str(artifacts / "exam-result-zh-phone.png"), full_page=True)

    page.goto(f"{live_server}/exams/")
    link = page.get_attribute("[data-test=certificate]", "href")
    response = page.request.get(f"{live_server}{link}")  # with her session, as the link would
    assert response.headers["content-type"] == "application/pdf"
    pdf = response.body()
    assert "培训合格证明" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    db.session.expire_all()
    assert newcomer.status == "active"
