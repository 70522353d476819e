"""The manager's inbox: everything waiting for them (requests, corrections, emergency reports, coaching),
and HR's: every pending request and the emergency reports nobody followed up. A handful of queries
whatever the number of rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from flask import current_app
from sqlalchemy import or_, select
from sqlalchemy.orm import aliased, selectinload

from lms import clock
from lms.absence import workdays
from lms.absence.cases import day_end
from lms.absence.models import Leave
from lms.exams.models import CoachingTask
from lms.extensions import db
from lms.people.models import Employee, User
from lms.requests.models import AwayMark, EmergencyReport, LeaveRequest, PunchCorrection


@dataclass
class Inbox:
    requests: list[LeaveRequest] = field(default_factory=list)
    corrections: list[PunchCorrection] = field(default_factory=list)
    reports: list[EmergencyReport] = field(default_factory=list)  # the team's recent reports
    overdue_reports: list[EmergencyReport] = field(default_factory=list)  # HR's to-dos
    coaching: list[CoachingTask] = field(default_factory=list)
    escalated_ids: set[tuple[str, int]] = field(default_factory=set)  # decided as the manager's manager

    @property
    def count(self) -> int:
        return (len(self.requests) + len(self.corrections) + len(self.overdue_reports) + len(self.coaching)
                + sum(1 for r in self.reports if r.followed_up_at is None))


def _away_today(manager_ids: set[int]) -> set[int]:
    today = clock.today()
    if not manager_ids:
        return set()
    marked = db.session.scalars(select(AwayMark.employee_id).where(
        AwayMark.employee_id.in_(manager_ids), AwayMark.starts_on <= today, AwayMark.ends_on >= today))
    on_leave = db.session.scalars(select(Leave.employee_id).where(
        Leave.employee_id.in_(manager_ids), Leave.starts_on <= today, Leave.ends_on >= today))
    return set(marked) | set(on_leave)


def _window_passed(items, manager_of: dict[int, int]) -> set[int]:
    """Ids of items whose direct manager's decision window has passed (kinds for all managers at once)."""
    if not items:
        return set()
    days = current_app.config["LMS_DECISION_WORKING_DAYS"]
    first = min(clock.local(i.submitted_at).date() for i in items)
    kinds = workdays.kinds_for(set(manager_of.values()), first + timedelta(days=1), clock.today() + timedelta(days=1))
    now, passed = clock.now(), set()
    for item in items:
        manager_kinds = kinds.get(manager_of[item.employee_id], {})
        sent = clock.local(item.submitted_at).date()
        working = sorted(d for d, info in manager_kinds.items() if d > sent and info.kind == "workday")
        if len(working) >= days and now >= day_end(working[days - 1]):
            passed.add(item.id)
    return passed


def inbox_for(user: User) -> Inbox:
    """What waits for `user`: as the direct manager, as the manager's manager when escalated, as HR."""
    inbox = Inbox()
    me = user.employee_id
    if user.role == "hr":
        inbox.requests = list(db.session.scalars(select(LeaveRequest).where(LeaveRequest.state == "pending")
                                                 .options(selectinload(LeaveRequest.employee),
                                                          selectinload(LeaveRequest.attachments))
                                                 .order_by(LeaveRequest.submitted_at)))
        inbox.corrections = list(db.session.scalars(select(PunchCorrection).where(PunchCorrection.state == "pending")
                                                    .options(selectinload(PunchCorrection.employee))
                                                    .order_by(PunchCorrection.submitted_at)))
        inbox.overdue_reports = list(db.session.scalars(select(EmergencyReport).where(
            EmergencyReport.todo_at.is_not(None), EmergencyReport.todo_done_at.is_(None))
            .options(selectinload(EmergencyReport.employee)).order_by(EmergencyReport.day)))
        inbox.requests = [r for r in inbox.requests if r.employee_id != me]
        inbox.corrections = [c for c in inbox.corrections if c.employee_id != me]
        return inbox
    if me is None or user.role not in ("manager", "admin"):
        return inbox
    manager = aliased(Employee)
    team = select(Employee.id).join(manager, Employee.manager_id == manager.id).where(
        or_(Employee.manager_id == me, manager.manager_id == me))
    manager_of = dict(db.session.execute(select(Employee.id, Employee.manager_id).where(Employee.id.in_(team))).all())
    candidates_r = list(db.session.scalars(select(LeaveRequest).where(
        LeaveRequest.state == "pending", LeaveRequest.employee_id.in_(team))
        .options(selectinload(LeaveRequest.employee), selectinload(LeaveRequest.attachments))
        .order_by(LeaveRequest.submitted_at)))
    candidates_c = list(db.session.scalars(select(PunchCorrection).where(
        PunchCorrection.state == "pending", PunchCorrection.employee_id.in_(team))
        .options(selectinload(PunchCorrection.employee)).order_by(PunchCorrection.submitted_at)))
    indirect = [i for i in candidates_r + candidates_c if manager_of[i.employee_id] != me]
    away = _away_today({manager_of[i.employee_id] for i in indirect})
    passed_r = _window_passed([i for i in candidates_r if manager_of[i.employee_id] != me], manager_of)
    passed_c = _window_passed([i for i in candidates_c if manager_of[i.employee_id] != me], manager_of)
    for item in candidates_r:
        if manager_of[item.employee_id] == me:
            inbox.requests.append(item)
        elif manager_of[item.employee_id] in away or item.id in passed_r:
            inbox.requests.append(item)
            inbox.escalated_ids.add(("request", item.id))
    for item in candidates_c:
        if manager_of[item.employee_id] == me:
            inbox.corrections.append(item)
        elif manager_of[item.employee_id] in away or item.id in passed_c:
            inbox.corrections.append(item)
            inbox.escalated_ids.add(("correction", item.id))
    since: date = clock.today() - timedelta(days=7)
    inbox.reports = list(db.session.scalars(select(EmergencyReport).where(
        EmergencyReport.employee_id.in_(select(Employee.id).where(Employee.manager_id == me)),
        EmergencyReport.day >= since).options(selectinload(EmergencyReport.employee))
        .order_by(EmergencyReport.reported_at.desc())))
    inbox.coaching = list(db.session.scalars(select(CoachingTask).where(
        CoachingTask.manager_id == me, CoachingTask.completed_at.is_(None))
        .options(selectinload(CoachingTask.employee)).order_by(CoachingTask.due_at)))
    return inbox
