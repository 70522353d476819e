"""The content that ships with the product loads, and teaches the numbers SPEC §4 enforces."""

from __future__ import annotations

import hashlib
import json
import re
from datetime import date, datetime

from sqlalchemy import select

from lms import clock
from lms.courses import services
from lms.courses.content import read_content
from lms.courses.models import Course, RuleSet
from lms.extensions import db

# Adopted versions never change (content/README.md): the files as they were adopted, by their git blob ids.
ADOPTED_FILES = {
    "rules/2026-01.yaml": "4ab981c340f948b686a941124a778ec974094b00",
    "exams/banks/rules-2026-01.yaml": "fdffef504eccaca35b7b10c22e345eb0bfeaa32c",
}


def test_the_shipped_content_syncs_and_states_the_rules(app):
    report = services.sync_content()
    assert report.new_versions == 4
    rule_sets = {r.version: r for r in db.session.scalars(select(RuleSet))}
    assert set(rule_sets) == {"2026-01", "2026-07"}
    for rules in rule_sets.values():  # the absence module reads these numbers from the version in force
        values = {c.clause_id: c.values for c in rules.clauses}
        assert values["absence.threshold"]["consecutive_working_days"] == 3
        assert values["absence.threshold"]["days_per_calendar_month"] == 5
        assert values["unreachable.procedure"] == {"first_alert_after_hours": 2, "second_alert_after_hours": 4,
                                                   "postal_allowance_days": 3, "return_period_days": 3}
        assert values["leave.notice"] == {"notice_days": 3}
        assert rules.procedure_zh and rules.adopted_on < rules.effective_from
    old, new = rule_sets["2026-01"], rule_sets["2026-07"]
    assert old.adopted_on.isoformat() == "2026-01-15" and new.effective_from == date(2026, 7, 1)
    assert [c.clause_id for c in new.clauses] == [c.clause_id for c in old.clauses]
    assert {c.clause_id: c.values for c in old.clauses}["absence.threshold"] == {
        "consecutive_working_days": 3, "days_per_calendar_month": 5}
    assert {c.clause_id: c.values for c in new.clauses}["absence.threshold"] == {
        "consecutive_working_days": 3, "days_per_calendar_month": 5, "count_warned_days": False}

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
    assert all(day in facts for day in ("6月15日", "6月19日", "6月25日", "6月26日", "6月29日"))
    # The termination confirmed on 6.26 is served, and takes effect, on 6.29 (SPEC §4).
    assert "解除日期为6月26日" not in facts and "劳动合同于6月29日解除" in facts
    assert "劳动合同于6月29日解除" in case.chapters[1].markdown_zh
    assert {v.rule_set.version for v in services.current_versions()} == {"2026-07"}


def test_the_shipped_question_bank_and_exams(app):
    from lms.exams import services as exams
    from lms.exams.content import question_clause

    services.sync_content()
    onboarding = exams.current_exam("onboarding")
    assert onboarding.is_onboarding and onboarding.pass_mark == 80 and onboarding.course_slug == "employee-handbook"
    assert {e.bank.slug: e.bank.rules_version for e in exams.current_exams()} == {"rules-2026-07": "2026-07"}
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


def test_the_rule_set_in_force_from_1_july_2026_is_2026_07(app):
    from lms.absence.rules import rules_in_force

    services.sync_content()
    with clock.frozen(datetime(2026, 6, 30, 23, 59)):
        assert services.current_rule_set().version == "2026-01"
    with clock.frozen(datetime(2026, 7, 1, 0, 1)):
        assert services.current_rule_set().version == "2026-07"
        rules = rules_in_force()
        assert (rules.version, rules.first_alert_after.total_seconds(), rules.second_alert_after.total_seconds(),
                rules.consecutive_days, rules.days_per_month) == ("2026-07", 2 * 3600, 4 * 3600, 3, 5)


def _git_blob_id(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def test_adopted_rules_and_their_bank_are_byte_identical():
    for path, blob in ADOPTED_FILES.items():
        assert _git_blob_id((services.CONTENT_DIR / path).read_bytes()) == blob, path


def _texts(value, lang: str) -> list[str]:
    """Every text of a question (stem, options, parts, explanations) in one language."""
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in ([v] if k == lang and isinstance(v, str) else _texts(v, lang))]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v, lang)]
    return []


