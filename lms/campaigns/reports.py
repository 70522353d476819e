"""Dashboards (per campaign, per department), the SVG bar chart, CSV, and the yearly compliance record."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import aliased

from lms import clock
from lms.campaigns.models import Assignment
from lms.exams.models import ExamAttempt
from lms.extensions import db
from lms.people.models import Department, Employee


@dataclass
class Row:
    assignment: Assignment
    employee_no: str
    name: str
    department: str
    manager: str | None
    first_try: bool

    def status(self, today: date) -> str:
        return self.assignment.status(today)


def _earlier_try():
    """An attempt of the same exam in the assignment's cycle before the one that completed it."""
    earlier = aliased(ExamAttempt)
    return exists().where(earlier.employee_id == Assignment.employee_id, earlier.exam_slug == Assignment.exam_slug,
                          earlier.started_at >= Assignment.assigned_at, earlier.id < Assignment.completed_attempt_id)


def rows(campaign_id: int | None = None, employee_ids=None, department: str | None = None) -> list[Row]:
    """Assignments with the person, department, manager and 'passed at first try': one query."""
    manager = aliased(Employee)
    query = (select(Assignment, Employee.employee_no, Employee.name, Department.name, manager.name,
                    and_(Assignment.completed_attempt_id.is_not(None), ~_earlier_try()))
             .join(Employee, Employee.id == Assignment.employee_id)
             .join(Department, Department.id == Employee.department_id)
             .outerjoin(manager, manager.id == Employee.manager_id)
             .order_by(Employee.employee_no, Assignment.id))
    if campaign_id is not None:
        query = query.where(Assignment.campaign_id == campaign_id)
    if employee_ids is not None:
        query = query.where(Assignment.employee_id.in_(employee_ids))
    if department:
        query = query.where(Department.name == department)
    return [Row(a, no, name, dept, boss, bool(first)) for a, no, name, dept, boss, first in db.session.execute(query)]


def counts(found: list[Row], today: date) -> dict:
    result = {"assigned": len(found), "completed": 0, "overdue": 0, "passed_first_try": 0}
    for row in found:
        status = row.status(today)
        if status == "completed":
            result["completed"] += 1
        elif status == "overdue":
            result["overdue"] += 1
        result["passed_first_try"] += 1 if row.first_try else 0
    return result


def by_department(found: list[Row], today: date) -> list[dict]:
    groups: dict[str, list[Row]] = {}
    for row in found:
        groups.setdefault(row.department, []).append(row)
    return [{"department": name, **counts(members, today)} for name, members in sorted(groups.items())]


def bar_chart_svg(groups: list[dict], labels: dict[str, str], title: str) -> str:
    """A grouped horizontal bar chart (assigned, completed, overdue, first try) per department, as SVG.

    Text is plain SVG <text> in the page's fonts, so Chinese labels render wherever the page does.
    """
    series = ("assigned", "completed", "overdue", "passed_first_try")
    colours = {"assigned": "#9aa5b1", "completed": "#2f855a", "overdue": "#c53030", "passed_first_try": "#2b6cb0"}
    top = max([g["assigned"] for g in groups] + [1])
    bar, gap, label_w, chart_w = 12, 14, 150, 360
    height = 40 + len(groups) * (len(series) * bar + gap) + 30
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(title)}" '
             f'viewBox="0 0 {label_w + chart_w + 60} {height}" class="bar-chart">',
             f'<title>{escape(title)}</title>']
    y = 30
    for n, key in enumerate(series):
        parts.append(f'<rect x="{label_w + n * 95}" y="6" width="10" height="10" fill="{colours[key]}"/>'
                     f'<text x="{label_w + n * 95 + 14}" y="15" font-size="11">{escape(labels[key])}</text>')
    for group in groups:
        parts.append(f'<text x="{label_w - 8}" y="{y + len(series) * bar / 2 + 4}" font-size="12" '
                     f'text-anchor="end">{escape(group["department"])}</text>')
        for key in series:
            width = round(chart_w * group[key] / top)
            parts.append(f'<rect x="{label_w}" y="{y}" width="{width}" height="{bar - 2}" fill="{colours[key]}">'
                         f'<title>{escape(labels[key])}: {group[key]}</title></rect>'
                         f'<text x="{label_w + width + 4}" y="{y + bar - 3}" font-size="10">{group[key]}</text>')
            y += bar
        y += gap
    parts.append("</svg>")
    return "".join(parts)


