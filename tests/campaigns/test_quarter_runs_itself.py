"""The tick across 2026 with a simulated clock: the shipped template launches on each quarter's
first working day, each reminder and escalation goes out exactly once on a working day at 09:30,
and passing the exam stops whatever is still pending."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from lms import clock
from lms.absence import calendar
from lms.campaigns.models import Assignment, Campaign, Reminder
from lms.courses.services import sync_content
from lms.exams import services as exams
from lms.extensions import db
from lms.jobs import run_tick
from lms.notify.models import Message

# The State Council's 2026 notice, written out here rather than read from the calendar module:
# holidays, and the weekend days worked instead (调休).
HOLIDAYS_2026 = [(date(2026, 1, 1), date(2026, 1, 3)), (date(2026, 2, 15), date(2026, 2, 23)),
                 (date(2026, 4, 4), date(2026, 4, 6)), (date(2026, 5, 1), date(2026, 5, 5)),
                 (date(2026, 6, 19), date(2026, 6, 21)), (date(2026, 9, 25), date(2026, 9, 27)),
                 (date(2026, 10, 1), date(2026, 10, 7))]
WORKED_WEEKENDS_2026 = [date(2026, 1, 4), date(2026, 2, 14), date(2026, 2, 28), date(2026, 5, 9),
                        date(2026, 9, 20), date(2026, 10, 10)]

# Launch on the first working day of the quarter; due 30 days later, moved to a working day.
LAUNCHES = {"2026Q1": date(2026, 1, 4), "2026Q2": date(2026, 4, 1), "2026Q3": date(2026, 7, 1),
            "2026Q4": date(2026, 10, 8)}
DUE = {"2026Q1": date(2026, 2, 3), "2026Q2": date(2026, 5, 6), "2026Q3": date(2026, 7, 31),
       "2026Q4": date(2026, 11, 9)}
# Per quarter: 3 days before (moved to a working day), on the due date, the manager the next working
# day, HR the first working day after 5 days' grace. In Q2, 3 days before the due date (5.3) lies in the
# Labour Day holiday and moves to 5.6, the due date itself: the early reminder is skipped (one a day).
STEPS = {"2026Q1": {"before": date(2026, 2, 2), "due": date(2026, 2, 3), "manager": date(2026, 2, 4),
                    "hr": date(2026, 2, 9)},
         "2026Q2": {"before": None, "due": date(2026, 5, 6), "manager": date(2026, 5, 7),
                    "hr": date(2026, 5, 12)},
         "2026Q3": {"before": date(2026, 7, 28), "due": date(2026, 7, 31), "manager": date(2026, 8, 3),
                    "hr": date(2026, 8, 6)},
         "2026Q4": {"before": date(2026, 11, 6), "due": date(2026, 11, 9), "manager": date(2026, 11, 10),
                    "hr": date(2026, 11, 16)}}


def is_law_workday(day: date) -> bool:
    if any(start <= day <= end for start, end in HOLIDAYS_2026):
        return False
    return day.weekday() < 5 or day in WORKED_WEEKENDS_2026


def right_answers(item: dict) -> dict[str, list[str]]:
    units = [(f"{item['n']}.{p['id']}", p) for p in item["parts"]] if item["type"] == "scenario" \
        else [(str(item["n"]), item)]
    return {key: ([str(u["answer"]).lower()] if u["type"] == "truefalse"
                  else [o["key"] for o in u["options"] if o["correct"]]) for key, u in units}


def pass_refresher(employee_id: int) -> None:
    attempt = exams.start_attempt(employee_id, "quarterly-refresher")
    choices = {}
    for item in attempt.paper:
        choices.update(right_answers(item))
    assert exams.submit(attempt, choices).is_passed


@pytest.fixture
def company(app, make_employee, make_user):
    sync_content()
    boss = make_employee("周经理", job_family="management", department="总经理办公室", hire_date=date(2015, 1, 1),
                         status="active")
    hr = make_employee("李娜", job_family="office", department="人力资源部", hire_date=date(2016, 1, 1),
                       status="active")
    make_user("hr", "hr", hr)

    class Company:
        seller = make_employee("销售甲", manager=boss, job_family="sales", hire_date=date(2019, 5, 1), status="active")
        driver = make_employee("司机乙", manager=boss, job_family="logistics", department="物流部",
                               hire_date=date(2018, 5, 1), status="active")
        newbie = make_employee("新人丙", manager=boss, job_family="office", department="行政部",
                               hire_date=date(2025, 12, 1), status="active")
    Company.boss, Company.hr = boss, hr
    return Company


def test_the_calendar_in_the_repo_agrees_with_the_2026_notice(app):
    days = calendar.classify(date(2026, 1, 1) + timedelta(days=n) for n in range(365))
    assert [d for d, info in sorted(days.items()) if info.is_workday != is_law_workday(d)] == []


def test_the_tick_runs_the_refresher_quarters_of_2026(company):
    day = date(2026, 1, 1)
    while day <= date(2026, 12, 31):
        for at in (time(8, 0), time(9, 30), time(15, 0)):
            moment = clock.as_utc(datetime.combine(day, at))
            run_tick(moment.isoformat())
            with clock.frozen(moment):
                period = next((p for p, launch in LAUNCHES.items() if launch == day), None)
                if period and at == time(15, 0):
                    pass_refresher(company.seller.id)  # the seller passes on launch day: never reminded
                if day == STEPS["2026Q1"]["manager"] + timedelta(days=1) and at == time(15, 0):
                    pass_refresher(company.newbie.id)  # passes after the manager was told: HR never is
        day += timedelta(days=1)

    campaigns = list(db.session.scalars(select(Campaign).where(Campaign.template_slug == "quarterly-refresher")
                                        .order_by(Campaign.launch_on)))
    assert [(c.period, c.launch_on, c.due_on) for c in campaigns] == [(p, LAUNCHES[p], DUE[p]) for p in LAUNCHES]
    annual = db.session.scalars(select(Campaign).where(Campaign.template_slug == "annual-assessment")).one()
    assert (annual.kind, annual.period, annual.launch_on, annual.due_on) == (
        "annual", "2026", date(2026, 1, 4), date(2026, 3, 5))  # the year's first working day + 60 days
    for campaign in campaigns:  # launched by the tick on that very day, once
        assert clock.local(campaign.launched_at).date() == campaign.launch_on
        assert campaign.state == "running" and campaign.template_slug == "quarterly-refresher"

    assignments = {(a.campaign.period, a.employee_id): a for a in db.session.scalars(select(Assignment))
                   if a.campaign.kind == "refresher"}
    courses = {a.employee_id: a.course_slug for a in assignments.values()}
    assert courses == {company.seller.id: "scenario-urgent-absence", company.driver.id: "case-dismissal-without-leave",
                       company.newbie.id: "employee-handbook"}  # sales, logistics, under one year
    assert len(assignments) == 12  # three people, four cycles, each its own row

    sent = list(db.session.scalars(select(Reminder)))
    for reminder in sent:
        local = clock.local(reminder.sent_at)
        assert local.time() == time(9, 30) and is_law_workday(local.date()), reminder.sent_at
    by_key = {}
    for reminder in sent:
        assignment = db.session.get(Assignment, reminder.assignment_id)
        key = (assignment.campaign.period, assignment.employee_id, reminder.step)
        by_key.setdefault(key, []).append((clock.local(reminder.sent_at).date(), reminder.recipient_role,
                                           reminder.recipient_id))
    for period, steps in STEPS.items():
        before = [(steps["before"], "employee", company.driver.id)] if steps["before"] else []
        assert by_key.get((period, company.driver.id, "before"), []) == before
        assert by_key[(period, company.driver.id, "due")] == [(steps["due"], "employee", company.driver.id)]
        assert by_key[(period, company.driver.id, "manager")] == [(steps["manager"], "manager", company.boss.id)]
        assert by_key[(period, company.driver.id, "hr")] == [(steps["hr"], "hr", company.hr.id)]
        assert not [k for k in by_key if k[:2] == (period, company.seller.id)]  # passed: nothing pending
    newbie_q1 = sorted(step for (period, who, step) in by_key if (period, who) == ("2026Q1", company.newbie.id))
    assert newbie_q1 == ["before", "due", "manager"]  # passed before HR's turn
    # exactly once also in the inbox: one message per step key and recipient
    keys = [(m.step_key, m.recipient_id) for m in db.session.scalars(
        select(Message).where(Message.step_key.like("refresher:%")))]
    assert len(keys) == len(set(keys)) == len(sent)
    # one reminder a day per person: never two messages to one recipient about one assignment on one day
    days = [(r.assignment_id, r.recipient_id, clock.local(r.sent_at).date()) for r in sent]
    assert len(days) == len(set(days))
    # history: the seller's four passed cycles are four completed assignments, each with its own attempt
    seller = [a for (period, who), a in assignments.items() if who == company.seller.id]
    assert all(a.completed_at is not None for a in seller)
    assert len({a.completed_attempt_id for a in seller}) == 4
