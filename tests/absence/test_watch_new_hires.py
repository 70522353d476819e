"""A new hire is watched from the first day they actually worked; one who never reports is 未报到 for HR."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from lms.absence.models import AbsenceCase, CaseTodo
from lms.extensions import db
from tests.absence.conftest import add_punch, everyone_present, run_ticks


def test_a_new_hire_who_never_reports_gets_a_todo_once_and_no_case(absence_setup, make_employee):
    org = absence_setup
    hire = make_employee("孙悦", manager=org.manager, hire_date=date(2026, 6, 15), status="onboarding")
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 19))
    run_ticks(datetime(2026, 6, 15, 8, 0), datetime(2026, 6, 15, 10, 0))
    not_reported = select(CaseTodo).where(CaseTodo.kind == "not_reported")  # (registration has its own to-do)
    assert db.session.scalars(not_reported).all() == []  # not due before shift start + 2 h
    run_ticks(datetime(2026, 6, 15, 11, 0), datetime(2026, 6, 18, 12, 0))
    assert db.session.scalars(select(AbsenceCase)).all() == []
    [todo] = db.session.scalars(not_reported).all()
    assert (todo.kind, todo.employee_id, todo.case_id) == ("not_reported", hire.id, None)


def test_a_new_hire_who_came_once_is_watched_from_then(absence_setup, make_employee):
    org = absence_setup
    hire = make_employee("孙悦", manager=org.manager, hire_date=date(2026, 6, 15), status="onboarding")
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 19))
    add_punch(hire, datetime(2026, 6, 15, 8, 50))
    run_ticks(datetime(2026, 6, 15, 8, 0), datetime(2026, 6, 16, 12, 0))
    case = db.session.scalars(select(AbsenceCase)).one()
    assert (case.employee_id, case.first_day) == (hire.id, date(2026, 6, 16))
    assert db.session.scalars(select(CaseTodo).where(CaseTodo.kind == "not_reported")).all() == []


def test_hr_marks_the_not_reported_todo_done_from_the_review_page(absence_setup, make_employee, login_as):
    org = absence_setup
    make_employee("孙悦", manager=org.manager, hire_date=date(2026, 6, 15), status="onboarding")
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 19))
    run_ticks(datetime(2026, 6, 15, 11, 0), datetime(2026, 6, 15, 11, 0))
    [todo] = db.session.scalars(select(CaseTodo).where(CaseTodo.kind == "not_reported")).all()
    hr = login_as("hr")
    page = hr.get("/absence/").get_data(as_text=True)
    assert "孙悦" in page and f"/absence/todos/{todo.id}" in page
    assert login_as("manager").post(f"/absence/todos/{todo.id}").status_code in (403, 404)
    import re
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    assert hr.post(f"/absence/todos/{todo.id}", data={"csrf_token": token}).status_code == 302
    db.session.refresh(todo)
    assert todo.done_at is not None
