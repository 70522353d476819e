"""A learner reads the handbook on a phone in Chinese and in English, and attests the rules chapter."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from lms.courses import services
from lms.courses.models import Attestation, Course
from lms.extensions import db
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


def test_read_the_handbook_and_attest_on_a_phone(page, live_server, org, content, artifacts):
    content.sync()
    handbook = db.session.scalars(select(Course).where(Course.slug == "handbook")).one()
    services.enrol([org.learner.id], handbook.id, source="hr")

    sign_in(page, live_server, "learner")
    page.click(".menu summary")
    page.click(".menu >> text=我的课程")
    page.click("text=员工手册")
    page.click("text=请假与旷工")
    text = page.locator("[data-test=chapter-text]")
    assert "提前" in text.inner_text() and text.locator("table").count() == 1
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")  # no sideways scroll
    page.screenshot(path=str(artifacts / "chapter-zh-phone.png"), full_page=True)

    page.click("[data-test=lang-en]")
    page.wait_for_load_state()
    assert "Apply 3 days ahead" in page.locator("[data-test=chapter-text]").inner_text()
    page.click("[data-test=attest]")
    page.wait_for_load_state()
    assert "Your confirmation has been recorded" in page.locator(".flash").inner_text()
    attestation = db.session.scalars(select(Attestation)).one()
    assert attestation.locale == "en"
    assert attestation.user_agent  # the phone browser's own user agent was recorded
    page.screenshot(path=str(artifacts / "course-en-phone.png"), full_page=True)
