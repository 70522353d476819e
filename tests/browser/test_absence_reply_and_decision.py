"""An absent employee answers the SMS link on her phone; HR finds the case, reads it and accepts."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from lms.absence.models import AbsenceCase
from lms.extensions import db
from lms.notify.models import SmsOutbox
from tests.absence.conftest import add_leave, everyone_present, run_ticks, switch_on
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_reply_by_sms_link_then_hr_accepts(browser, page, live_server, org, content, artifacts):
    switch_on(content)
    add_leave(org.learner, date(2026, 6, 1), date(2026, 6, 14))
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 19), but=[org.learner])
    run_ticks(datetime(2026, 6, 15, 11, 0), datetime(2026, 6, 15, 12, 0))
    [sms] = db.session.scalars(select(SmsOutbox)).all()
    assert "请及时报备行程" in sms.text or "报备" in sms.text
    path = re.search(r"/absence/r/\S+", sms.text).group(0)

    # Her in-app copy, on the phone: readable without sideways scrolling, with a reply button.
    sign_in(page, live_server, "learner")
    page.goto(f"{live_server}/inbox")
    page.click("a[href^='/inbox/'] >> nth=0")
    expect(page.locator("[data-test=reply]")).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(artifacts / "absence-alert-inapp-phone.png"), full_page=True)
    page.context.clear_cookies()

    page.goto(live_server + path)  # on her phone, not signed in
    assert "王芳" in page.inner_text("main")
    page.fill("textarea[name=text]", "家里老人突发疾病住院，我在老家医院陪护，手机一直没信号。")
    page.click("button[type=submit]")
    page.wait_for_selector("[data-test=reply-received]")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    page.screenshot(path=str(artifacts / "absence-reply-phone.png"), full_page=True)

    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    sign_in(desk, live_server, "hr")
    desk.click("nav.wide >> text=缺勤管理")
    row = desk.locator("[data-test=open-case]")
    expect(row).to_have_count(1)
    assert "王芳" in row.inner_text() and "等待人事处理" in row.inner_text()
    expect(desk.locator("[data-test=unanswered-reply]")).to_have_count(1)
    desk.screenshot(path=str(artifacts / "absence-review.png"), full_page=True)
    row.locator("a").first.click()
    assert "手机一直没信号" in desk.inner_text("[data-test=reply]")
    assert desk.locator("[data-test=message]").count() >= 3  # SMS + in-app to her, copies to manager and HR
    desk.select_option("select[name=decision]", "accept")
    desk.fill("textarea[name=note]", "已电话核实，按事假处理")
    desk.check("input[name=confirm_close]")  # accepting closes the case: HR confirms it
    desk.click("button:has-text('作出决定')")
    desk.wait_for_selector(".flash")
    assert "已解决" in desk.inner_text("[data-test=state]")
    desk.screenshot(path=str(artifacts / "absence-case-resolved.png"), full_page=True)
    case = db.session.scalars(select(AbsenceCase)).one()
    db.session.refresh(case)
    assert case.state == "resolved" and case.resolution == "excused"
    desk.context.close()
