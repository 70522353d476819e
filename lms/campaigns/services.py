"""Campaigns: creating, matching target rules, preview, launch, late joiners, manager assignments.

Reminders live in reminders.py, templates and the quarter in templates.py, re-testing in retest.py,
dashboards and the compliance record in reports.py.
"""

from __future__ import annotations

import hashlib
import json
from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Date, and_, case, func, literal, null, select, true, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from lms import clock, evidence
from lms.bulk import insert_ignoring_conflicts
from lms.campaigns.models import CAMPAIGN_KINDS, Assignment, Campaign, CampaignRule
from lms.campaigns.reminders import first_reminder_day
from lms.courses.models import Course, Enrollment
from lms.exams.models import ExamVersion
from lms.extensions import db
from lms.people.departments import subtree_of_name
from lms.people.models import JOB_FAMILIES, Department, Employee
from lms.sqltypes import UTCDateTime

DEFAULT_WINDOW_DAYS = 30
# Never targeted nor reminded: a termination confirmed (its notice not served yet) or done.
LEAVING = ("termination_pending", "terminated")
RULE_FIELDS = ("job_family", "department", "position", "tenure_months_min", "tenure_months_max")


class CampaignError(ValueError):
    """A request HR or a manager must correct: `errors` is [(field, message)]."""

    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__("; ".join(f"{f}: {m}" for f, m in errors))
        self.errors = errors


class CampaignStateError(RuntimeError):
    """The campaign is not in a state that allows this (launching twice)."""


# ---------------------------------------------------------------- target rules


def tenure_months(hire_date: date, on: date) -> int:
    """Full months from hire to `on`: hired 2025-10-08 → 12 on 2026-10-08, 11 on 2026-10-07."""
    months = (on.year - hire_date.year) * 12 + on.month - hire_date.month
    return months - 1 if on.day < hire_date.day else months


def months_before(day: date, months: int) -> date:
    """The same day `months` earlier, clamped to that month's end (2026-03-31 → 2026-02-28)."""
    total = day.year * 12 + day.month - 1 - months
    year, month = divmod(total, 12)
    return date(year, month + 1, min(day.day, monthrange(year, month + 1)[1]))


def rule_condition(rule: CampaignRule, on: date):
    """The rule as one SQL condition over the employee (tenure as hire-date bounds:
    at least m full months on `on` ⇔ hired on or before `on` less m months)."""
    conditions = [true()]
    if rule.job_family:
        conditions.append(Employee.job_family == rule.job_family)
    if rule.department:  # the department and its sub-departments at any depth
        conditions.append(Employee.department_id.in_(subtree_of_name(rule.department)))
    if rule.job_position:
        conditions.append(Employee.position == rule.job_position)
    if rule.tenure_months_min is not None:
        conditions.append(Employee.hire_date <= months_before(on, rule.tenure_months_min))
    if rule.tenure_months_max is not None:
        conditions.append(Employee.hire_date > months_before(on, rule.tenure_months_max + 1))
    return and_(*conditions)


def first_rule(campaign: Campaign, on: date):
    """The position of each employee's first matching rule (HR's order), NULL when none matches."""
    return case(*[(rule_condition(rule, on), rule.position) for rule in campaign.rules], else_=null())


def _targets(campaign: Campaign, on: date):
    """Everyone who may be targeted (never someone leaving or gone) with their first rule: a subquery."""
    return (select(Employee.id.label("employee_id"), Employee.employee_no, Employee.name,
                   first_rule(campaign, on).label("rule"))
            .where(Employee.status.not_in(LEAVING)))


@dataclass
class Match:
    """Who gets what: (employee_id, employee_no, name, rule) in employee order, and who matches none."""

    assigned: list[tuple[int, str, str, CampaignRule]] = field(default_factory=list)
    unmatched: list[tuple[int, str, str]] = field(default_factory=list)

    def counts(self) -> dict[int, int]:
        counts: dict[int, int] = {}
        for *_person, rule in self.assigned:
            counts[rule.position] = counts.get(rule.position, 0) + 1
        return counts


