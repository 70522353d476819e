"""The new hire's path: the start page names the one next step (read, confirm, exam, coaching, make-up,
certificate); chapters lead on to the next one and the last to the exam; a failed result and the exam list
say what happens next; the make-up message links the chapters to re-read; 联系人事 reaches HR's inbox."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lms import clock
from lms.courses import services as courses
from lms.exams import services
from lms.exams.models import CoachingTask, ExamAttempt
from lms.extensions import db
from lms.notify.models import Message
from tests.exams.test_take_exam import right_answers, start


@pytest.fixture
def newcomer(app, content, org, make_employee, make_user):
    content.sync()
    hire = make_employee("赵晨", manager=org.manager, status="onboarding")
    make_user("newhire", "employee", hire)
    courses.enrol_new_hires()
    return hire


def step_of(client) -> str:
    page = client.get("/").get_data(as_text=True)
    return re.search(r'data-step="([a-z_]+)"', page).group(1), page


def test_the_start_page_leads_the_new_hire_step_by_step(login_as, newcomer, org):
    me = login_as("newhire")
    kind, page = step_of(me)
    assert kind == "read" and "Read “Welcome”" in page and "/courses/handbook/chapters/welcome" in page
    assert 'data-test="training-status"' in page and "0 of 2 chapters done" in page

    # "Mark as read" goes on to the next chapter, not back to the overview.
    done = me.post("/courses/handbook/chapters/welcome/complete")
    assert done.headers["Location"].endswith("/courses/handbook/chapters/leave-and-absence")
    kind, page = step_of(me)
    assert kind == "read" and "Leave and absence" in page
    chapter = me.get("/courses/handbook/chapters/leave-and-absence").get_data(as_text=True)
    assert 'data-test="take-exam"' in chapter  # the last chapter ends with the exam
    kind, page = step_of(me)
    assert kind == "confirm" and "Confirm that you have read" in page

    sha = re.search(r'name="chapter_sha256"[^>]*value="([0-9a-f]+)"', chapter).group(1)
    confirmed = me.post("/courses/handbook/chapters/leave-and-absence/attest", data={"chapter_sha256": sha})
    assert confirmed.headers["Location"].endswith("/courses/handbook/chapters/leave-and-absence#next")
    kind, page = step_of(me)
    assert kind == "exam" and "Start the exam" in page

    attempt = start(me)
    assert step_of(me)[0] == "continue"
    me.post(f"/exams/attempts/{attempt.id}/submit")  # nothing answered: failed
    kind, page = step_of(me)
    assert kind == "coaching" and "张伟 will go through the rules with you" in page

    result = me.get(f"/exams/attempts/{attempt.id}/result").get_data(as_text=True)
    what_next = result.index('data-test="what-next"')
    assert what_next < result.index("Question 1")  # what happens next comes before the answer key
    assert "goes through the rules with you in person" in result
    assert "/courses/handbook/chapters/leave-and-absence" in result[what_next:]  # chapters to re-read

    exams = me.get("/exams/").get_data(as_text=True)
    assert 'data-state="coaching"' in exams and 'data-test="start"' not in exams
    assert "Make-up exam locked" in exams and "张伟" in exams

    message = db.session.scalars(select(Message).where(Message.recipient_id == newcomer.id)).one()
    assert "http://127.0.0.1:5000/courses/handbook/chapters/leave-and-absence" in message.body
    inbox = me.get("/inbox").get_data(as_text=True)
    delivery_id = re.search(r'href="/inbox/(\d+)"', inbox).group(1)
    opened = me.get(f"/inbox/{delivery_id}").get_data(as_text=True)
    assert '<a href="/courses/handbook/chapters/leave-and-absence">' in opened

    task = db.session.scalars(select(CoachingTask)).one()
    login_as("manager").post("/exams/coaching", data={"task_id": task.id, "coached_on": clock.today().isoformat(),
                                                      "notes": "讲解了请假流程"})
    kind, page = step_of(me)
    assert kind == "make_up" and "Take the make-up exam" in page
    assert 'data-state="make_up"' in me.get("/exams/").get_data(as_text=True)

    second = start(me)
    for item in second.paper:
        me.post(f"/exams/attempts/{second.id}/{item['n']}", data={**right_answers(item), "go": "next"})
    me.post(f"/exams/attempts/{second.id}/submit")
    result = me.get(f"/exams/attempts/{second.id}/result").get_data(as_text=True)
    assert 'data-test="certificate"' in result and 'data-test="verify"' in result
    kind, page = step_of(me)
    assert kind == "certificate" and "/exams/certificates/" in page

    record = me.get("/people/me", follow_redirects=True).get_data(as_text=True)
    assert 'data-test="my-certificates"' in record and "/verify/" in record
    assert 'data-test="my-attestations"' in record and "Leave and absence" in record


def test_someone_with_nothing_open_is_told_so(login_as, app, content, org):
    content.sync()
    kind, page = step_of(login_as("learner"))
    assert kind == "done"


def test_contact_hr_puts_the_message_in_hrs_inbox(login_as, app, content, org):
    content.sync()
    me = login_as("learner")
    home = me.get("/").get_data(as_text=True)
    assert 'href="/contact-hr"' in home
    page = me.get("/contact-hr").get_data(as_text=True)
    assert "李娜" in page  # the HR officer, with her contact
    too_long = me.post("/contact-hr", data={"body": "请" * 2001})
    assert too_long.status_code == 422 and "2000" in too_long.get_data(as_text=True)
    sent = me.post("/contact-hr", data={"body": "我的工牌还没有办好，请问找谁？"})
    assert sent.status_code == 302
    message = db.session.scalars(select(Message).where(Message.recipient_id == org.hr_officer.id)).one()
    assert "王芳" in message.subject and message.body == "我的工牌还没有办好，请问找谁？"
    assert "王芳" in login_as("hr").get("/inbox").get_data(as_text=True)


def test_the_exam_list_never_offers_an_attempt_that_would_be_refused(login_as, app, content, org):
    content.sync()
    me = login_as("learner")
    attempt = start(me)
    me.post(f"/exams/attempts/{attempt.id}/submit")
    assert services.coaching_blocks(org.learner.id, "onboarding") is not None
    page = me.get("/exams/").get_data(as_text=True)
    assert 'data-test="start"' not in page and 'data-test="locked"' in page
    assert len(db.session.scalars(select(ExamAttempt)).all()) == 1
