"""A small content tree written by the tests, in the same format as content/ (fixture `content`)."""

from __future__ import annotations

import shutil
from pathlib import Path

from lms.config import PROJECT_DIR
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
  - id: unreachable.procedure
    title: {zh: "失联处理", en: "Unreachable procedure"}
    text: {zh: "上班2小时无打卡即提醒，4小时后再次提醒。", en: "Alert 2 hours after shift start, again 4 hours later."}
    values: {first_alert_after_hours: 2, second_alert_after_hours: 4, postal_allowance_days: 3, return_period_days: 3}
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


BANK = """\
bank: rules
rules_version: "2026-01"
title: {zh: "题库", en: "Bank"}
questions:
  - id: notice-1
    type: single
    clause: leave.notice
    stem: {zh: "请假须提前几天申请？", en: "How many days ahead must leave be requested?"}
    options:
      - {id: a, zh: "1天", en: "1 day"}
      - {id: b, zh: "3天", en: "3 days", correct: true}
      - {id: c, zh: "当天", en: "The same day"}
    explanation: {zh: "制度规定提前3天。", en: "The rules say 3 days."}
  - id: notice-2
    type: truefalse
    clause: leave.notice
    stem: {zh: "在朋友圈说明即视为请假。", en: "A WeChat Moments post counts as a leave request."}
    answer: false
    explanation: {zh: "必须通过系统申请。", en: "Apply in the system."}
  - id: threshold-1
    type: multiple
    clause: absence.threshold
    stem: {zh: "哪些属于严重违纪？", en: "Which are serious violations?"}
    options:
      - {id: a, zh: "连续旷工3个工作日", en: "3 consecutive working days", correct: true}
      - {id: b, zh: "一个月累计旷工5天", en: "5 days in a calendar month", correct: true}
      - {id: c, zh: "迟到一次", en: "Late once"}
    explanation: {zh: "见制度。", en: "See the rules."}
  - id: threshold-2
    type: scenario
    stem: {zh: "小王周四、周五旷工，周一也未到岗。", en: "Wang was absent Thu, Fri and Monday."}
    parts:
      - id: p1
        type: truefalse
        clause: absence.threshold
        stem: {zh: "周末计入旷工天数。", en: "The weekend counts."}
        answer: false
        explanation: {zh: "休息日不计。", en: "Rest days do not count."}
      - id: p2
        type: single
        clause: absence.threshold
        stem: {zh: "连续旷工几个工作日？", en: "How many consecutive working days?"}
        options:
          - {id: a, zh: "3", en: "3", correct: true}
          - {id: b, zh: "5", en: "5"}
          - {id: c, zh: "2", en: "2"}
        explanation: {zh: "周四、周五、周一。", en: "Thu, Fri, Mon."}
"""

EXAM = """\
exam: onboarding
title: {zh: "入职考试", en: "Onboarding exam"}
course: handbook
bank: rules
draw: {leave.notice: 1, absence.threshold: 2}
time_limit_minutes: 20
max_attempts: 2
pass_mark: 80
partial_credit: false
onboarding: true
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
    tree.write("exams/banks/rules.yaml", BANK)
    tree.write("exams/onboarding.yaml", EXAM)
    # The document templates as shipped: the tests render the notices HR's lawyer would see.
    shutil.copytree(PROJECT_DIR / "content" / "documents", root / "documents")
    return tree