def match(campaign: Campaign, on: date | None = None, *, unassigned_only: bool = False) -> Match:
    """Each person's first matching rule on `on` (default the launch date): one query."""
    on = on or campaign.launch_on
    rules = {rule.position: rule for rule in campaign.rules}
    query = _targets(campaign, on)
    if unassigned_only:
        query = query.where(Employee.id.not_in(select(Assignment.employee_id).where(
            Assignment.campaign_id == campaign.id)))
    result = Match()
    for employee_id, number, name, position in db.session.execute(query.order_by(Employee.employee_no)):
        if position is None:
            result.unmatched.append((employee_id, number, name))
        else:
            result.assigned.append((employee_id, number, name, rules[position]))
    return result


def preview(campaign: Campaign) -> dict:
    """The preview HR sees before launching: assignments, counts per rule, who matches none."""
    found = match(campaign)
    return {
        "assignments": [{"employee_no": no, "name": name, "rule": r.position, "course": r.course_slug,
                         "exam": r.exam_slug} for _id, no, name, r in found.assigned],
        "counts": found.counts(),
        "unmatched": [{"employee_no": no, "name": name} for _id, no, name in found.unmatched],
    }


# ---------------------------------------------------------------- creating


def _date(value, field_name: str, errors: list) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except (TypeError, ValueError):
        errors.append((field_name, str(_l("Not a date; use YYYY-MM-DD."))))
        return None


def _int_or_none(value, field_name: str, errors: list) -> int | None:
    if value in (None, ""):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        errors.append((field_name, str(_l("Not a whole number."))))
        return None
    if number < 0 or number > 1200:
        errors.append((field_name, str(_l("Must be between 0 and 1200 months."))))
        return None
    return number


def check_course_and_exam(course: str | None, exam: str | None, where: str, errors: list) -> None:
    """A course and an exam must exist (published: synced from content/)."""
    if not course or db.session.scalar(select(Course.id).where(Course.slug == course)) is None:
        errors.append((f"{where}course", str(_l("No such course: %(slug)s", slug=course or "—"))))
    if not exam or db.session.scalar(select(ExamVersion.id).where(ExamVersion.slug == exam).limit(1)) is None:
        errors.append((f"{where}exam", str(_l("No such exam: %(slug)s", slug=exam or "—"))))


def build_rules(raw_rules: list[dict], errors: list) -> list[CampaignRule]:
    rules = []
    departments = set(db.session.scalars(select(Department.name)))
    if not raw_rules:
        errors.append(("rules", str(_l("A campaign needs at least one rule."))))
    for n, raw in enumerate(raw_rules or [], start=1):
        where = f"rules[{n}]."
        family = raw.get("job_family") or None
        if family and family not in JOB_FAMILIES:
            errors.append((f"{where}job_family", str(_l("Unknown job family: %(value)s", value=family))))
        department = raw.get("department") or None
        if department and department not in departments:
            errors.append((f"{where}department", str(_l("No such department: %(value)s", value=department))))
        low = _int_or_none(raw.get("tenure_months_min"), f"{where}tenure_months_min", errors)
        high = _int_or_none(raw.get("tenure_months_max"), f"{where}tenure_months_max", errors)
        if low is not None and high is not None and low > high:
            errors.append((f"{where}tenure_months_max", str(_l("The upper bound is below the lower bound."))))
        check_course_and_exam(raw.get("course"), raw.get("exam"), where, errors)
        rules.append(CampaignRule(position=n, job_family=family, department=department,
                                  job_position=raw.get("position") or None, tenure_months_min=low,
                                  tenure_months_max=high, course_slug=raw.get("course") or "",
                                  exam_slug=raw.get("exam") or ""))
    return rules


