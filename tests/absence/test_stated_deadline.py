"""The stated deadline D of a return-to-work notice on the 2026 calendar."""

from __future__ import annotations

from datetime import date

import pytest

from lms.absence.deadlines import DeadlineUnknown, stated_deadline

VALUES = {"postal_allowance_days": 3, "return_period_days": 3}


def test_dispatched_on_the_dragon_boat_festival_the_deadline_is_6_25(app):
    assert stated_deadline(date(2026, 6, 19), VALUES) == date(2026, 6, 25)


def test_a_deadline_on_a_national_day_holiday_moves_to_the_next_working_day(app):
    assert stated_deadline(date(2026, 9, 28), VALUES) == date(2026, 10, 8)  # 10.4 is a holiday


def test_a_deadline_on_a_make_up_working_saturday_does_not_move(app):
    # 2026-10-10 (Saturday) is a 调休 working day.
    assert stated_deadline(date(2026, 10, 4), VALUES) == date(2026, 10, 10)


def test_a_deadline_on_a_weekend_moves_to_monday(app):
    assert stated_deadline(date(2026, 6, 21), VALUES) == date(2026, 6, 29)  # 6.27 is a Saturday


def test_the_values_come_from_the_rules(app):
    longer = {"postal_allowance_days": 5, "return_period_days": 3}
    assert stated_deadline(date(2026, 6, 19), longer) == date(2026, 6, 29)


def test_a_deadline_the_calendar_does_not_know_is_refused(app):
    with pytest.raises(DeadlineUnknown):
        stated_deadline(date(2027, 3, 1), VALUES)
