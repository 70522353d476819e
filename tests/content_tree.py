"""A small content tree written by the tests, in the same format as content/ (fixture `content`)."""

from __future__ import annotations

from pathlib import Path

from lms.courses import services

RULES = """\
version: "2026-01"
title: {zh: "考勤制度", en: "Attendance rules"}
adopted_on: 2026-01-15
effective_from: 2026-02-01
procedure: {zh: "经职工代表大会讨论通过并公示", en: "Discussed by the staff congress and published"}
clauses:
  - id: leave.notice
    title: {zh: "提前请假", en: "Notice"}
    text: {zh: "请假须提前3天申请。", en: "Apply 3 days ahead."}
    values: {notice_days: 3}
  - id: absence.threshold
    title: {zh: "旷工认定", en: "Absence threshold"}
    text: {zh: "连续旷工3个工作日属严重违纪。", en: "3 consecutive working days is a serious violation."}
    values: {consecutive_working_days: 3, days_per_calendar_month: 5}
"""

COURSE = """\
---
slug: handbook
kind: handbook
title: {zh: "员工手册", en: "Employee Handbook"}
audience: [all, onboarding]
rules_version: "2026-01"
chapters:
  - id: welcome
    title: {zh: "欢迎", en: "Welcome"}
  - id: leave-and-absence
    title: {zh: "请假与旷工", en: "Leave and absence"}
    rules: [leave.notice, absence.threshold]
---
"""

SCENARIO = """\
---
slug: urgent
kind: scenario
title: {zh: "急事无法到岗", en: "An emergency"}
audience: [all]
chapters:
  - id: story
    title: {zh: "情景", en: "The story"}
---
"""


class ContentTree:
    def __init__(self, root: Path):
        self.root = root

    def write(self, relative: str, text: str) -> Path:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def sync(self):
        return services.sync_content(self.root)


def write_small_tree(root: Path) -> ContentTree:
    tree = ContentTree(root)
    tree.write("rules/2026-01.yaml", RULES)
    tree.write("courses/handbook/course.md", COURSE)
    tree.write("courses/handbook/chapters/welcome.zh.md", "## 欢迎\n\n欢迎加入公司。\n")
    tree.write("courses/handbook/chapters/welcome.en.md", "## Welcome\n\nWelcome aboard.\n")
    tree.write("courses/handbook/chapters/leave-and-absence.zh.md",
               "## 请假\n\n请假须提前 **3 天**申请。\n\n| 步骤 | 时间 |\n|---|---|\n| 提醒 | 2 小时 |\n")
    tree.write("courses/handbook/chapters/leave-and-absence.en.md", "## Leave\n\nApply **3 days** ahead.\n")
    tree.write("courses/urgent/course.md", SCENARIO)
    tree.write("courses/urgent/chapters/story.zh.md", "小李的父亲住院了。\n")
    tree.write("courses/urgent/chapters/story.en.md", "Li's father is in hospital.\n")
    return tree