def _teaching_units() -> dict[str, dict[str, str]]:
    """What employees are taught from 2026-07 on, per unit and language: each clause of the rule set, each
    chapter of every course, each question of its bank."""
    content = read_content(services.CONTENT_DIR)
    rules = next(r for r in content.rule_sets if r.version == "2026-07")
    units = {"rules 2026-07 procedure": dict(rules.procedure)}
    for clause in rules.clauses:
        units[f"clause {clause['id']}"] = {lang: clause["text"][lang] + "\n" + clause["basis"][lang]
                                           for lang in ("zh", "en")}
    for course in content.courses:
        assert course.rules_version == "2026-07", course.slug
        for chapter in course.chapters:
            units[f"{course.slug}/{chapter.key}"] = dict(chapter.markdown)
    bank = next(b for b in content.banks if b.slug == "rules-2026-07")
    for question in bank.questions:
        units[f"question {question['id']}"] = {lang: "\n".join(_texts(question, lang)) for lang in ("zh", "en")}
    return units


# The deadline in the return notice: "dispatch + 3 + 3" may be stated only together with its floor,
# "never earlier than 3 days after the notice is received" (SPEC §4).
DISPATCH_FORMULA = {
    "zh": re.compile(r"寄出之日[＋+]\s*3|3天邮寄在途期|寄出之日后第6日"),
    "en": re.compile(r"3 days for delivery|dispatch date \+ 3|6th day after dispatch", re.I),
}
RECEIPT_FLOOR = {
    "zh": re.compile(r"送达之日后第3日|送达后第3日|收到通知书?之日[＋+]3天|收到通知书?后至少有?3天"),
    "en": re.compile(r"3rd day after (the date of )?service|receives? (the notice|it) \+ 3 days"
                     r"|at least 3 days after receiv", re.I),
}
SENTENCE = {"zh": re.compile(r"[。；\n]"), "en": re.compile(r"(?<=[.;:])\s|\n")}


def test_what_2026_07_teaches_agrees_with_the_law_and_the_notice_rule():
    units = _teaching_units()
    for unit, texts in units.items():
        for lang, text in texts.items():
            assert "视为自动离职" not in text and "将视为旷工" not in text, unit
            assert "will be treated as absence without leave" not in text, unit
            assert "即视为已履行通知程序" not in text and "counts as the company having followed" not in text, unit
            if DISPATCH_FORMULA[lang].search(text):
                assert RECEIPT_FLOOR[lang].search(text), f"{unit} ({lang}) states dispatch + 3 + 3 without the floor"
            for sentence in SENTENCE[lang].split(text):  # a repealed regulation's reply is only a reference
                if "179号" in sentence:
                    assert ("参照" if lang == "zh" else "reference") in sentence.lower(), (unit, sentence)

    procedure = units["clause unreachable.procedure"]
    assert "可能依公司规章制度被认定为旷工" in procedure["zh"]
    assert "may be treated as absence without leave" in procedure["en"]
    assert "送达之日后第3日" in procedure["zh"] and "较晚" in procedure["zh"] and "6月29日" in procedure["zh"]
    consequence = units["clause unreachable.consequence"]["zh"]
    for phrase in ("书面确认的送达地址", "以邮件退回之日为送达日期", "不视为送达", "满30日视为送达", "自送达之日起生效",
                   "（法发〔2017〕19号）第七条、第八条", "《民法典》第一百三十七条第二款、第五百六十五条第一款"):
        assert phrase in consequence, phrase
    threshold = units["clause absence.threshold"]["zh"]
    assert "劳社厅函〔1998〕5号" in threshold and "《关于计算连续旷工时间问题的复函》" in threshold
    assert "书面警告" in threshold
    definition = units["clause absence.definition"]["zh"]
    for phrase in ("出差", "因公外出", "调休", "停工留薪期", "限制人身自由", "劳部发〔1995〕309号）第二十八条",
                   "《劳动合同法》第四条", "《最高人民法院关于审理劳动争议案件适用法律问题的解释（一）》第五十条"):
        assert phrase in definition, phrase


def test_a_question_whose_text_changed_has_a_new_id():
    content = read_content(services.CONTENT_DIR)
    banks = {b.slug: b for b in content.banks}
    old, new = banks["rules-2026-01"], banks["rules-2026-07"]
    assert (old.rules_version, new.rules_version) == ("2026-01", "2026-07")
    old_questions = {q["id"]: q for q in old.questions}
    for question in new.questions:
        if question["id"] in old_questions:
            assert json.dumps(question, sort_keys=True, ensure_ascii=False) == json.dumps(
                old_questions[question["id"]], sort_keys=True, ensure_ascii=False), question["id"]
    # the questions that taught dispatch + 3 + 3, or "sent to the registered address counts as served"
    new_ids = {q["id"] for q in new.questions}
    for retired in ("case-zhang-no-return", "procedure-single-deadline", "procedure-single-3",
                    "consequence-tf-address"):
        assert retired in old_questions and retired not in new_ids