def create_campaign(values: dict, actor=None, *, template_slug: str | None = None, period: str | None = None,
                    commit: bool = True) -> Campaign:
    """A draft campaign from `values` (name, kind, launch_on, due_on, rules, and optional settings);
    raises CampaignError listing every problem."""
    errors: list[tuple[str, str]] = []
    name = (values.get("name") or "").strip()
    if not name:
        errors.append(("name", str(_l("A name is required."))))
    kind = values.get("kind") or "refresher"
    if kind not in CAMPAIGN_KINDS:
        errors.append(("kind", str(_l("Kind must be refresher or annual."))))
    launch_on = _date(values.get("launch_on"), "launch_on", errors)
    due_on = _date(values.get("due_on"), "due_on", errors)
    if launch_on and due_on and due_on < launch_on:
        errors.append(("due_on", str(_l("The due date is before the launch date."))))
    if launch_on and not date(1900, 1, 1) <= launch_on <= date(2100, 12, 31):
        errors.append(("launch_on", str(_l("The date must lie within 1900–2100."))))
    rules = build_rules(values.get("rules") or [], errors)
    settings = {}
    for key, default in (("min_window_days", DEFAULT_WINDOW_DAYS), ("remind_days_before", 3), ("grace_days", 5),
                         ("retest_extra", 1)):
        number = _int_or_none(values.get(key, default), key, errors)
        settings[key] = default if number is None else number
    if errors:
        raise CampaignError(errors)
    campaign = Campaign(name=name, kind=kind, launch_on=launch_on, due_on=due_on, template_slug=template_slug,
                        period=period, created_by=evidence.actor_of(actor), created_at=clock.now(), state="draft",
                        **settings)
    campaign.rules = rules
    db.session.add(campaign)
    db.session.flush()
    evidence.record("campaigns.created", evidence.subject_of("campaign", campaign.id), {
        "name": name, "kind": kind, "launch_on": launch_on, "due_on": due_on, "template": template_slug,
        "period": period, "rules": [rule_payload(r) for r in rules], **settings}, actor=actor)
    if commit:
        db.session.commit()
    return campaign


def rule_payload(rule: CampaignRule) -> dict:
    return {"rule": rule.position, "job_family": rule.job_family, "department": rule.department,
            "position": rule.job_position, "tenure_months_min": rule.tenure_months_min,
            "tenure_months_max": rule.tenure_months_max, "course": rule.course_slug, "exam": rule.exam_slug}


# ---------------------------------------------------------------- launching


