"""`flask content sync`: immutable versions, content hashes, sanitised Markdown, all-or-nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from lms.courses.content import ContentError
from lms.courses.models import Chapter, Course, CourseVersion, RuleSet
from lms.extensions import db


def version_count() -> int:
    return db.session.scalar(select(func.count(CourseVersion.id)))


def test_sync_loads_rules_and_courses_as_versions(app, content):
    report = content.sync()
    assert report.new_versions == 2
    rules = db.session.scalars(select(RuleSet)).one()
    assert [c.clause_id for c in rules.clauses] == ["leave.notice", "absence.threshold", "unreachable.procedure"]
    assert rules.clauses[1].values == {"consecutive_working_days": 3, "days_per_calendar_month": 5}
    handbook = db.session.scalars(select(CourseVersion).join(Course).where(Course.slug == "handbook")).one()
    assert (handbook.number, handbook.rule_set.version, handbook.audience) == (1, "2026-01", ["all", "onboarding"])
    chapter = handbook.chapters[1]
    assert chapter.rule_ids == ["leave.notice", "absence.threshold"]
    assert "<strong>3 天</strong>" in chapter.html_zh and "<table>" in chapter.html_zh


def test_an_unchanged_tree_makes_no_new_version(app, content):
    content.sync()
    content.write("courses/handbook/chapters/welcome.en.md", "## Welcome\r\n\r\nWelcome aboard.   \r\n\r\n")
    report = content.sync()
    assert report.new_versions == 0 and version_count() == 2
    assert "handbook: unchanged (version 1)" in report.lines


def test_editing_a_chapter_makes_a_new_version_and_keeps_the_old(app, content):
    content.sync()
    content.write("courses/handbook/chapters/leave-and-absence.zh.md", "## 请假\n\n请假须提前 **5 天**申请。\n")
    report = content.sync()
    assert "handbook: new version 2" in " ".join(report.lines)
    old, new = db.session.scalars(select(CourseVersion).join(Course).where(Course.slug == "handbook")
                                  .order_by(CourseVersion.number)).all()
    assert old.sha256 != new.sha256
    assert "3 天" in old.chapters[1].html_zh and "5 天" in new.chapters[1].html_zh
    assert old.chapters[0].sha256 == new.chapters[0].sha256  # the untouched chapter keeps its identity
    assert old.chapters[1].sha256 != new.chapters[1].sha256


def test_script_in_content_is_removed(app, content):
    content.write("courses/urgent/chapters/story.en.md",
                  'Hi <script>alert(1)</script><img src=x onerror="alert(2)"> [x](javascript:alert(3))\n')
    content.sync()
    html = db.session.scalars(select(Chapter.html_en).where(Chapter.key == "story")).one()
    assert "<script" not in html and "onerror" not in html and "javascript:" not in html


def _problems(content) -> list[str]:
    with pytest.raises(ContentError) as caught:
        content.sync()
    return [str(p) for p in caught.value.problems]


def test_every_problem_is_named_with_path_and_line_and_nothing_changes(app, content):
    content.sync()
    before = version_count()
    content.write("courses/handbook/course.md", content.root.joinpath("courses/handbook/course.md").read_text()
                  .replace("rules: [leave.notice, absence.threshold]", "rules: [leave.notice, absence.nope]"))
    content.write("courses/urgent/course.md", "---\nslug: urgent\nkind: [unclosed\n---\n")
    content.root.joinpath("courses/handbook/chapters/welcome.en.md").unlink()
    content.write("courses/handbook/chapters/leave-and-absence.zh.md", "changed, but must not be saved\n")
    problems = _problems(content)
    assert any(p.startswith("content/courses/handbook/course.md:12:") and "absence.nope" in p for p in problems)
    assert any(p.startswith("content/courses/urgent/course.md:3:") and "YAML" in p for p in problems)
    assert any("welcome.en.md" in p and "no en text" in p for p in problems)
    assert version_count() == before


def test_a_changed_rule_set_must_be_a_new_version(app, content):
    content.sync()
    content.write("rules/2026-01.yaml", content.root.joinpath("rules/2026-01.yaml").read_text()
                  .replace("提前3天", "提前5天"))
    problems = _problems(content)
    assert any("rules/2026-01.yaml:1:" in p and "new version" in p for p in problems)


def test_the_cli_reports_problems_and_exits_non_zero(app, runner, content):
    content.write("rules/2026-01.yaml", "version: '2026-01'\nclauses: [\n")
    result = runner.invoke(args=["content", "sync", "--path", str(content.root)])
    assert result.exit_code != 0
    assert "content/rules/2026-01.yaml:" in result.output and "nothing was changed" in result.output
    assert version_count() == 0
