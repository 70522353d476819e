"""Electronic service (SPEC §4): a notice sent `electronic` is served the day the employee acknowledges it —
reads it in their own inbox, or replies — and not before; the dispatch to-do says by when to send it."""

from __future__ import annotations

import re
from datetime import date, datetime

from sqlalchemy import select

from lms.absence import notices, service, service_tick
from lms.absence.models import CaseTodo
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db
from lms.notify.models import Delivery, Message
from tests.documents.conftest import at


def _issue_and_send_electronically(case, org, sent_on: date):
    with at(datetime(2026, 6, 18, 10, 0)):
        document = notices.issue_return_notice(case, org.users["hr"], dispatch_on=date(2026, 6, 19))
    with at(datetime.combine(sent_on, datetime.min.time()).replace(hour=9)):
        dispatch = service.record_dispatch(case, document, method="electronic", dispatched_on=sent_on,
                                           addressee=case.employee.name, address="站内信", address_source="other",
                                           actor=org.users["hr"])
    return document, dispatch


def _inbox_delivery(document) -> Delivery:
    message = db.session.scalars(select(Message).where(Message.step_key.like(f"%notice:{document.number}%"))).one()
    return message.deliveries[0]


def test_read_in_the_employee_s_own_inbox_serves_it_that_day(seed_case, org, login_as):
    document, dispatch = _issue_and_send_electronically(seed_case, org, date(2026, 6, 19))
    with at(datetime(2026, 6, 19, 18, 0)):
        assert service_tick.acknowledge_electronic(datetime(2026, 6, 19, 10, 0)) == 0  # not read yet: nothing served
    assert service.case_service(seed_case).served is None
    hr = login_as("hr")
    assert hr.get(f"/inbox/{_inbox_delivery(document).id}").status_code == 404  # HR cannot read it for her
    with at(datetime(2026, 6, 20, 21, 15)):  # a Saturday evening, on her phone
        assert login_as("learner").get(f"/inbox/{_inbox_delivery(document).id}").status_code == 200
    with at(datetime(2026, 6, 20, 21, 30)):
        assert service_tick.acknowledge_electronic(datetime(2026, 6, 20, 21, 30)) == 1
        assert service_tick.acknowledge_electronic(datetime(2026, 6, 20, 21, 45)) == 0  # once
    db.session.expire_all()
    state = service.case_service(seed_case)
    assert (state.served_on, state.served.basis) == (date(2026, 6, 20), "electronic")
    # D = 6.19 + 3 + 3 = 6.25 (a Thursday); 6.20 + 3 = 6.23 is earlier: the effective deadline stays 6.25.
    assert (state.stated, state.effective) == (date(2026, 6, 25), date(2026, 6, 25))
    [event] = dispatch.events
    assert (event.status, event.signed_by, event.source) == ("delivered", "employee", "employee")
    served = db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "absence.served")).all()
    assert [e.payload["basis"] for e in served] == ["electronic"]


def test_a_reply_acknowledges_it_and_a_late_read_gives_a_later_deadline(seed_case, org, login_as):
    _document, dispatch = _issue_and_send_electronically(seed_case, org, date(2026, 6, 22))
    with at(datetime(2026, 6, 24, 8, 0)):
        reply = login_as("learner").post(f"/absence/my/cases/{seed_case.id}/reply", data={"text": "收到，我在老家"})
        assert reply.status_code == 200
        service_tick.acknowledge_electronic(datetime(2026, 6, 24, 8, 15))
    db.session.expire_all()
    state = service.case_service(seed_case)
    # D = 6.22 + 6 = 6.28, a Sunday → 6.29; served 6.24 + 3 = 6.27, a Saturday → 6.29.
    assert (state.served_on, state.stated, state.effective) == (date(2026, 6, 24), date(2026, 6, 29),
                                                                date(2026, 6, 29))
    assert dispatch.events[0].note and service.dispatch_service(dispatch).basis == "electronic"


def test_a_paper_dispatch_is_not_served_by_a_read_receipt(seed_case, org, login_as):
    with at(datetime(2026, 6, 18, 10, 0)):
        document = notices.issue_return_notice(seed_case, org.users["hr"], dispatch_on=date(2026, 6, 19))
    with at(datetime(2026, 6, 19, 9, 0)):
        service.record_dispatch(seed_case, document, method="ems", dispatched_on=date(2026, 6, 19),
                                addressee="王芳", address="上海市浦东新区世纪大道100号", address_source="other",
                                tracking_no="EA1", actor=org.users["hr"])
    with at(datetime(2026, 6, 20, 9, 0)):
        login_as("learner").get(f"/inbox/{_inbox_delivery(document).id}")
        assert service_tick.acknowledge_electronic(datetime(2026, 6, 20, 9, 5)) == 0
    assert service.case_service(seed_case).served is None


def test_the_dispatch_to_do_says_by_when_and_turns_overdue(seed_case, org, login_as):
    with at(datetime(2026, 6, 18, 10, 0)):
        notices.issue_return_notice(seed_case, org.users["hr"], dispatch_on=date(2026, 6, 19))
    [todo] = db.session.scalars(select(CaseTodo).where(CaseTodo.case_id == seed_case.id,
                                                       CaseTodo.kind == "dispatch_notice")).all()
    assert todo.due_on == date(2026, 6, 19) and todo.done_at is None
    hr = login_as("hr")
    with at(datetime(2026, 6, 19, 9, 0)):
        page = hr.get(f"/absence/cases/{seed_case.id}").get_data(as_text=True)
    due = re.search(r'data-test="todo-due" class="badge ([\w-]+)">([^<]+)<', page)
    assert due and due.groups() == ("status-pending", "by 6/19")
    with at(datetime(2026, 6, 22, 9, 0)):
        review = hr.get("/absence/").get_data(as_text=True)
    assert re.search(r'data-test="todo-due" class="badge status-overdue">by 6/19<', review)
