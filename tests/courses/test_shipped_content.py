"""The content that ships with the product loads, and teaches the numbers SPEC §4 enforces."""

from __future__ import annotations

from sqlalchemy import select

from lms.courses import services
from lms.courses.models import Course, RuleSet
from lms.extensions import db


def test_the_shipped_content_syncs_and_states_the_rules(app):
    report = services.sync_content()
    assert report.new_versions == 4
    rules = db.session.scalars(select(RuleSet)).one()
    values = {c.clause_id: c.values for c in rules.clauses}
    assert values["absence.threshold"] == {"consecutive_working_days": 3, "days_per_calendar_month": 5}
    assert values["unreachable.procedure"]["first_alert_after_hours"] == 2
    assert values["unreachable.procedure"]["second_alert_after_hours"] == 4
    assert values["unreachable.procedure"]["postal_allowance_days"] == 3
    assert values["unreachable.procedure"]["return_period_days"] == 3
    assert values["leave.notice"] == {"notice_days": 3}
    assert rules.procedure_zh and rules.adopted_on.isoformat() == "2026-01-15"

    slugs = set(db.session.scalars(select(Course.slug)))
    assert slugs == {"employee-handbook", "scenario-urgent-absence", "scenario-manager-unreachable",
                     "case-dismissal-without-leave"}
    handbook = services.current_version(db.session.scalar(select(Course.id).where(Course.slug == "employee-handbook")))
    chapter = next(c for c in handbook.chapters if c.key == "leave-and-absence")
    assert chapter.title_zh == "请假与旷工"
    assert {"leave.notice", "leave.approval", "leave.emergency", "absence.definition", "absence.threshold",
            "unreachable.procedure", "unreachable.consequence"} <= set(chapter.rule_ids)
    for cited in ("第三十九条", "第四十三条", "劳社厅函〔1998〕5号", "劳办发〔1995〕179号"):
        assert cited in chapter.markdown_zh, cited
    assert "onboarding" in handbook.audience
    case = services.current_version(db.session.scalar(
        select(Course.id).where(Course.slug == "case-dismissal-without-leave")))
    facts = case.chapters[0].markdown_zh
    assert all(day in facts for day in ("6月15日", "6月19日", "6月25日", "6月26日"))


def test_the_shipped_question_bank_and_exams(app):
    from lms.exams import services as exams
    from lms.exams.content import question_clause

    services.sync_content()
    onboarding = exams.current_exam("onboarding")
    assert onboarding.is_onboarding and onboarding.pass_mark == 80 and onboarding.course_slug == "employee-handbook"
    questions = onboarding.bank.questions
    assert len(questions) >= 40
    types = {q["type"] for q in questions}
    assert types == {"single", "multiple", "truefalse", "scenario"}
    covered = {question_clause(q) for q in questions}
    assert {"leave.notice", "absence.definition", "absence.threshold", "unreachable.procedure",
            "unreachable.consequence"} <= covered
    for exam in exams.current_exams():  # two attempts can see different questions
        for clause, count in exam.draw.items():
            assert sum(question_clause(q) == clause for q in questions) >= 2 * count, (exam.slug, clause)
