"""HR on the case page, on a phone and a desktop: the notice's service in words (zh), a dispatch recorded
through the form, the tracking event that returns it, and the next address proposed."""

from __future__ import annotations

from datetime import date, datetime

from lms import clock
from lms.absence import service
from lms.absence.models import Dispatch
from lms.extensions import db
from tests.absence.service_helpers import make_document
from tests.browser.conftest import sign_in


def test_hr_records_service_and_reads_the_deadline(browser, page, live_server, served_case, artifacts):
    case = served_case
    first = make_document(case, date(2026, 6, 18))

    sign_in(page, live_server, "hr")
    page.goto(f"{live_server}/absence/cases/{case.id}")
    form = page.locator("[data-test=dispatch-form]")
    assert form.is_visible()  # the next action (send it) is open
    assert form.locator("textarea[name=address]").input_value() == "上海市浦东新区世纪大道100号"
    form.locator("input[name=tracking_no]").fill("EA123456789CN")
    form.locator("input[name=dispatched_on]").fill("2026-06-19")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("[data-test=stated-deadline]").inner_text().startswith("2026-06-25")
    page.locator("[data-test=dispatch] [data-test=tracking-summary]").click()
    page.select_option("select[name=status]", "returned")
    page.fill("input[name=day]", "2026-06-23")
    page.select_option("select[name=reason]", "no_such_person")
    page.locator("[data-test=dispatch] [data-test=tracking-form] button[type=submit]").click()
    page.wait_for_load_state()
    state = page.locator("[data-test=service-state]").inner_text()
    assert state == "未送达：6月23日退回（查无此人）— 建议改寄户籍地址"
    assert "无" in page.locator("[data-test=effective-deadline]").inner_text()
    page.screenshot(path=str(artifacts / "service-returned-phone.png"), full_page=True)
    wide = page.evaluate("""[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right >
        window.innerWidth + 1).map(e => e.tagName + '.' + e.className + ' ' + (e.getAttribute('data-test') || '')
        + ' ' + e.textContent.slice(0, 40))""")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), wide

    # A new notice to the household address, delivered to a family member: served, and its deadline.
    second = make_document(case, date(2026, 6, 24), replaces=first)
    with clock.frozen(datetime(2026, 6, 26, 18, 0)):
        sent = service.record_dispatch(case, second, method="ems", dispatched_on=date(2026, 6, 24),
                                       addressee=case.employee.name, address=case.employee.household_address,
                                       address_source="household_address", tracking_no="EA2")
        service.record_tracking(db.session.get(Dispatch, sent.id), status="delivered", day=date(2026, 6, 26),
                                signed_by="family_member")
    desktop = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    sign_in(desktop, live_server, "hr")
    desktop.goto(f"{live_server}/absence/cases/{case.id}")
    assert desktop.locator("[data-test=service-state]").inner_text() == "已送达：6月26日同住成年家属签收"
    assert desktop.locator("[data-test=effective-deadline]").inner_text().startswith("2026-06-30")
    desktop.screenshot(path=str(artifacts / "service-served-desktop.png"), full_page=True)
    desktop.context.close()
