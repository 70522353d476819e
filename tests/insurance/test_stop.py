"""The social-insurance stop after employment ends, checked on the 2026 calendar by hand (SPEC §6, issue 15)."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from lms.absence.models import CaseTodo
from lms.evidence.models import EvidenceEvent
from lms.extensions import db
from lms.insurance import stop
from lms.insurance.cities import NoCityRule
from tests.insurance.conftest import at, end, enter_rule


def test_the_seed_case_terminated_on_6_29_pays_june_stops_july_and_files_by_7_15_under_both_policies(app, wang):
    end(wang, date(2026, 6, 29), "mutual")
    for policy in stop.POLICIES:
        with at(2026, 6, 30, 9, 0):
            result = stop.compute(wang, chosen=policy)
        assert (result.last_paid_month, result.stop_from, result.filing_due) == (
            date(2026, 6, 1), date(2026, 7, 1), date(2026, 7, 15)), policy
        assert result.uninsured is None
        # The shipped Beijing cut-off is the seed article's, not yet confirmed by HR: the answer says so.
        assert any("unverified" in w for w in result.warnings)


def test_ended_on_6_10_default_pays_june_the_seed_practice_stops_june_naming_the_uninsured_days(app, wang):
    end(wang, date(2026, 6, 10))
    with at(2026, 6, 11, 9, 0):
        default = stop.compute(wang, chosen="pay_final_month")
        early = stop.compute(wang, chosen="stop_before_cutoff")
    assert (default.last_paid_month, default.stop_from, default.filing_due) == (
        date(2026, 6, 1), date(2026, 7, 1), date(2026, 7, 15))
    assert (early.last_paid_month, early.stop_from, early.filing_due) == (
        date(2026, 5, 1), date(2026, 6, 1), date(2026, 6, 15))
    assert early.uninsured == (date(2026, 6, 1), date(2026, 6, 10))
    assert any("2026-06-01–2026-06-10" in w and "第一条第（五）项" in w for w in early.warnings)


@pytest.mark.parametrize(("inclusive", "stop_from", "due"), [
    (True, date(2026, 6, 1), date(2026, 6, 15)),   # the 15th itself is in time: stop June, file by 6.15
    (False, date(2026, 7, 1), date(2026, 7, 14)),  # the 15th is too late: pay June, file before 7.15
])
def test_ending_on_the_cut_off_day_itself_follows_the_citys_flag(app, org, wang, inclusive, stop_from, due):
    enter_rule("北京", org.users["hr"], cutoff_inclusive=inclusive)
    end(wang, date(2026, 6, 15))
    with at(2026, 6, 15, 19, 0):
        result = stop.compute(wang, chosen="stop_before_cutoff")
    assert (result.stop_from, result.filing_due) == (stop_from, due)
    assert not any("unverified" in w for w in result.warnings)  # HR's own rule


def test_a_city_without_a_rule_is_refused_by_name_never_guessed(app, wang, hr_token, client):
    wang.work_city = "杭州市"
    db.session.commit()
    end(wang, date(2026, 7, 2))
    with at(2026, 7, 3, 9, 0), pytest.raises(NoCityRule, match="杭州"):
        stop.compute(wang)
    with at(2026, 7, 3, 9, 0):
        response = client.get(f"/api/v1/employees/{wang.employee_no}/social-insurance",
                              headers={"Authorization": f"Bearer {hr_token}"})
    assert response.status_code == 409
    assert "杭州" in response.get_json()["error"]["message"]
    # The filing to-do waits without a date; the rule HR then enters gives it one (the next month's cut-off).
    todo = db.session.scalar(select(CaseTodo).where(CaseTodo.kind == "file_si_stop"))
    assert todo.due_on is None
    with at(2026, 7, 3, 10, 0):
        from lms.insurance import cities

        cities.save_rule("杭州", {"cutoff_day": 20, "source": "杭州市医保局", "checked_on": date(2026, 7, 3),
                                 "valid_from": date(2026, 1, 1)}, "test")
    db.session.refresh(todo)
    assert todo.due_on == date(2026, 8, 20)


def test_a_draft_never_stops_anything_the_employment_must_have_ended(app, wang):
    with at(2026, 6, 30, 9, 0), pytest.raises(stop.InsuranceError, match="not ended"):
        stop.compute(wang)


def test_the_filing_is_evidence_closes_the_to_do_and_a_late_one_names_the_months_charged_for_nobody(
        app, wang, org):
    end(wang, date(2026, 6, 29))
    todo = db.session.scalar(select(CaseTodo).where(CaseTodo.kind == "file_si_stop", CaseTodo.employee_id == wang.id))
    assert todo.due_on == date(2026, 7, 15)
    with at(2026, 8, 20, 10, 0):
        stop.record_filing(wang, date(2026, 8, 20), org.users["hr"])
        result = stop.compute(wang)
    assert result.filed_on == date(2026, 8, 20)
    # 7.15 and 8.15 passed before the filing: July and August are charged for a person no longer employed.
    assert [m.isoformat() for m in result.charged_for_nobody] == ["2026-07-01", "2026-08-01"]
    assert any("0.05 %" in w and "第八十六条" in w for w in result.warnings)
    db.session.refresh(todo)
    assert todo.done_at is not None
    events = [e.payload for e in db.session.scalars(select(EvidenceEvent).order_by(EvidenceEvent.seq))
              if e.kind == "insurance.stop_filed"]
    assert len(events) == 1 and events[0]["late"] is True
    assert events[0]["stop_from"] == "2026-07"
    with at(2026, 8, 21, 10, 0), pytest.raises(stop.InsuranceError, match="already filed"):
        stop.record_filing(wang, date(2026, 8, 21), org.users["hr"])


def test_a_filing_in_time_charges_nothing(app, wang, org):
    end(wang, date(2026, 6, 29))
    with at(2026, 7, 10, 10, 0):
        stop.record_filing(wang, date(2026, 7, 10), org.users["hr"])
        assert stop.compute(wang).charged_for_nobody == []


def test_registration_is_due_30_days_after_the_start_and_hr_is_told_once_when_late(app, org, make_employee):
    hire = make_employee("新员工", hire_date=date(2026, 3, 1))
    with at(2026, 3, 1, 9, 0):
        from lms.jobs import run_tick

        run_tick()
    todo = db.session.scalar(select(CaseTodo).where(CaseTodo.kind == "register_si", CaseTodo.employee_id == hire.id))
    assert todo.due_on == date(2026, 3, 31)
    assert db.session.scalar(select(CaseTodo).where(CaseTodo.kind == "register_si",
                                                    CaseTodo.employee_id == org.learner.id)) is None  # hired 2025
    from lms.notify.models import Message

    for hour in (9, 10):
        with at(2026, 4, 1, hour, 0):
            stop.escalate_late_registrations(clock_now())
    messages = db.session.scalars(select(Message).where(Message.template == "si_registration_late")).all()
    assert [m.recipient_id for m in messages] == [org.hr_officer.id]
    assert "新员工" in messages[0].body and "2026-03-31" in messages[0].body


def clock_now():
    from lms import clock

    return clock.now()
