"""The working-day calendar: official data with 调休, HR overrides, entered years, and "unknown"."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from lms.absence import calendar
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db


def test_2026_holidays_and_make_up_days_from_the_official_data(app):
    info = calendar.classify([date(2026, 6, 15), date(2026, 6, 19), date(2026, 6, 20), date(2026, 10, 10),
                              date(2026, 10, 1)])
    assert info[date(2026, 6, 15)].is_workday  # the seed case's Monday
    assert info[date(2026, 6, 19)].kind == "rest" and info[date(2026, 6, 19)].name == "Dragon Boat Festival"
    assert info[date(2026, 10, 10)].is_workday  # a Saturday make-up day (调休)
    assert info[date(2026, 10, 1)].kind == "rest"
    assert {i.source for i in info.values()} == {"chinesecalendar"}


def test_the_seed_case_counts_three_working_days_across_a_weekend(app):
    assert calendar.working_days(date(2026, 6, 15), date(2026, 6, 17)) == [
        date(2026, 6, 15), date(2026, 6, 16), date(2026, 6, 17)]
    assert date(2026, 10, 10) in calendar.working_days(date(2026, 10, 1), date(2026, 10, 12))
    assert date(2026, 10, 3) not in calendar.working_days(date(2026, 10, 1), date(2026, 10, 12))


def test_a_date_outside_known_data_is_unknown_never_a_workday(app):
    info = calendar.day_info(date(2027, 3, 1))
    assert (info.kind, info.source, info.is_workday) == ("unknown", None, False)
    assert calendar.working_days(date(2027, 3, 1), date(2027, 3, 5)) == []
    assert len(calendar.unknown_days(date(2027, 3, 1), date(2027, 3, 5))) == 5


def test_an_override_beats_the_official_data(app, org):
    calendar.set_override(date(2026, 6, 15), False, "公司停电放假", org.users["hr"])
    info = calendar.day_info(date(2026, 6, 15))
    assert (info.kind, info.source, info.name) == ("rest", "override", "公司停电放假")
    event = db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "absence.calendar_override")).one()
    assert event.payload["day"] == "2026-06-15"


NOTICE_2027 = """\
# 国务院办公厅关于2027年部分节假日安排的通知
2027-01-01..2027-01-03 休 元旦
2027-02-06..2027-02-12 休 春节
2027-02-14 班 春节调休
"""


def test_hr_enters_a_whole_year_from_the_notice(login_as, org):
    client = login_as("hr")
    page = client.get("/absence/calendar?year=2027").get_data(as_text=True)
    assert 'data-test="unknown"' in page and "365 dates of 2027 are unknown" in page
    response = client.post("/absence/calendar?year=2027", data={
        "action": "year", "year-source": "国办发明电〔2026〕X号", "year-notice": NOTICE_2027})
    assert response.status_code == 302
    info = calendar.classify([date(2027, 2, 8), date(2027, 2, 14), date(2027, 3, 1), date(2027, 3, 6)])
    assert info[date(2027, 2, 8)].kind == "rest" and info[date(2027, 2, 8)].name == "春节"
    assert info[date(2027, 2, 14)].is_workday  # a Sunday make-up day
    assert info[date(2027, 3, 1)].is_workday and info[date(2027, 3, 6)].kind == "rest"  # Monday, Saturday
    page = client.get("/absence/calendar?year=2027").get_data(as_text=True)
    assert 'data-test="unknown"' not in page and page.count('data-test="special-day"') == 11


def test_a_bad_notice_lists_every_bad_line_and_saves_nothing(login_as, org):
    client = login_as("hr")
    response = client.post("/absence/calendar?year=2027", data={
        "action": "year", "year-source": "通知", "year-notice": "2027-01-01 休 元旦\n2027-02-30 休 春节\n"
                                                           "2028-01-01 休 元旦\nnonsense"})
    assert response.status_code == 422
    text = response.get_data(as_text=True)
    assert "Line 2" in text and "Line 3" in text and "Line 4" in text and "Line 1:" not in text
    assert calendar.day_info(date(2027, 1, 1)).kind == "unknown"


@pytest.mark.parametrize("who", ["learner", "manager"])
def test_only_hr_and_admins_edit_the_calendar(login_as, org, who):
    assert login_as(who).get("/absence/calendar").status_code == 403
