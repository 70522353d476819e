"""A failed attempt: make-up reminder, the manager's coaching task, escalation, the onboarding gate page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from lms import clock, jobs
from lms.evidence.models import EvidenceEvent
from lms.exams import services
from lms.exams.models import CoachingTask
from lms.extensions import db
from lms.notify.models import Delivery, Message, SmsOutbox
from tests.exams.test_take_exam import start


@pytest.fixture
def exam(app, content):
    content.sync()
    return services.current_exam("onboarding")


def fail(client):
    attempt = start(client)
    client.post(f"/exams/attempts/{attempt.id}/submit")  # nothing answered: 0 points
    return attempt


def test_a_fail_reminds_the_learner_and_asks_her_manager_to_coach(login_as, exam, org):
    learner = login_as("learner")
    attempt = fail(learner)
    task = db.session.scalars(select(CoachingTask)).one()
    assert (task.employee_id, task.manager_id, task.attempt_id) == (org.learner.id, org.manager.id, attempt.id)
    inbox = {m.recipient_id: m for m in db.session.scalars(select(Message))}
    assert "Make-up" in inbox[org.learner.id].subject and "Coaching" in inbox[org.manager.id].subject
    assert db.session.scalars(select(SmsOutbox.mobile)).one() == "13812345678"
    refused = learner.post("/exams/onboarding/start", follow_redirects=True).get_data(as_text=True)
    assert "opens after your manager" in refused

    manager = login_as("manager")
    page = manager.get("/exams/coaching").get_data(as_text=True)
    assert "王芳" in page
    assert login_as("outsider").get("/exams/coaching").status_code == 403
    response = manager.post("/exams/coaching", data={"task_id": task.id, "coached_on": clock.today().isoformat(),
                                                     "notes": "讲解了请假流程和旷工认定"})
    assert response.status_code == 302
    db.session.expire_all()
    assert task.completed_at is not None and task.notes == "讲解了请假流程和旷工认定"
    assert start(learner).number == 2  # the make-up is open


def test_another_teams_manager_cannot_record_the_coaching(login_as, exam, org, make_employee, make_user):
    fail(login_as("learner"))
    task = db.session.scalars(select(CoachingTask)).one()
    other = make_employee("孙经理", department="物流部", status="active")
    make_user("othermanager", "manager", other)
    response = login_as("othermanager").post("/exams/coaching", data={
        "task_id": task.id, "coached_on": clock.today().isoformat(), "notes": "x"})
    assert response.status_code == 404
    db.session.expire_all()
    assert task.completed_at is None


def test_overdue_coaching_goes_to_hr_and_the_make_up_opens_anyway(login_as, exam, org):
    learner = login_as("learner")
    now = clock.now()
    with clock.frozen(now):
        fail(learner)
    jobs.run_tick((now + timedelta(days=3, minutes=1)).isoformat())
    task = db.session.scalars(select(CoachingTask)).one()
    assert task.escalated_at is not None
    to_hr = db.session.scalars(select(Message).where(Message.recipient_id == org.hr_officer.id)).one()
    assert "overdue" in to_hr.subject.lower()
    assert db.session.scalars(select(Delivery).where(Delivery.message_id == to_hr.id)).one().channel == "inapp"
    jobs.run_tick((now + timedelta(days=4)).isoformat())
    assert len(db.session.scalars(select(Message).where(Message.recipient_id == org.hr_officer.id)).all()) == 1
    with clock.frozen(now + timedelta(days=3, minutes=2)):
        assert start(learner).number == 2


def test_the_onboarding_gate_page_says_why_each_new_hire_waits(login_as, exam, org, make_employee, make_user, app):
    waiting = make_employee("钱新人", status="onboarding", manager=org.manager)
    make_user("newbie", "employee", waiting)
    make_employee("孙新人", status="onboarding")
    fail(login_as("newbie"))
    page = login_as("hr").get("/exams/onboarding").get_data(as_text=True)
    assert page.count('data-test="blocked"') == 2
    assert 'data-reason="waiting_for_coaching"' in page and 'data-reason="not_started"' in page
    assert login_as("manager").get("/exams/onboarding").status_code == 403


def test_hr_sees_the_share_of_right_answers_per_question(login_as, exam, org):
    from tests.exams.test_take_exam import answer, right_answers

    client = login_as("learner")
    attempt = start(client)
    for item in attempt.paper[:1]:
        answer(client, attempt, item, right_answers(item))
    client.post(f"/exams/attempts/{attempt.id}/submit")
    rows = services.question_analytics("onboarding")
    shares = {row["id"]: row["share"] for row in rows}
    assert shares[attempt.paper[0]["id"]] == 1.0
    assert all(shares[item["id"]] == 0.0 for item in attempt.paper[1:])
    assert rows[-1]["id"] == attempt.paper[0]["id"]  # weakest first
    page = login_as("hr").get("/exams/onboarding/analytics").get_data(as_text=True)
    assert page.count('data-test="question-row"') == 3
    assert login_as("manager").get("/exams/onboarding/analytics").status_code == 403


def refuse_messages(refuse: bool) -> None:
    """A trigger that makes the database refuse every new message (or the trigger gone again)."""
    if db.engine.dialect.name == "postgresql":
        statements = ["CREATE FUNCTION refuse_message() RETURNS trigger LANGUAGE plpgsql AS "
                      "$$ BEGIN RAISE EXCEPTION 'the message table refuses writes'; END $$",
                      "CREATE TRIGGER no_messages BEFORE INSERT ON message EXECUTE FUNCTION refuse_message()"] \
            if refuse else ["DROP TRIGGER no_messages ON message", "DROP FUNCTION refuse_message()"]
    else:
        statements = ["CREATE TRIGGER no_messages BEFORE INSERT ON message "
                      "BEGIN SELECT RAISE(ABORT, 'the message table refuses writes'); END"] \
            if refuse else ["DROP TRIGGER no_messages"]
    for statement in statements:
        db.session.execute(text(statement))
    db.session.commit()


def test_a_fail_is_graded_together_with_its_coaching_task_and_make_up_messages(exam, org):
    """One transaction: if the make-up reminder cannot be written, the grade is not kept either, and the
    learner can submit again (the database refuses the message here, as a full disk or a lost connection would)."""
    attempt = services.start_attempt(org.learner.id, "onboarding")
    events_before = db.session.scalar(select(func.count()).select_from(EvidenceEvent))
    refuse_messages(True)
    with pytest.raises(DBAPIError, match="refuses writes"):
        services.submit(attempt, None)
    db.session.rollback()
    db.session.expire_all()
    assert attempt.submitted_at is None and attempt.score is None
    assert db.session.scalars(select(CoachingTask)).all() == []
    assert db.session.scalar(select(func.count()).select_from(EvidenceEvent)) == events_before

    refuse_messages(False)
    services.submit(attempt, None)
    assert attempt.is_passed is False and db.session.scalars(select(CoachingTask)).one().attempt_id == attempt.id
    assert {m.recipient_id for m in db.session.scalars(select(Message))} == {org.learner.id, org.manager.id}
