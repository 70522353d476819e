"""Service of the return-to-work notice (送达) and its deadline, on the 2026 calendar (issue 13, "Done when")."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from lms import clock
from lms.absence import deadlines, service, service_tick, tracking_file
from lms.absence.models import CaseTodo, Dispatch
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db
from lms.people.records import InvalidRecords
from tests.absence.service_helpers import a_scan, at, make_document

RULES = {"postal_allowance_days": 3, "return_period_days": 3}
EMS = {"method": "ems", "addressee": "张三", "address": "上海市浦东新区世纪大道100号",
       "address_source": "contact_address", "tracking_no": "EA123456789CN"}


def kinds(case) -> list[str]:
    return [e.kind for e in db.session.scalars(
        db.select(EvidenceEvent).where(body_field("subject") == f"case:{case.id}").order_by(EvidenceEvent.seq))]


def open_todos(case) -> list[str]:
    return [t.kind for t in db.session.scalars(db.select(CaseTodo).where(
        CaseTodo.case_id == case.id, CaseTodo.done_at.is_(None)))]


def dispatch(case, document, day, **fields) -> Dispatch:
    with at(day):
        return service.record_dispatch(case, document, dispatched_on=day, **{**EMS, **fields})


def track(dispatch_row, day, status, **fields):
    with at(day):
        return service.record_tracking(dispatch_row, status=status, day=day, **fields)


# ---------------------------------------------------------------- the date rule alone


def test_the_stated_deadline_counts_calendar_days_from_dispatch(app):
    assert deadlines.stated_deadline(date(2026, 6, 19), RULES) == date(2026, 6, 25)


def test_a_stated_deadline_on_a_holiday_moves_to_the_next_working_day(app):
    # 9.28 + 6 = 10.4, inside the National Day holiday (10.1–10.7): the next working day is 10.8.
    assert deadlines.stated_deadline(date(2026, 9, 28), RULES) == date(2026, 10, 8)


def test_a_tiaoxiu_working_weekend_day_does_not_move(app):
    # 2026-09-20 (Sunday) is a 调休 working day for National Day: a deadline falling on it stays.
    assert deadlines.next_working_day_from(date(2026, 9, 20)) == date(2026, 9, 20)
    assert deadlines.stated_deadline(date(2026, 9, 14), RULES) == date(2026, 9, 20)


def test_the_effective_deadline_is_the_later_of_d_and_service_plus_return_period(app):
    assert deadlines.effective_deadline(date(2026, 6, 25), date(2026, 6, 21), RULES) == date(2026, 6, 25)
    # 6.24 + 3 = 6.27, a Saturday → Monday 6.29.
    assert deadlines.effective_deadline(date(2026, 6, 25), date(2026, 6, 24), RULES) == date(2026, 6, 29)


# ---------------------------------------------------------------- each rule of service


def test_signed_by_the_employee_or_a_family_member_serves_that_day():
    assert service.served_by_delivery(date(2026, 6, 21), "employee", "ems", False).on == date(2026, 6, 21)
    family = service.served_by_delivery(date(2026, 6, 21), "family_member", "ems", False)
    assert (family.state, family.basis) == ("served", "signed_by_family")


@pytest.mark.parametrize("signer", ["other", "locker"])
def test_a_third_party_or_locker_signature_needs_hrs_confirmation(signer):
    assert service.served_by_delivery(date(2026, 6, 21), signer, "ems", False).state == "awaiting_confirmation"
    confirmed = service.served_by_delivery(date(2026, 6, 21), signer, "ems", True)
    assert (confirmed.state, confirmed.on, confirmed.basis) == ("served", date(2026, 6, 21), "signature_confirmed")


def test_a_refusal_serves_on_the_later_of_refusal_and_back_at_sender():
    assert service.served_by_refusal(date(2026, 6, 22), None).state == "awaiting_return"
    assert service.served_by_refusal(date(2026, 6, 22), date(2026, 6, 24)).on == date(2026, 6, 24)


@pytest.mark.parametrize("reason", ["no_such_person", "unclear_address", "not_collected"])
def test_a_returned_letter_is_not_served(reason):
    assert service.served_by_return(date(2026, 6, 23), reason, "contact_address", False).state == "failed"
    # Sent to a service address *not* confirmed in writing: still not served.
    assert service.served_by_return(date(2026, 6, 23), reason, "service_address", False).state == "failed"


def test_returned_from_the_confirmed_service_address_is_served_on_the_return_date():
    answer = service.served_by_return(date(2026, 6, 23), "no_such_person", "service_address", True)
    assert (answer.state, answer.on, answer.basis) == ("served", date(2026, 6, 23), "confirmed_service_address")
    assert "法发〔2017〕19号" in str(service.BASIS[answer.basis])


def test_in_person_and_acknowledged_electronic_serve_that_day():
    assert service.served_by_delivery(date(2026, 6, 20), "employee", "in_person", False).basis == "in_person"
    assert service.served_by_delivery(date(2026, 6, 20), "employee", "electronic", False).basis == "electronic"
    # An electronic message is acknowledged by the employee themself, never a relative.
    assert service.served_by_delivery(date(2026, 6, 20), "family_member", "electronic", False).state != "served"


def test_a_public_notice_serves_thirty_days_after_publication():
    assert service.served_by_public_notice(date(2026, 7, 1)).on == date(2026, 7, 31)


# ---------------------------------------------------------------- the cases, end to end


def test_the_seed_case_delivered_to_the_employee(served_case):
    case = served_case
    notice = make_document(case, date(2026, 6, 18))
    assert service.case_service(case).next_action == "dispatch_notice"
    sent = dispatch(case, notice, date(2026, 6, 19))
    state = service.case_service(case)
    assert (state.stated, state.effective, state.next_action) == (date(2026, 6, 25), None, "check_tracking")
    assert open_todos(case) == ["check_tracking"]
    track(sent, date(2026, 6, 20), "in_transit")
    track(sent, date(2026, 6, 21), "delivered", signed_by="employee")
    state = service.case_service(case)
    assert (state.served_on, state.stated, state.effective) == (date(2026, 6, 21), date(2026, 6, 25), date(2026, 6, 25))
    assert state.served.basis == "signed_by_employee"
    assert open_todos(case) == []
    with at(date(2026, 6, 21)):
        assert service.service_words(state) == "Served: 6/21, signed for by the employee"
    assert kinds(case) == ["absence.dispatched", "absence.tracking", "absence.tracking", "absence.served",
                           "absence.deadline_set"]


def test_delivered_late_moves_the_effective_deadline(served_case):
    sent = dispatch(served_case, make_document(served_case, date(2026, 6, 18)), date(2026, 6, 19))
    track(sent, date(2026, 6, 24), "delivered", signed_by="employee")
    assert service.case_service(served_case).effective == date(2026, 6, 29)


def test_refused_then_back_at_the_sender(served_case):
    sent = dispatch(served_case, make_document(served_case, date(2026, 6, 18)), date(2026, 6, 19))
    track(sent, date(2026, 6, 22), "refused")
    state = service.case_service(served_case)
    assert state.served is None and state.next_action == "check_tracking"
    track(sent, date(2026, 6, 24), "returned_to_sender")
    state = service.case_service(served_case)
    assert (state.served_on, state.effective, state.served.basis) == (date(2026, 6, 24), date(2026, 6, 29), "refused")


def test_returned_no_such_person_then_a_new_notice_to_the_household_address(served_case):
    case = served_case
    first = make_document(case, date(2026, 6, 18))
    sent = dispatch(case, first, date(2026, 6, 19))
    track(sent, date(2026, 6, 23), "returned", reason="no_such_person")
    state = service.case_service(case)
    assert state.served is None and state.effective is None
    assert (state.next_action, state.next_address) == ("try_another_address", "household_address")
    with at(date(2026, 6, 23)):
        assert service.service_words(state) == ("Not served: returned on 6/23 (no such person) — suggest sending a "
                                                "new notice to the household registration address")
    assert open_todos(case) == ["try_another_address"]
    assert "absence.service_failed" in kinds(case)
    # The same document is not sent again: a re-sent notice is a new document.
    with pytest.raises(service.ServiceRefused):
        dispatch(case, first, date(2026, 6, 24), address_source="household_address")
    second = make_document(case, date(2026, 6, 24), replaces=first)
    again = dispatch(case, second, date(2026, 6, 24), address_source="household_address",
                     address=case.employee.household_address)
    assert service.case_service(case).stated == date(2026, 6, 30)
    track(again, date(2026, 6, 26), "delivered", signed_by="family_member")
    state = service.case_service(case)
    assert (state.served_on, state.effective, state.document) == (date(2026, 6, 26), date(2026, 6, 30), second)


def test_public_notice_only_after_failed_attempts(served_case):
    case = served_case
    first = make_document(case, date(2026, 6, 18))
    with at(date(2026, 6, 19)), pytest.raises(service.ServiceRefused):
        service.record_public_notice(case, first, medium="《解放日报》", published_on=date(2026, 6, 19), scan=a_scan())
    sent = dispatch(case, first, date(2026, 6, 19))
    track(sent, date(2026, 6, 23), "returned", reason="no_such_person")
    second = make_document(case, date(2026, 6, 24), replaces=first)
    again = dispatch(case, second, date(2026, 6, 24), address_source="household_address")
    track(again, date(2026, 6, 29), "returned", reason="unclear_address")
    state = service.case_service(case)
    assert (state.next_action, state.next_address) == ("public_notice", None)
    third = make_document(case, date(2026, 6, 30), replaces=second)
    with at(date(2026, 7, 1)):
        service.record_public_notice(case, third, medium="《解放日报》", published_on=date(2026, 7, 1), scan=a_scan())
    state = service.case_service(case)
    assert (state.served_on, state.effective, state.served.basis) == (date(2026, 7, 31), date(2026, 8, 3),
                                                                      "public_notice")


def test_public_notice_with_documented_unknown_whereabouts(served_case):
    notice = make_document(served_case, date(2026, 6, 18))
    with at(date(2026, 6, 19)):
        service.record_public_notice(served_case, notice, medium="公司官网", published_on=date(2026, 6, 19),
                                     scan=a_scan(),
                                     whereabouts_unknown_note="住所地、户籍地均查无此人，派出所证明见附件")
    assert service.case_service(served_case).served_on == date(2026, 7, 19)


def test_a_locker_delivery_counts_once_hr_confirms(served_case):
    sent = dispatch(served_case, make_document(served_case, date(2026, 6, 18)), date(2026, 6, 19))
    track(sent, date(2026, 6, 21), "delivered", signed_by="locker")
    state = service.case_service(served_case)
    assert (state.served, state.next_action) == (None, "confirm_signature")
    assert open_todos(served_case) == ["confirm_signature"]
    with at(date(2026, 6, 22)):
        service.confirm_signature(sent, "员工本人电话确认已从快递柜取件")
    state = service.case_service(served_case)
    assert (state.served_on, state.effective) == (date(2026, 6, 21), date(2026, 6, 25))
    assert open_todos(served_case) == []


def test_returned_from_a_confirmed_service_address_serves(served_case):
    notice = make_document(served_case, date(2026, 6, 18))
    with pytest.raises(service.ServiceRefused):
        dispatch(served_case, notice, date(2026, 6, 19), address_source="service_address",
                 confirmed_service_address=True)  # no note of the signed confirmation
    sent = dispatch(served_case, notice, date(2026, 6, 19), address_source="service_address",
                    confirmed_service_address=True, confirmation_note="入职时签署《送达地址确认书》")
    track(sent, date(2026, 6, 23), "returned", reason="not_collected")
    state = service.case_service(served_case)
    assert (state.served_on, state.effective) == (date(2026, 6, 23), date(2026, 6, 26))


def test_dispatched_before_national_day(served_case):
    sent = dispatch(served_case, make_document(served_case, date(2026, 9, 27)), date(2026, 9, 28))
    assert service.case_service(served_case).stated == date(2026, 10, 8)
    track(sent, date(2026, 9, 30), "delivered", signed_by="employee")
    assert service.case_service(served_case).effective == date(2026, 10, 8)


def test_a_later_date_stated_on_the_notice_is_kept(served_case):
    dispatch(served_case, make_document(served_case, date(2026, 6, 18), stated_deadline=date(2026, 6, 30)),
             date(2026, 6, 19))
    assert service.case_service(served_case).stated == date(2026, 6, 30)


def test_inconsistent_tracking_is_refused(served_case):
    sent = dispatch(served_case, make_document(served_case, date(2026, 6, 18)), date(2026, 6, 19))
    with pytest.raises(service.ServiceRefused):
        track(sent, date(2026, 6, 21), "delivered")  # who signed?
    with pytest.raises(service.ServiceRefused):
        track(sent, date(2026, 6, 21), "returned")  # why?
    with pytest.raises(service.ServiceRefused):
        track(sent, date(2026, 6, 18), "in_transit")  # before the dispatch
    track(sent, date(2026, 6, 21), "delivered", signed_by="employee")
    with pytest.raises(service.ServiceRefused):
        track(sent, date(2026, 6, 22), "returned", reason="other")  # settled already


def test_the_tick_marks_the_deadline_passed_once_its_day_has_ended(served_case):
    sent = dispatch(served_case, make_document(served_case, date(2026, 6, 18)), date(2026, 6, 19))
    track(sent, date(2026, 6, 21), "delivered", signed_by="employee")
    assert service_tick.mark_deadlines_passed(clock.as_utc(datetime(2026, 6, 25, 23, 59))) == 0
    assert service_tick.mark_deadlines_passed(clock.as_utc(datetime(2026, 6, 26, 0, 0))) == 1
    assert service_tick.mark_deadlines_passed(clock.as_utc(datetime(2026, 6, 26, 1, 0))) == 0
    assert kinds(served_case).count("absence.deadline_passed") == 1
    assert service.deadline_has_passed(served_case, clock.as_utc(datetime(2026, 6, 25, 23, 0)))[0] is False
    assert service.deadline_has_passed(served_case, clock.as_utc(datetime(2026, 6, 26, 0, 0))) == (True, None)


def test_nothing_passes_while_not_served(served_case):
    sent = dispatch(served_case, make_document(served_case, date(2026, 6, 18)), date(2026, 6, 19))
    track(sent, date(2026, 6, 23), "returned", reason="unclear_address")
    passed, why = service.deadline_has_passed(served_case, clock.as_utc(datetime(2026, 12, 1)))
    assert passed is False and "undelivered" in why
    assert service_tick.mark_deadlines_passed(clock.as_utc(datetime(2026, 12, 1))) == 0


def test_a_carriers_tracking_file_is_imported_all_or_nothing(served_case):
    sent = dispatch(served_case, make_document(served_case, date(2026, 6, 18)), date(2026, 6, 19))
    good = ("运单号,状态,日期,签收人,退回原因\n"
            "EA123456789CN,运输中,2026-06-20,,\nEA123456789CN,已签收,2026-06-21 15:02,本人,\n")
    bad = good + "EA999,运输中,2026-06-20,,\n"
    with at(date(2026, 6, 22)):
        with pytest.raises(InvalidRecords) as failed:
            tracking_file.import_tracking("ems.csv", bad.encode())
        assert [(e.row, e.field) for e in failed.value.errors] == [(4, "tracking_no")]
        assert db.session.get(Dispatch, sent.id).events == []
        assert tracking_file.import_tracking("ems.csv", good.encode()) == tracking_file.TrackingImport(2, 0)
        assert tracking_file.import_tracking("ems.csv", good.encode()) == tracking_file.TrackingImport(0, 2)
    state = service.case_service(served_case)
    assert (state.served_on, state.effective) == (date(2026, 6, 21), date(2026, 6, 25))


def test_the_scheduler_runs_the_service_tick(served_case):
    from lms import jobs

    sent = dispatch(served_case, make_document(served_case, date(2026, 6, 18)), date(2026, 6, 19))
    track(sent, date(2026, 6, 21), "delivered", signed_by="employee")
    jobs.run_tick(clock.as_utc(datetime(2026, 6, 26, 0, 5)).isoformat())
    assert kinds(served_case).count("absence.deadline_passed") == 1
