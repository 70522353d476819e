"""The exam page in Chromium on a phone: the time left counts down each second; each click is saved at
once; with the network cut the answer waits on the phone and reaches the server when it is back."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from lms.exams.models import ExamAttempt
from lms.extensions import db
from tests.browser.conftest import sign_in
from tests.exams.test_take_exam import right_answers

pytestmark = pytest.mark.browser


def saved_answers(attempt_id: int) -> dict:
    db.session.expire_all()
    return db.session.get(ExamAttempt, attempt_id).answers or {}


def first_choice(item: dict) -> tuple[str, str]:
    key, values = next(iter(right_answers(item).items()))
    return key, values[0]


def test_countdown_autosave_and_answers_kept_offline(page, live_server, org, content, artifacts):
    content.sync()
    sign_in(page, live_server, "learner")
    page.click(".menu summary")
    page.click(".menu >> text=考试")
    page.click("[data-test=start]")
    page.wait_for_selector("[data-test=countdown]")
    attempt = db.session.scalars(select(ExamAttempt)).one()

    left = page.locator("[data-test=time-left]")
    expect(left).to_have_text(re.compile(r"^\d+:\d\d$"))  # the script took over from "N 分钟"
    first = left.inner_text()
    expect(left).not_to_have_text(first, timeout=3000)  # and it counts down

    key, value = first_choice(attempt.paper[0])
    page.check(f"input[name='{key}'][value='{value}']")
    page.wait_for_selector("[data-test=save-status][data-state=saved]")
    assert saved_answers(attempt.id)[key] == [value]  # saved on the click, before moving on

    page.click("button[name=go][value=next]")
    page.wait_for_url(re.compile(r"/exams/attempts/\d+/2$"))
    key2, value2 = first_choice(attempt.paper[1])
    page.context.set_offline(True)
    page.check(f"input[name='{key2}'][value='{value2}']")
    page.wait_for_selector("[data-test=save-status][data-state=queued]")
    assert "联网后" in page.locator("[data-test=save-status]").inner_text()
    assert key2 not in saved_answers(attempt.id)
    page.screenshot(path=str(artifacts / "exam-offline-zh-phone.png"), full_page=True)

    page.context.set_offline(False)
    page.wait_for_selector("[data-test=save-status][data-state=saved]")
    assert saved_answers(attempt.id)[key2] == [value2]
    assert page.evaluate("Object.keys(localStorage).filter(k => k.startsWith('lms-exam-queue:')).length") == 0