def assignments_hash(rows: list[tuple[str, int | None, str, str, date]]) -> str:
    """SHA-256 of the assignment list (employee_no, rule, course, exam, due date), in employee order."""
    canonical = json.dumps([[no, rule, course, exam, due.isoformat()] for no, rule, course, exam, due in sorted(rows)],
                           ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


def _insert_assignments(campaign: Campaign | None, people_specs: list[tuple[int, dict]], *, source: str,
                        assigned_by: str, now: datetime) -> list[tuple[int, int]]:
    """Insert assignments for (employee id, spec) pairs (a person already in the campaign is skipped) and
    enrol each in the course if not enrolled; returns (assignment id, employee id) of the new ones."""
    rows = [{"campaign_id": campaign.id if campaign else None, "rule_position": spec.get("rule"),
             "employee_id": employee_id, "source": source, "course_slug": spec["course"], "exam_slug": spec["exam"],
             "due_on": spec["due_on"], "assigned_at": now, "assigned_by": assigned_by,
             "remind_days_before": spec.get("remind_days_before", 3), "grace_days": spec.get("grace_days", 5),
             "retest_extra": spec.get("retest_extra", 1),
             "next_reminder_on": first_reminder_day(spec["due_on"], spec.get("remind_days_before", 3))}
            for employee_id, spec in people_specs]
    table = Assignment.__table__
    if campaign is not None:
        inserted = insert_ignoring_conflicts(table, rows, [table.c.id, table.c.employee_id],
                                             index_elements=["campaign_id", "employee_id"])
    else:  # a manager's assignments conflict with nothing: each is its own cycle
        inserted = db.session.execute(table.insert().returning(table.c.id, table.c.employee_id), rows).all()
    new_ids = {employee_id for _id, employee_id in inserted}
    courses = dict(db.session.execute(select(Course.slug, Course.id).where(
        Course.slug.in_({spec["course"] for _e, spec in people_specs}))).all())
    enrolments = [{"employee_id": employee_id, "course_id": courses[spec["course"]], "source": source,
                   "assigned_by": assigned_by, "due_on": spec["due_on"], "enrolled_at": now}
                  for employee_id, spec in people_specs if employee_id in new_ids and spec["course"] in courses]
    # A course someone is already enrolled in stays as it is: past enrolments are history.
    insert_ignoring_conflicts(Enrollment.__table__, enrolments, [Enrollment.__table__.c.id],
                              index_elements=["employee_id", "course_id"])
    return [(assignment_id, employee_id) for assignment_id, employee_id in inserted]


def _spec(campaign: Campaign, rule: CampaignRule, due_on: date) -> dict:
    return {"rule": rule.position, "course": rule.course_slug, "exam": rule.exam_slug, "due_on": due_on,
            "remind_days_before": campaign.remind_days_before, "grace_days": campaign.grace_days,
            "retest_extra": campaign.retest_extra}


def _dialect_insert(table):
    return (pg_insert if db.engine.dialect.name == "postgresql" else sqlite_insert)(table)


def launch(campaign_id: int, actor=None) -> Campaign:
    """Enrol everyone the rules pick, with the campaign's due date: one evidence event naming the
    whole assignment list's hash. A fixed number of statements, whatever the headcount: the rules
    become one INSERT … SELECT, the enrolments another."""
    campaign = db.session.get(Campaign, campaign_id)
    claimed = db.session.execute(update(Campaign).where(Campaign.id == campaign_id, Campaign.state == "draft")
                                 .values(state="running").execution_options(synchronize_session=False)).rowcount
    if not claimed:
        db.session.rollback()
        raise CampaignStateError("this campaign has been launched already")
    now = clock.now()
    actor_ref = evidence.actor_of(actor)
    rules = list(campaign.rules)
    targets = _targets(campaign, campaign.launch_on).subquery()
    by_rule = {"course": case(*[(targets.c.rule == r.position, r.course_slug) for r in rules]),
               "exam": case(*[(targets.c.rule == r.position, r.exam_slug) for r in rules])}
    table = Assignment.__table__
    names = ["campaign_id", "rule_position", "employee_id", "source", "course_slug", "exam_slug", "due_on",
             "assigned_at", "assigned_by", "remind_days_before", "grace_days", "retest_extra", "next_reminder_on"]
    chosen = select(literal(campaign.id), targets.c.rule, targets.c.employee_id, literal("campaign"),
                    by_rule["course"], by_rule["exam"], literal(campaign.due_on, Date), literal(now, UTCDateTime),
                    literal(actor_ref), literal(campaign.remind_days_before), literal(campaign.grace_days),
                    literal(campaign.retest_extra),
                    literal(first_reminder_day(campaign.due_on, campaign.remind_days_before), Date)
                    ).where(targets.c.rule.is_not(None))
    # A plain INSERT: the state claim above makes this the campaign's only launch, so nothing conflicts.
    db.session.execute(table.insert().from_select(names, chosen))
    enrolled = (select(Assignment.employee_id, Course.id, literal("campaign"), literal(actor_ref), Assignment.due_on,
                       literal(now, UTCDateTime))
                .join(Course, Course.slug == Assignment.course_slug).where(Assignment.campaign_id == campaign.id))
    # A course someone is already enrolled in stays as it is: past enrolments are history.
    db.session.execute(_dialect_insert(Enrollment.__table__).from_select(
        ["employee_id", "course_id", "source", "assigned_by", "due_on", "enrolled_at"], enrolled)
        .on_conflict_do_nothing(index_elements=["employee_id", "course_id"]))
    listed = db.session.execute(
        select(Employee.employee_no, Assignment.rule_position, Assignment.course_slug, Assignment.exam_slug,
               Assignment.due_on).join(Employee, Employee.id == Assignment.employee_id)
        .where(Assignment.campaign_id == campaign.id)).all()
    counts: dict[str, int] = {}
    for row in listed:
        counts[str(row.rule_position)] = counts.get(str(row.rule_position), 0) + 1
    targeted = db.session.scalar(select(func.count()).select_from(
        select(Employee.id).where(Employee.status.not_in(LEAVING)).subquery()))
    digest = assignments_hash([tuple(row) for row in listed])
    event = evidence.record("campaigns.launched", evidence.subject_of("campaign", campaign.id), {
        "name": campaign.name, "kind": campaign.kind, "launch_on": campaign.launch_on, "due_on": campaign.due_on,
        "rules": [rule_payload(r) for r in rules], "counts": counts, "assigned": len(listed),
        "unmatched": targeted - len(listed), "assignments_sha256": digest}, actor=actor)
    campaign.state, campaign.launched_at, campaign.launched_by = "running", now, actor_ref
    campaign.assignments_sha256, campaign.evidence_seq = digest, event.seq
    db.session.commit()
    return campaign


def enrol_late_joiners(today: date) -> int:
    """People hired or moved into a running campaign's target group since it launched: enrolled with
    the campaign's due date or today + its minimum window, whichever is later (one event each)."""
    campaigns = list(db.session.scalars(select(Campaign).where(Campaign.state == "running",
                                                               Campaign.launch_on <= today,
                                                               Campaign.due_on >= today)))
    total = 0
    now = clock.now()
    for campaign in campaigns:
        found = match(campaign, on=today, unassigned_only=True)
        if not found.assigned:
            continue
        due_on = max(campaign.due_on, today + timedelta(days=campaign.min_window_days))
        new = _insert_assignments(campaign, [(employee_id, _spec(campaign, r, due_on))
                                             for employee_id, _no, _name, r in found.assigned],
                                  source="campaign", assigned_by="system", now=now)
        rule_of = {employee_id: r.position for employee_id, _no, _name, r in found.assigned}
        evidence.record_many(("campaigns.assigned", evidence.subject_of("employee", employee_id), {
            "campaign_id": campaign.id, "assignment_id": assignment_id, "rule": rule_of[employee_id],
            "due_on": due_on, "late_joiner": True}) for assignment_id, employee_id in new)
        db.session.commit()
        total += len(new)
    return total


# ---------------------------------------------------------------- managers and HR assign


def assign(employee_ids: list[int], course: str, exam: str, due_on, actor, *, source: str) -> list[int]:
    """A manager's (or HR's) refresher for these people, with the same reminders as a campaign.
    The caller has checked that `actor` may assign to each of them. Returns the assignment ids."""
    errors: list[tuple[str, str]] = []
    due = _date(due_on, "due_on", errors)
    if due is not None and due < clock.today():
        errors.append(("due_on", str(_l("The due date is in the past."))))
    if due is not None and due > date(2100, 12, 31):
        errors.append(("due_on", str(_l("The date must lie within 1900–2100."))))
    check_course_and_exam(course, exam, "", errors)
    people = list(db.session.scalars(select(Employee.id).where(Employee.id.in_(employee_ids),
                                                               Employee.status.not_in(LEAVING))))
    if not people:
        errors.append(("employees", str(_l("Nobody to assign to."))))
    if errors:
        raise CampaignError(errors)
    spec = {"course": course, "exam": exam, "due_on": due}
    new = _insert_assignments(None, [(employee_id, spec) for employee_id in people], source=source,
                              assigned_by=evidence.actor_of(actor), now=clock.now())
    evidence.record_many(("campaigns.assigned", evidence.subject_of("employee", employee_id), {
        "assignment_id": assignment_id, "source": source, "course": course, "exam": exam, "due_on": due})
        for assignment_id, employee_id in new)
    db.session.commit()
    return [assignment_id for assignment_id, _employee_id in new]


# ---------------------------------------------------------------- completion


def complete_by_attempt(attempt_id: int) -> int:
    """A passed attempt completes its person's open assignments of that exam given before it started."""
    from lms.exams.models import ExamAttempt

    attempt = db.session.get(ExamAttempt, attempt_id)
    if attempt is None or not attempt.is_passed:
        return 0
    open_ones = list(db.session.scalars(select(Assignment).where(
        Assignment.employee_id == attempt.employee_id, Assignment.exam_slug == attempt.exam_slug,
        Assignment.completed_at.is_(None), Assignment.assigned_at <= attempt.started_at)))
    for assignment in open_ones:
        assignment.completed_at, assignment.completed_attempt_id = attempt.submitted_at, attempt.id
        assignment.next_reminder_on = None  # nothing more is sent
    if open_ones:
        evidence.record_many(("campaigns.completed", evidence.subject_of("employee", a.employee_id), {
            "assignment_id": a.id, "campaign_id": a.campaign_id, "attempt_id": attempt.id, "due_on": a.due_on,
            "on_time": clock.local(attempt.submitted_at).date() <= a.due_on}) for a in open_ones)
        db.session.commit()
    return len(open_ones)


def open_assignment(employee_id: int, exam_slug: str) -> Assignment | None:
    """The person's newest open assignment of this exam (its cycle is the attempt's)."""
    return db.session.scalars(select(Assignment).where(
        Assignment.employee_id == employee_id, Assignment.exam_slug == exam_slug,
        Assignment.completed_at.is_(None)).order_by(Assignment.assigned_at.desc(), Assignment.id.desc())
        .limit(1)).first()


def assignments_of(employee_id: int) -> list[Assignment]:
    """Every cycle of a person's refreshers, newest first."""
    return list(db.session.scalars(select(Assignment).where(Assignment.employee_id == employee_id)
                                   .order_by(Assignment.assigned_at.desc(), Assignment.id.desc())))