def csv_text(header: list[str], lines: list[list]) -> str:
    out = io.StringIO()
    out.write("\ufeff")  # Excel opens UTF-8 with Chinese correctly only with the BOM
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(lines)
    return out.getvalue()


# ---------------------------------------------------------------- the yearly compliance record


def compliance(employee_id: int, year: int) -> dict:
    """The leave-procedure compliance record of one employee for one year, for performance reviews:
    late leave requests, 旷工 days, exams passed first time or after make-up, refreshers overdue."""
    from lms.absence.models import CaseDay

    start, end = date(year, 1, 1), date(year, 12, 31)
    absent_days = db.session.scalar(select(func.count()).select_from(CaseDay).where(
        CaseDay.employee_id == employee_id, CaseDay.status == "counted", CaseDay.day.between(start, end))) or 0
    attempts = list(db.session.scalars(select(ExamAttempt).where(
        ExamAttempt.employee_id == employee_id, ExamAttempt.submitted_at.is_not(None))
        .order_by(ExamAttempt.submitted_at, ExamAttempt.id)))
    # Attempts of one exam form a cycle that a pass ends (numbering runs on across cycles).
    first_time = after_make_up = 0
    tries: dict[str, int] = {}
    for attempt in attempts:
        tries[attempt.exam_slug] = tries.get(attempt.exam_slug, 0) + 1
        if attempt.is_passed:
            if clock.local(attempt.submitted_at).year == year:
                if tries[attempt.exam_slug] == 1:
                    first_time += 1
                else:
                    after_make_up += 1
            tries[attempt.exam_slug] = 0
    today = clock.today()
    assignments = [a for a in db.session.scalars(select(Assignment).where(Assignment.employee_id == employee_id))
                   if a.due_on.year == year]
    overdue = sum(1 for a in assignments if (a.completed_at is None and a.due_on < today)
                  or (a.completed_at is not None and clock.local(a.completed_at).date() > a.due_on))
    late, leaves = _late_leave_requests(employee_id, start, end)
    return {"year": year, "leave_requests": leaves, "late_leave_requests": late, "absent_days": absent_days,
            "exams_passed_first_time": first_time, "exams_passed_after_make_up": after_make_up,
            "refreshers": len(assignments), "refreshers_overdue": overdue}


def _late_leave_requests(employee_id: int, start: date, end: date) -> tuple[int, int]:
    """(late, all) leave starting in the year: late when it was entered fewer than the `leave.notice`
    clause's notice days before it started (the day it was entered counts as the request)."""
    from lms.absence.models import Leave
    from lms.courses.models import RuleClause, RuleSet

    leaves = list(db.session.execute(select(Leave.starts_on, Leave.created_at).where(
        Leave.employee_id == employee_id, Leave.starts_on.between(start, end))))
    notice = list(db.session.execute(select(RuleSet.effective_from, RuleClause.values).join(RuleClause.rule_set)
                                     .where(RuleClause.clause_id == "leave.notice").order_by(RuleSet.effective_from)))
    late = 0
    for starts_on, created_at in leaves:
        in_force = [values for effective, values in notice if effective <= starts_on] or [v for _e, v in notice[:1]]
        days = int((in_force[-1] or {}).get("notice_days", 0)) if in_force else 0
        if (starts_on - clock.local(created_at).date()).days < days:
            late += 1
    return late, len(leaves)
