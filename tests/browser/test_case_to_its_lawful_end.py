"""HR follows the seed's case on a desktop, in Chinese, from the threshold to the dispute file: the notice's
draft at the threshold, its dispatch and delivery, the letter to the union and its answer, the confirmation
of the termination, its notice's service, the employment ended, and the dispute file downloaded — which
verifies offline. The live server runs on the wall clock, so every date the forms take is typed in (the
seed's June), and the termination notice is dated the day the test runs."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from datetime import date, datetime

from playwright.sync_api import expect

from lms import clock
from lms.absence import notices
from lms.absence.jobs import service_deadlines
from lms.extensions import db
from tests.absence.conftest import switch_on
from tests.browser.conftest import sign_in
from tests.documents.conftest import reach_threshold, train


def test_hr_takes_the_seed_case_from_the_threshold_to_the_dispute_file(browser, live_server, app, org, content,
                                                                       artifacts, login_as, tmp_path):
    switch_on(content)
    train(login_as, org)
    case = reach_threshold(org)
    org.learner.contact_address = "上海市浦东新区世纪大道100号"
    db.session.commit()
    page = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    sign_in(page, live_server, "hr")
    page.goto(f"{live_server}/absence/cases/{case.id}")
    expect(page.locator("body")).to_contain_text("限期返岗通知书")
    page.screenshot(path=str(artifacts / "lawful-end-1-threshold-desktop.png"), full_page=True)

    with clock.frozen(clock.as_utc(datetime(2026, 6, 18, 10, 0))):  # HR issued it on 6.18 (its draft: above)
        notice = notices.issue_return_notice(case, org.users["hr"], dispatch_on=date(2026, 6, 19))
    page.goto(f"{live_server}/absence/cases/{case.id}")
    form = page.locator("[data-test=dispatch-form]")
    form.locator("input[name=tracking_no]").fill("EA000000001CN")
    form.locator("input[name=dispatched_on]").fill("2026-06-19")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    page.locator("[data-test=dispatch] [data-test=tracking-summary]").first.click()
    page.select_option("[data-test=tracking-form] select[name=status]", "delivered")
    page.fill("[data-test=tracking-form] input[name=day]", "2026-06-21")
    page.select_option("[data-test=tracking-form] select[name=signed_by]", "employee")
    page.locator("[data-test=tracking-form] button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("[data-test=service-state]").first.inner_text() == "已送达：6月21日本人签收"
    assert page.locator("[data-test=effective-deadline]").inner_text().startswith("2026-06-25")

    union = page.locator("[data-test=union]")
    assert "第四十三条" in page.locator("[data-test=termination-unmet]").inner_text()
    union.locator("[data-test=union-letter-form] input[name=union_name]").fill("示例科技有限公司工会")
    union.locator("[data-test=union-letter-form] button[type=submit]").click()
    page.wait_for_load_state()
    assert "UNN-2026-000001" in page.locator("[data-test=union-letters]").inner_text()
    notice_form = page.locator("[data-test=union-notice-form]")
    notice_form.locator("input[name=at]").fill("2026-06-26T09:00")
    notice_form.locator("input[name=receipt_signed_by]").fill("工会主席 刘强")
    notice_form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    page.locator("[data-test=union] details", has_text="登记工会意见").locator("summary").click()
    opinion = page.locator("[data-test=union-opinion-form]")
    opinion.locator("input[name=at]").fill("2026-06-26T15:00")
    opinion.locator("select[name=opinion]").select_option("no_objection")
    opinion.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "工会程序已完成" in page.locator("[data-test=union-gate]").inner_text()
    page.screenshot(path=str(artifacts / "lawful-end-2-union-desktop.png"), full_page=True)

    page.locator("[data-test=termination-form] textarea[name=note]").fill("逾期未返岗，亦未说明理由")
    page.locator("[data-test=termination-form] button[type=submit]").click()
    page.wait_for_load_state()
    section = page.locator("[data-test=termination]")
    assert "TRM-2026-000001" in section.inner_text() and "自通知送达之日起" in section.inner_text()
    today = clock.local(clock.now()).date().isoformat()  # the live server's day: the notice is dated today
    form = page.locator("[data-test=dispatch-form]")
    form.locator("select[name=document_id]").select_option(label="TRM-2026-000001")
    form.locator("input[name=tracking_no]").fill("EA000000002CN")
    form.locator("input[name=dispatched_on]").fill(today)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    termination = page.locator("[data-test=termination]")
    termination.locator("[data-test=tracking-summary]").click()
    termination.locator("[data-test=tracking-form] select[name=status]").select_option("delivered")
    termination.locator("[data-test=tracking-form] input[name=day]").fill(today)
    termination.locator("[data-test=tracking-form] select[name=signed_by]").select_option("employee")
    termination.locator("[data-test=tracking-form] button[type=submit]").click()
    page.wait_for_load_state()
    service_deadlines(clock.now())  # the scheduler's next pass
    db.session.expire_all()
    assert (case.employee.status, case.employee.terminated_on.isoformat()) == ("terminated", today)
    page.goto(f"{live_server}/absence/cases/{case.id}")
    assert page.locator("[data-test=termination-effective]").inner_text() == today
    page.screenshot(path=str(artifacts / "lawful-end-3-terminated-desktop.png"), full_page=True)

    with page.expect_download() as download:
        page.locator("[data-test=case-dispute-file] button[type=submit]").click()
    content_bytes = open(download.value.path(), "rb").read()
    folder = tmp_path / "dispute-file"
    with zipfile.ZipFile(io.BytesIO(content_bytes)) as archive:
        archive.extractall(folder)
        names = archive.namelist()
    assert "documents/00-证据目录.pdf" in names and any(notice.number in n for n in names)
    checked = subprocess.run([sys.executable, "-I", "verify.py"], cwd=folder, capture_output=True, text=True,
                             timeout=60)
    assert checked.returncode == 0, checked.stdout
    page.context.close()

    phone = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN").new_page()
    sign_in(phone, live_server, "hr")
    phone.goto(f"{live_server}/absence/cases/{case.id}")
    phone.screenshot(path=str(artifacts / "lawful-end-4-terminated-phone.png"), full_page=True)
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    phone.context.close()
