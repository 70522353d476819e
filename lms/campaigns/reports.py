"""Dashboards (per campaign, per department), the SVG bar chart, CSV, and the yearly compliance record."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from xml.sax.saxutils import escape

from sqlalchemy import and_, case, exists, func, or_, select, true
from sqlalchemy.orm import aliased

from lms import clock
from lms.bulk import among
from lms.campaigns.models import Assignment
from lms.exams.models import ExamAttempt
from lms.extensions import db
from lms.people import departments
from lms.people.departments import subtree_of_id, subtree_of_name
from lms.people.models import Department, Employee
from lms.sqltypes import local_day


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


def rows(campaign_id: int | None = None, employee_ids=None, department: str | None = None,
         department_id: int | None = None, status: str | None = None) -> list[Row]:
    """Assignments with the person, department, manager and 'passed at first try': one query. A department
    (by name or id) includes its sub-departments; `status` "overdue" keeps the overdue ones only."""
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
        query = query.where(Employee.department_id.in_(subtree_of_name(department)))
    if department_id is not None:
        query = query.where(Employee.department_id.in_(subtree_of_id(department_id)))
    if status == "overdue":
        query = query.where(Assignment.completed_at.is_(None), Assignment.due_on < clock.today())
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


SERIES = ("assigned", "completed", "overdue", "passed_first_try")


def _grouped_counts(key, today: date):
    """assigned, completed, overdue, passed at first try per value of `key`: one grouped SELECT."""
    first_try = and_(Assignment.completed_attempt_id.is_not(None), ~_earlier_try())
    return (select(key, func.count(Assignment.id), func.count(Assignment.completed_at),
                   func.sum(case((and_(Assignment.completed_at.is_(None), Assignment.due_on < today), 1), else_=0)),
                   func.sum(case((first_try, 1), else_=0)))
            .join(Employee, Employee.id == Assignment.employee_id).group_by(key))


def campaign_counts(today: date) -> dict[int, dict]:
    """Each campaign's counts (assigned, completed, overdue, passed at first try): one query."""
    return {campaign_id: dict(zip(SERIES, (int(v or 0) for v in values), strict=True))
            for campaign_id, *values in db.session.execute(
                _grouped_counts(Assignment.campaign_id, today).where(Assignment.campaign_id.is_not(None)))}


def department_tree_counts(today: date, campaign_id: int | None = None) -> list[dict]:
    """Every department in tree order with its assignments' counts — its own and, rolled up, with all its
    sub-departments — across all campaigns and manager assignments (or one campaign): two queries."""
    query = _grouped_counts(Employee.department_id, today)
    if campaign_id is not None:
        query = query.where(Assignment.campaign_id == campaign_id)
    own = {department_id: dict(zip(SERIES, (int(v or 0) for v in values), strict=True))
           for department_id, *values in db.session.execute(query)}
    nodes = departments.tree_order()
    below = departments.descendants(nodes)
    zero = dict.fromkeys(SERIES, 0)
    result = []
    for node in nodes:
        total = {key: sum(own.get(i, zero)[key] for i in below[node.department.id]) for key in SERIES}
        result.append({"id": node.department.id, "department": node.department.name, "depth": node.depth,
                       "parent": node.parent_name, "own": own.get(node.department.id, zero), **total,
                       "completion": round(100 * total["completed"] / total["assigned"]) if total["assigned"]
                       else None})
    return result


def bar_chart_svg(groups: list[dict], labels: dict[str, str], title: str) -> str:
    """A grouped horizontal bar chart (assigned, completed, overdue, first try) per department, as SVG.

    Text is plain SVG <text> in the page's fonts, so Chinese labels render wherever the page does.
    """
    series = SERIES
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
        indent = "└ " if group.get("depth") else ""  # a sub-department, under its parent
        parts.append(f'<text x="{label_w - 8}" y="{y + len(series) * bar / 2 + 4}" font-size="12" '
                     f'text-anchor="end">{escape(indent + group["department"])}</text>')
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


COMPLIANCE_FIELDS = ("leave_requests", "late_leave_requests", "absent_days", "exams_passed_first_time",
                     "exams_passed_after_make_up", "refreshers", "refreshers_overdue")


def compliance(employee_id: int, year: int) -> dict:
    """One employee's yearly leave-procedure compliance record (see compliance_many)."""
    return compliance_many([employee_id], year)[employee_id]


