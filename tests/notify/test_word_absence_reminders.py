"""The second alert and the daily reminder say what the rules say: an absence without approved leave or an
emergency report *may* be treated as 旷工 — whether it is, HR decides after hearing the employee (SPEC §4)."""

from __future__ import annotations

from datetime import date

import pytest

from lms.notify.services import render

CONTEXT = {"employee_name": "王芳", "day": date(2026, 7, 6), "rule_version": "2026-07",
           "reply_url": "https://lms.example/r/abc", "shift_start": "09:00", "step": "alert2",
           "case_url": "https://lms.example/absence/cases/1"}


@pytest.mark.parametrize("template", ["absence_alert2", "absence_reminder"])
def test_the_alert_says_the_absence_may_be_treated_as_absence_without_leave(app, template):
    with app.test_request_context():
        _subject, english = render(template, CONTEXT, "en")
        _subject, chinese = render(template, CONTEXT, "zh_CN")
    assert "may be treated as absence without leave (旷工)" in english and "will be" not in english
    assert "可能被认定为旷工" in chinese and "将视为旷工" not in chinese and "均计为旷工" not in chinese
    assert "2026-07" in english and "2026-07" in chinese


def test_the_copy_to_the_manager_says_may_too(app):
    with app.test_request_context():
        subject, _body = render("absence_copy", CONTEXT, "zh_CN")
    assert "可能被认定为旷工" in subject and "将视为旷工" not in subject
