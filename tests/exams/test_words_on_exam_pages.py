"""Exam pages say things once and in words: the multiple-choice hint only when the stem does not say it
already; the answer analysis names clauses by title and keeps question ids out of sight."""

from __future__ import annotations

from flask import render_template_string

from lms.courses.clauses import clause_title

MACRO = '{% from "exams/_choices.html" import choices %}{{ choices(unit, "q1", [], locale) }}'


def _unit(zh: str, en: str) -> dict:
    return {"type": "multiple", "stem": {"zh": zh, "en": en},
            "options": [{"key": "a", "zh": "甲", "en": "A"}, {"key": "b", "zh": "乙", "en": "B"}]}


def test_the_multiple_choice_label_appears_once(app):
    with app.test_request_context():
        said = render_template_string(MACRO, unit=_unit("哪些做法正确？（多选）", "Which? (Choose all that apply.)"),
                                      locale="zh_CN")
        unsaid = render_template_string(MACRO, unit=_unit("哪些做法正确？", "Which?"), locale="zh_CN")
        english = render_template_string(MACRO, unit=_unit("哪些？（多选）", "Which? (Choose all that apply.)"),
                                         locale="en")
    assert "choose all that apply" not in said and "多选" in said
    assert "choose all that apply" in unsaid
    assert english.lower().count("all that apply") == 1


def test_clauses_are_named_by_their_title(app, content):
    content.sync()
    with app.test_request_context():
        title = clause_title("leave.notice")
    assert title and title != "leave.notice"