def compliance_many(employee_ids: list[int], year: int) -> dict[int, dict]:
    """The leave-procedure compliance record of each employee for one year, for performance reviews:
    leave requested late, 旷工 days counted by the absence module, exams passed first time or after
    make-up, refreshers overdue. Five queries per slice of ids, however many people."""
    from lms.absence.models import CaseDay, Leave

    start, end = date(year, 1, 1), date(year, 12, 31)
    today = clock.today()
    records = {i: {"year": year, **dict.fromkeys(COMPLIANCE_FIELDS, 0)} for i in employee_ids}
    notice = _notice_days_by_date()
    for condition in among(CaseDay.employee_id, employee_ids):
        for employee_id, days in db.session.execute(
                select(CaseDay.employee_id, func.count()).where(condition, CaseDay.status == "counted",
                                                                CaseDay.day.between(start, end))
                .group_by(CaseDay.employee_id)):
            records[employee_id]["absent_days"] = days
    for condition in among(Leave.employee_id, employee_ids):
        for employee_id, starts_on, created_at in db.session.execute(
                select(Leave.employee_id, Leave.starts_on, Leave.created_at).where(
                    condition, Leave.starts_on.between(start, end))):
            record = records[employee_id]
            record["leave_requests"] += 1
            if (starts_on - clock.local(created_at).date()).days < notice(starts_on):
                record["late_leave_requests"] += 1
    # Attempts of one exam form a cycle that a pass ends (numbering runs on across cycles).
    tries: dict[tuple[int, str], int] = {}
    for condition in among(ExamAttempt.employee_id, employee_ids):
        for employee_id, slug, passed, submitted_at in db.session.execute(
                select(ExamAttempt.employee_id, ExamAttempt.exam_slug, ExamAttempt.is_passed, ExamAttempt.submitted_at)
                .where(condition, ExamAttempt.submitted_at.is_not(None))
                .order_by(ExamAttempt.submitted_at, ExamAttempt.id)):
            key = (employee_id, slug)
            tries[key] = tries.get(key, 0) + 1
            if passed:
                if clock.local(submitted_at).year == year:
                    field = "exams_passed_first_time" if tries[key] == 1 else "exams_passed_after_make_up"
                    records[employee_id][field] += 1
                tries[key] = 0
    for condition in among(Assignment.employee_id, employee_ids):
        for assignment in db.session.scalars(select(Assignment).where(
                condition, Assignment.due_on.between(start, end))):
            record = records[assignment.employee_id]
            record["refreshers"] += 1
            done = assignment.completed_at
            if (done is None and assignment.due_on < today) or (done is not None
                                                                 and clock.local(done).date() > assignment.due_on):
                record["refreshers_overdue"] += 1
    return records


def with_finding(year: int):
    """A condition on Employee: a finding in `year` on their compliance record — a leave requested late, a
    counted absence day or an overdue refresher — as compliance_many counts them, in SQL (EXISTS), so a
    page can filter and count people without computing everyone's record."""
    from lms.absence.models import CaseDay, Leave

    start, end = date(year, 1, 1), date(year, 12, 31)
    # Late: the request's local date + the notice days in force on the first day is after that day.
    late = or_(*[and_(Leave.starts_on >= since if since else true(), Leave.starts_on < until if until else true(),
                      local_day(Leave.created_at, days) > Leave.starts_on)
                 for since, until, days in _notice_periods()])
    overdue = or_(and_(Assignment.completed_at.is_(None), Assignment.due_on < clock.today()),
                  local_day(Assignment.completed_at) > Assignment.due_on)
    return or_(
        exists().where(CaseDay.employee_id == Employee.id, CaseDay.status == "counted",
                       CaseDay.day.between(start, end)),
        exists().where(Leave.employee_id == Employee.id, Leave.starts_on.between(start, end), late),
        exists().where(Assignment.employee_id == Employee.id, Assignment.due_on.between(start, end), overdue))


def _notice_periods() -> list[tuple[date | None, date | None, int]]:
    """notice_days of the `leave.notice` clause as (from, until, days), `until` excluded; the earliest rule set
    also holds before it (from None), the last one ever after (until None): one query."""
    from lms.courses.models import RuleClause, RuleSet

    versions = list(db.session.execute(select(RuleSet.effective_from, RuleClause.values).join(RuleClause.rule_set)
                                       .where(RuleClause.clause_id == "leave.notice")
                                       .order_by(RuleSet.effective_from)))
    if not versions:
        return [(None, None, 0)]
    starts = [None, *[effective for effective, _v in versions[1:]]]
    ends = [effective for effective, _v in versions[1:]] + [None]
    return [(start, end, int((values or {}).get("notice_days", 0)))
            for start, end, (_e, values) in zip(starts, ends, versions, strict=True)]


def _notice_days_by_date():
    """notice_days of the `leave.notice` clause in force on a date (the earliest rule set before any)."""
    periods = _notice_periods()

    def notice_days(day: date) -> int:
        return next(days for start, end, days in periods
                    if (start is None or start <= day) and (end is None or day < end))

    return notice_days
