"""The reply link in the alert SMS (issue 19, item 7): an outsider cannot forge or alter one, nor make one from
another signed value of the app; it works as long as its case is open, however old; once the case has ended it
is spent (410, naming nobody), and it never reaches the employee's next case."""

from __future__ import annotations

import re
from datetime import date, datetime

from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from lms import clock
from lms.absence.models import AbsenceCase
from lms.extensions import db
from lms.notify.models import SmsOutbox
from tests.absence.conftest import add_punch, run_ticks
from tests.absence.test_reply_to_case import alerted  # noqa: F401 - the fixture: a case with its first alert

NAME = "王芳"


def _links() -> list[str]:
    texts = db.session.scalars(select(SmsOutbox.text).order_by(SmsOutbox.id)).all()
    return [re.search(r"/absence/r/\S+", text).group(0) for text in texts if "/absence/r/" in text]


def _signed(app, value, key=None, salt="absence-reply") -> str:
    return "/absence/r/" + URLSafeTimedSerializer(key or app.config["SECRET_KEY"], salt=salt).dumps(value)


def test_only_the_apps_own_signature_for_this_purpose_opens_a_case(app, client, alerted):  # noqa: F811
    case = alerted.case
    assert client.get(_signed(app, [case.id, case.employee_id])).status_code == 200  # the genuine form
    refused = [
        _signed(app, [case.id, case.employee_id], key="a-guessed-key"),  # signed without our SECRET_KEY
        _signed(app, [case.id, case.employee_id], salt="another-purpose"),  # our key, another use of it
        _signed(app, [case.id, alerted.colleague.id]),  # the case with someone else's id
        _signed(app, [case.id + 1, case.employee_id]),  # a case that does not exist
        _signed(app, {"case": case.id}),  # not the shape we sign
        _signed(app, [str(case.id), case.employee_id]),
    ]
    for path in refused:
        page = client.get(path)
        assert page.status_code == 404 and NAME not in page.get_data(as_text=True)
        assert client.post(path, data={"text": "我在医院"}).status_code == 404
    [genuine] = _links()
    token = genuine.rsplit("/", 1)[1]
    payload, _, signature = token.rpartition(".")
    flipped = payload[:-1] + ("A" if payload[-1] != "A" else "B")
    assert client.get(f"/absence/r/{flipped}.{signature}").status_code == 404  # the data altered, signature kept
    db.session.refresh(case)
    assert case.replies == []


def test_a_spent_link_answers_410_and_names_nobody_once_the_case_has_ended(client, alerted):  # noqa: F811
    [link] = _links()
    with clock.frozen(clock.as_utc(datetime(2026, 6, 16, 9, 30))):
        add_punch(alerted.learner, datetime(2026, 6, 16, 9, 5))  # she is back before any threshold
    case = db.session.get(AbsenceCase, alerted.case.id)
    db.session.refresh(case)
    assert case.state == "resolved"
    page = client.get(link)
    assert page.status_code == 410 and NAME not in page.get_data(as_text=True)
    with clock.frozen(clock.as_utc(datetime(2026, 6, 16, 10, 0))):
        assert client.post(link, data={"text": "其实我昨天在医院", "emergency": "y"}).status_code == 410
    db.session.refresh(case)
    assert case.replies == [] and case.state == "resolved"


def test_an_old_link_never_reaches_the_employees_next_case(client, alerted):  # noqa: F811
    [old] = _links()
    with clock.frozen(clock.as_utc(datetime(2026, 6, 16, 9, 30))):
        add_punch(alerted.learner, datetime(2026, 6, 16, 9, 5))
    run_ticks(datetime(2026, 6, 17, 11, 0), datetime(2026, 6, 17, 12, 0))  # absent again on 6.17: a new case
    cases = db.session.scalars(select(AbsenceCase).where(AbsenceCase.employee_id == alerted.learner.id)
                               .order_by(AbsenceCase.id)).all()
    assert cases[0].state == "resolved" and cases[-1].is_open and cases[-1].first_day == date(2026, 6, 17)
    cases = [cases[0], cases[-1]]
    new = _links()[-1]
    assert new != old
    assert client.get(old).status_code == 410
    assert client.get(new).status_code == 200
    with clock.frozen(clock.as_utc(datetime(2026, 6, 17, 13, 0))):
        assert client.post(old, data={"text": "在医院"}).status_code == 410
    db.session.refresh(cases[1])
    assert cases[1].replies == []
