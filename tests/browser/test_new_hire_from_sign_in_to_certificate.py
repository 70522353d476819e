"""The new hire's whole path on a 390×844 phone, using only what the screens offer (no typed URL after
signing in): the start page's next step, reading and confirming, the exam from the last chapter, a
failed attempt that says what happens next, the make-up locked with its reason, the message linking the
chapters to re-read, her manager's coaching (his own menu), the make-up, the certificate, its public
verification and her record. In Chinese, and once in English."""

from __future__ import annotations

import io
import re

import pytest
from playwright.sync_api import expect
from pypdf import PdfReader
from sqlalchemy import select

from lms import clock
from lms.courses import services as courses
from lms.exams.models import ExamAttempt
from lms.extensions import db
from tests.browser.conftest import sign_in
from tests.browser.test_new_hire_exam_journey import answer_on_screen

pytestmark = pytest.mark.browser

WORDS = {
    "zh": {"menu": "菜单", "exams": "考试", "inbox": "消息", "record": "我的档案", "training": "培训",
           "coaching": "线下辅导", "record_button": "记录辅导", "home": "首页", "locked": "补考尚未开放",
           "genuine": "真实有效"},
    "en": {"menu": "Menu", "exams": "Exams", "inbox": "Inbox", "record": "My record", "training": "Training",
           "coaching": "Coaching", "record_button": "Record the coaching", "home": "Home",
           "locked": "Make-up exam locked", "genuine": "Genuine"},
}


def menu(page, words, label: str, group: str | None = None) -> None:
    """Open the phone menu (and a group in it) and follow a link, as a thumb would."""
    page.click(".menu summary")
    if group:
        page.click(f".menu [data-test=nav-{group}] summary")
    page.click(f".menu nav >> text={label}")
    page.wait_for_load_state()


def next_step(page) -> str:
    return page.get_attribute("[data-test=next-step]", "data-step")


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_new_hire_from_sign_in_to_certificate_on_a_phone(lang, page, browser, live_server, org, content,
                                                          make_employee, make_user, artifacts):
    words = WORDS[lang]
    content.sync()
    hire = make_employee("赵晨", manager=org.manager, status="onboarding")
    make_user("newhire", "employee", hire)
    courses.enrol_new_hires()

    sign_in(page, live_server, "newhire")
    if lang == "en":
        page.click("[data-test=lang-en]")  # kept on her account from now on
        page.wait_for_load_state()
    assert next_step(page) == "read"
    assert page.locator("[data-test=contact-hr]").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(artifacts / f"newhire-1-home-{lang}-phone.png"), full_page=True)

    page.click("[data-test=next-step-go]")  # read the welcome chapter
    page.click("button:has-text('{}')".format("标记为已读" if lang == "zh" else "Mark as read"))
    page.wait_for_url(re.compile(r"/chapters/leave-and-absence$"))  # straight on to the next chapter
    page.click("[data-test=attest]")
    page.wait_for_url(re.compile(r"/chapters/leave-and-absence#next$"))
    expect(page.locator("[data-test=take-exam]")).to_be_visible()
    page.screenshot(path=str(artifacts / f"newhire-2-last-chapter-{lang}-phone.png"), full_page=True)
    page.click("[data-test=take-exam-now]")
    page.wait_for_url(re.compile(r"/exams/attempts/\d+/1$"))
    first = db.session.scalars(select(ExamAttempt)).one()
    expect(page.locator("[data-test=time-left]")).to_have_text(re.compile(r"^\d+:\d\d$"))
    page.screenshot(path=str(artifacts / f"newhire-3-question-{lang}-phone.png"), full_page=True)
    answer_on_screen(page, first, correctly=False)

    what_next = page.locator("[data-test=what-next]")
    expect(what_next).to_be_visible()
    assert "张伟" in what_next.inner_text()
    assert page.locator("[data-test=reread] a").count() >= 1
    page.screenshot(path=str(artifacts / f"newhire-4-failed-{lang}-phone.png"), full_page=True)

    menu(page, words, words["exams"])
    locked = page.locator("[data-test=locked]")
    assert words["locked"] in locked.inner_text() and page.locator("[data-test=start]").count() == 0
    page.screenshot(path=str(artifacts / f"newhire-5-exams-locked-{lang}-phone.png"), full_page=True)

    menu(page, words, words["inbox"])
    page.click("ul >> a >> nth=0")  # the make-up message, newest first
    page.wait_for_load_state()
    page.click(".message-body a >> nth=0")  # a chapter to re-read, linked from the message
    page.wait_for_url(re.compile(r"/courses/handbook/chapters/"))
    page.click(".brand")
    assert next_step(page) == "coaching"

    manager = browser.new_context(viewport={"width": 390, "height": 844},
                                  locale="zh-CN" if lang == "zh" else "en-US").new_page()
    sign_in(manager, live_server, "manager")
    if lang == "en":
        manager.click("[data-test=lang-en]")
        manager.wait_for_load_state()
    menu(manager, words, words["coaching"], group="training")
    manager.fill("input[name=coached_on]", clock.today().isoformat())
    manager.fill("textarea[name=notes]", "逐条讲解请假流程、旷工认定和失联处理")
    manager.click(f"text={words['record_button']}")
    expect(manager.locator(".flash-success")).to_have_count(1)
    manager.context.close()

    page.reload()
    assert next_step(page) == "make_up"
    page.click("[data-test=next-step-go]")
    page.wait_for_url(re.compile(r"/exams/attempts/\d+/1$"))
    db.session.expire_all()
    second = db.session.scalars(select(ExamAttempt).where(ExamAttempt.number == 2)).one()
    answer_on_screen(page, second, correctly=True)
    expect(page.locator("[data-test=what-next] [data-test=certificate]")).to_be_visible()
    page.screenshot(path=str(artifacts / f"newhire-6-passed-{lang}-phone.png"), full_page=True)

    with page.expect_download() as download:
        page.click("[data-test=what-next] [data-test=certificate]")
    pdf = download.value.path().read_bytes()
    assert "培训合格证明" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()

    page.click("[data-test=what-next] [data-test=verify]")
    page.wait_for_url(re.compile(r"/verify/[A-Z0-9]{12}$"))
    assert words["genuine"] in page.locator("[data-test=verdict]").inner_text()
    page.screenshot(path=str(artifacts / f"newhire-7-verify-{lang}-phone.png"), full_page=True)

    page.click(".brand")
    assert next_step(page) == "certificate"
    menu(page, words, words["record"])
    expect(page.locator("[data-test=my-certificates] li")).to_have_count(1)
    expect(page.locator("[data-test=my-attestations] li")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(artifacts / f"newhire-8-record-{lang}-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 800})  # the same pages on a desktop
    page.click(".brand")
    page.screenshot(path=str(artifacts / f"newhire-9-home-{lang}-desktop.png"), full_page=True)
    db.session.expire_all()
    assert hire.status == "active"
