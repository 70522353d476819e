"""Validation people expect: an impossible date says so (not "this field is required"), a coaching date
lies between the failed attempt and today, a due date is not in the past, a long input is refused with
its limit and never echoed in full, and the form comes back with what was typed."""

from __future__ import annotations

import html
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from lms import clock
from lms.courses.models import Enrollment
from lms.exams import services
from lms.exams.models import CoachingTask
from lms.extensions import db
from tests.exams.test_take_exam import start


@pytest.fixture
def failed(app, content, login_as, org):
    content.sync()
    learner = login_as("learner")
    with clock.frozen(clock.now() - timedelta(days=2)):
        attempt = start(learner)
        learner.post(f"/exams/attempts/{attempt.id}/submit")
    return db.session.scalars(select(CoachingTask)).one()


def coach(client, task, coached_on, notes="讲解了请假流程和旷工认定"):
    response = client.post("/exams/coaching", data={"task_id": task.id, "coached_on": coached_on, "notes": notes})
    return response, html.unescape(response.get_data(as_text=True))


def test_a_coaching_date_is_a_real_day_between_the_failed_attempt_and_today(login_as, failed):
    manager = login_as("manager")
    response, page = coach(manager, failed, "2026-02-30")
    assert response.status_code == 422 and "Not a valid date" in page and "This field is required" not in page
    assert "讲解了请假流程和旷工认定" in page and 'value="2026-02-30"' in page  # what was typed comes back
    response, page = coach(manager, failed, (clock.today() + timedelta(days=1)).isoformat())
    assert response.status_code == 422 and "cannot be in the future" in page
    failed_on = clock.local(failed.attempt.submitted_at).date()
    response, page = coach(manager, failed, (failed_on - timedelta(days=1)).isoformat())
    assert response.status_code == 422 and "before the failed attempt" in page and failed_on.isoformat() in page
    response, page = coach(manager, failed, "1850-01-01")
    assert response.status_code == 422 and "1900–2100" in page
    response, page = coach(manager, failed, clock.today().isoformat(), notes="很" * 4001)
    assert response.status_code == 422 and "4000 characters" in page
    db.session.expire_all()
    assert failed.completed_at is None  # nothing half-written
    response, _page = coach(manager, failed, failed_on.isoformat())
    assert response.status_code == 302
    assert services.coaching_blocks(failed.employee_id, "onboarding") is None


def test_a_due_date_in_the_past_and_long_numbers_are_refused_on_the_enrol_page(login_as, app, content, org):
    content.sync()
    hr = login_as("hr")
    past = (clock.today() - timedelta(days=1)).isoformat()
    response = hr.post("/courses/handbook/enrol", data={"employee_numbers": org.learner.employee_no, "due_on": past})
    page = html.unescape(response.get_data(as_text=True))
    assert response.status_code == 422 and "The due date is in the past." in page
    assert db.session.scalars(select(Enrollment)).all() == []
    impossible = hr.post("/courses/handbook/enrol", data={"employee_numbers": org.learner.employee_no,
                                                          "due_on": "2026-02-30"})
    assert impossible.status_code == 422 and "Not a valid date" in impossible.get_data(as_text=True)
    huge = "9" * 10_000
    response = hr.post("/courses/handbook/enrol", data={"employee_numbers": huge, "due_on": ""})
    page = response.get_data(as_text=True)
    errors = page[page.index('class="error"'):]
    assert response.status_code == 422 and "at most 32 characters" in errors and "9" * 40 not in errors
    many = " ".join(f"X{n:03d}" for n in range(30))
    errors = hr.post("/courses/handbook/enrol", data={"employee_numbers": many}).get_data(as_text=True)
    assert "X009" in errors and "X029" not in errors.split('class="error"', 1)[1] and "and 20 more" in errors
    ok = hr.post("/courses/handbook/enrol", data={"employee_numbers": org.learner.employee_no,
                                                  "due_on": (clock.today() + timedelta(days=7)).isoformat()})
    assert ok.status_code == 302
    assert db.session.scalars(select(Enrollment.due_on)).one() == clock.today() + timedelta(days=7)


def test_an_impossible_leave_date_is_not_a_missing_one(login_as, app, org):
    response = login_as("learner").post("/requests/leave", data={
        "kind": "leave", "type": "personal", "start": "2026-02-30", "end": "2026-03-02", "reason": "家中有事"})
    page = response.get_data(as_text=True)
    assert response.status_code in (200, 422) and "Not a valid date" in page and "家中有事" in page
    assert date(2026, 3, 2).isoformat() in page
