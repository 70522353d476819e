"""HR's case page as HR reads it: the timeline per day in words, a deliberate decision with its reason
on the case, leave types named, to-dos marked as done, and bad input answered beside the field."""

from __future__ import annotations

import re
from datetime import date, datetime

import pytest
from sqlalchemy import select

from lms import clock
from lms.absence.models import AbsenceCase
from lms.extensions import db
from tests.absence.conftest import add_leave, everyone_present, run_ticks


@pytest.fixture
def replied(absence_setup, login_as):
    """The learner's case: alerted on 6.15, 6.15 counted, her explanation taken by phone on 6.16 (HR decides)."""
    org = absence_setup
    add_leave(org.learner, date(2026, 6, 1), date(2026, 6, 14))
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 19), but=[org.learner])
    run_ticks(datetime(2026, 6, 15, 11, 0), datetime(2026, 6, 16, 15, 0))
    org.case = db.session.scalars(select(AbsenceCase)).one()
    client = org.hr_client = login_as("hr")
    with clock.frozen(clock.as_utc(datetime(2026, 6, 16, 16, 0))):
        assert client.post(f"/absence/cases/{org.case.id}/phone", data={"text": "她母亲住院"}).status_code == 302
    return org


def _page(org) -> str:
    with clock.frozen(clock.as_utc(datetime(2026, 6, 16, 17, 0))):
        return org.hr_client.get(f"/absence/cases/{org.case.id}").get_data(as_text=True)


def _post(org, path: str, data: dict):
    with clock.frozen(clock.as_utc(datetime(2026, 6, 16, 17, 0))):
        return org.hr_client.post(f"/absence/cases/{org.case.id}/{path}", data=data)


def _visible(html: str) -> str:
    html = re.sub(r"<details data-technical>.*?</details>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_the_timeline_reads_per_day_one_line_per_message_with_the_raw_events_folded(replied):
    page = _page(replied)
    timeline = page[page.index("data-test=\"timeline-day\""):]
    assert re.findall(r'data-test="timeline-day">([^<]+)<', page) == ["2026-06-15", "2026-06-16"]
    lines = re.findall(r'<li data-test="timeline">(.*?)<details', timeline, flags=re.S)
    first_alert = [line for line in lines if "first alert" in line and "王芳" in line]
    # The message written, handed over and delivered on each channel: one line, not one per event.
    assert len(first_alert) == 1 and "In-app inbox" in first_alert[0] and "SMS" in first_alert[0]
    assert "王芳（employee）" in first_alert[0]
    assert len(lines) < timeline.count("<pre")  # several events behind some lines
    visible = _visible(timeline)
    assert "notify.message_created" not in visible and "absence.step_sent" not in visible
    assert not re.search(r"user:\d+|employee:\d+", visible)


def test_the_decision_is_chosen_and_a_closing_one_confirmed_and_its_reason_shown(replied):
    page = _page(replied)
    form = page[page.index('data-test="decide-form"'):]
    form = form[:form.index("</form>")]
    assert re.search(r'<option selected value="">', form) and 'selected value="accept"' not in form
    # Nothing chosen: the page comes back with the error beside the field and the reason as typed.
    response = _post(replied, "decide", {"decision": "", "note": "证明材料齐全"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Choose a decision." in html and "证明材料齐全</textarea>" in html
    # Accepting closes the case: not without the tick.
    response = _post(replied, "decide", {"decision": "accept", "leave_type": "sick", "note": "证明材料齐全"})
    assert response.status_code == 422 and "tick to confirm" in response.get_data(as_text=True)
    assert db.session.get(AbsenceCase, replied.case.id).is_open
    response = _post(replied, "decide", {"decision": "accept", "leave_type": "sick", "note": "证明材料齐全",
                                         "confirm_close": "y"})
    assert response.status_code == 302
    page = _page(replied)
    assert "Reason: 证明材料齐全" in page
    # The day the decision turned into leave names the type chosen.
    assert re.search(r'data-test="uncounted-day">2026-06-15 \(sick leave\)', page)


@pytest.mark.parametrize(("data", "error"), [
    ({"text": ""}, "This field is required."),
    ({"text": "长" * 10_000}, "2000"),
    ({"text": "她说明天回来", "received_at": "2026-02-30T10:00"}, "Not a valid date and time"),
    ({"text": "她说明天回来", "received_at": "1850-06-17T10:00"}, "within 1900–2100"),
    ({"text": "她说明天回来", "received_at": "2026-06-17T10:00"}, "This is in the future"),
])
def test_bad_input_comes_back_beside_the_field_with_the_text_kept(replied, data, error):
    response = _post(replied, "phone", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Redirecting" not in html and 'class="error"' in html and error in html
    if data["text"]:
        assert f"{data['text']}</textarea>" in html
    assert len(db.session.get(AbsenceCase, replied.case.id).replies) == 1  # nothing written


def test_to_dos_are_marked_as_done_and_a_future_day_is_refused(replied):
    page = _page(replied)
    assert "Mark as done" in page and ">Done<" not in page
    todo = next(t for t in db.session.get(AbsenceCase, replied.case.id).todos if t.done_at is None)
    response = _post(replied, f"todos/{todo.id}", {"what": "已电话联系", "done_on": "2026-07-01"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'data-test="todo-error"' in html and "This is in the future" in html
    db.session.refresh(todo)
    assert todo.done_at is None
