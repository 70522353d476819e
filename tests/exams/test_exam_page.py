"""The exam page: the time left from the server's clock (without JavaScript too), the script under the CSP,
and the save endpoint the script calls on each click (in time: kept; late: refused; not hers: 404)."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from lms import clock
from lms.exams import services
from lms.exams.models import ExamAttempt
from lms.extensions import db
from tests.exams.test_take_exam import right_answers, start


@pytest.fixture
def exam(app, content):
    content.sync()
    return services.current_exam("onboarding")


def test_the_page_shows_the_time_left_by_the_servers_clock(login_as, exam, org):
    learner = login_as("learner")
    with clock.frozen(clock.now()):
        attempt = start(learner)
    with clock.frozen(attempt.started_at + timedelta(minutes=5, seconds=30)):
        response = learner.get(f"/exams/attempts/{attempt.id}/1")
    page = response.get_data(as_text=True)
    left = exam.time_limit_minutes * 60 - 330
    assert re.search(r'data-test="time-left">' + str((left + 59) // 60) + r" min<", page)  # no JavaScript needed
    assert f'data-now="{(attempt.started_at + timedelta(minutes=5, seconds=30)).isoformat()}"' in page
    assert f'data-deadline="{attempt.deadline_at.isoformat()}"' in page
    assert '<script src="/static/js/exam.js" defer></script>' in page and "<script>" not in page
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "a lost connection loses nothing" not in page  # the promise is now what the script keeps
    review = learner.get(f"/exams/attempts/{attempt.id}/review").get_data(as_text=True)
    assert 'data-test="countdown"' in review


def test_a_click_is_saved_at_once_and_a_late_one_is_refused(login_as, exam, org):
    learner = login_as("learner")
    attempt = start(learner)
    item = attempt.paper[0]
    choices = right_answers(item)
    saved = learner.post(f"/exams/attempts/{attempt.id}/{item['n']}/save", data=choices)
    assert saved.status_code == 200 and saved.json == {"saved": True}
    db.session.expire_all()
    assert {k: v for k, v in db.session.get(ExamAttempt, attempt.id).answers.items()} == {
        k: sorted(v) for k, v in choices.items()}
    outsider = login_as("outsider")
    assert outsider.post(f"/exams/attempts/{attempt.id}/{item['n']}/save", data=choices).status_code == 404
    with clock.frozen(attempt.deadline_at + services.GRACE + timedelta(seconds=1)):
        late = learner.post(f"/exams/attempts/{attempt.id}/{item['n']}/save", data={})
    assert late.status_code == 409 and late.json["saved"] is False
    db.session.expire_all()
    assert db.session.get(ExamAttempt, attempt.id).answers  # the late empty answer changed nothing
