"""The evidence log page in words: events, subjects and actors named; filtered by kind alone from a translated
list; an employee found by number or name (HR never types `employee:53`)."""

from __future__ import annotations

import re

from lms import evidence
from lms.extensions import db


def _rows(html: str) -> list[str]:
    return re.findall(r"<tr>\s*<td data-label=\"#\">(.*?)</tr>", html, flags=re.S)


def test_events_read_as_words_with_the_codes_folded(login_as, org):
    evidence.record("courses.attested", f"employee:{org.learner.id}", {"chapter": "rules"}, actor=org.users["hr"])
    db.session.commit()
    page = login_as("hr").get("/evidence/?kind=courses.attested").get_data(as_text=True)
    [row] = _rows(page)
    visible = re.sub(r"<details data-technical>.*?</details>", "", row, flags=re.S)
    visible = re.sub(r"<[^>]+>", " ", visible)
    assert "Rules confirmed as read" in visible and "王芳（T0003）" in visible and "李娜" in visible
    assert "courses.attested" not in visible and "employee:" not in visible and "user:" not in visible


def test_the_log_filters_by_kind_alone_from_a_translated_list(login_as, org):
    evidence.record("courses.attested", f"employee:{org.learner.id}", {}, actor="system")
    evidence.record("people.activated", f"employee:{org.colleague.id}", {}, actor="system")
    db.session.commit()
    client = login_as("hr")
    page = client.get("/evidence/").get_data(as_text=True)
    assert '<option value="courses.attested">Rules confirmed as read (知悉确认)</option>' in page
    filtered = client.get("/evidence/?kind=people.activated").get_data(as_text=True)
    assert len(_rows(filtered)) == 1 and "刘洋" in _rows(filtered)[0]


def test_an_employee_is_found_by_number_or_name(login_as, org):
    for person in (org.learner, org.colleague):
        evidence.record("people.activated", f"employee:{person.id}", {}, actor="system")
    db.session.commit()
    client = login_as("hr")
    by_number = client.get(f"/evidence/?who={org.learner.employee_no}&kind=people.activated").get_data(as_text=True)
    assert len(_rows(by_number)) == 1 and "王芳" in _rows(by_number)[0]
    assert 'data-test="pack-form"' in by_number  # her evidence pack, one click away
    by_name = client.get("/evidence/?who=刘洋&kind=people.activated").get_data(as_text=True)
    assert len(_rows(by_name)) == 1 and "刘洋" in _rows(by_name)[0]
    nobody = client.get("/evidence/?who=不存在").get_data(as_text=True)
    assert _rows(nobody) == [] and "Nobody has the number or name" in nobody
