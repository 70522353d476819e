"""A learner signs in on a phone-sized screen, switches language, and sees her own record."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_sign_in_switch_language_and_open_my_record(page, live_server, org, artifacts):
    page.goto(f"{live_server}/")
    assert page.url.startswith(f"{live_server}/login")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.locator("h1").inner_text() == "登录"

    page.fill("input[name=username]", "learner")
    page.fill("input[name=password]", "wrong password")
    page.click("button[type=submit]")
    assert page.locator(".flash-error").is_visible()

    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/")
    assert "王芳" in page.locator("h1").inner_text()
    page.screenshot(path=str(artifacts / "home-zh-phone.png"), full_page=True)

    page.click("[data-test=lang-en]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Welcome, 王芳"

    page.click(".menu summary")  # the phone menu is a <details>, no JavaScript needed
    page.click(".menu >> text=My record")
    assert page.locator("[data-test=national-id]").inner_text() == "1101**********1239"
    page.screenshot(path=str(artifacts / "record-en-phone.png"), full_page=True)

    page.click("[data-test=lang-zh]")
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert "王芳" in page.locator("h1").inner_text()
    # The choice is kept on the account: a new session in the same browser stays in Chinese.
    page.goto(f"{live_server}/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"


def test_hr_import_page_shows_every_error_in_the_browser(page, live_server, org, tmp_path):
    bad = tmp_path / "staff.csv"
    bad.write_text("工号,姓名,部门,入职日期,手机号\nE1,,销售部,2024-02-30,123\n", encoding="utf-8")
    sign_in(page, live_server, "hr")
    page.goto(f"{live_server}/people/import")
    page.set_input_files("input[type=file]", str(bad))
    page.click("button[type=submit]")
    rows = page.locator(".errors tbody tr")
    assert rows.count() == 3  # name, hire_date, mobile — all at once


def test_the_menu_is_a_bar_on_a_desktop(browser, live_server, org, artifacts):
    page = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN").new_page()
    sign_in(page, live_server, "hr")
    assert not page.locator(".menu > summary").is_visible()
    assert page.locator("nav.wide >> text=缺勤管理").is_visible()
    evidence_log = page.locator("nav.wide >> text=证据日志")
    assert not evidence_log.is_visible()  # HR's pages are grouped: the log sits in a drop-down
    page.click("nav.wide [data-test=nav-records] summary")
    assert evidence_log.is_visible()
    page.click("nav.wide [data-test=nav-people] summary")
    page.screenshot(path=str(artifacts / "hr-menu-desktop-zh.png"))
    page.click("nav.wide [data-test=nav-people] >> text=员工")
    expect(page.locator("body")).to_contain_text("王芳")


def test_hr_finds_a_grouped_page_in_the_phone_menu(browser, live_server, org, artifacts):
    page = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    sign_in(page, live_server, "hr")
    page.click(".menu > summary")
    page.click(".menu [data-test=nav-records] summary")
    page.screenshot(path=str(artifacts / "hr-menu-phone-zh.png"))
    page.click(".menu >> text=证据日志")
    page.wait_for_url(f"{live_server}/evidence/")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
