"""My details and the service address: confirmation stored like an attestation, a changed address asks
for a new one (the old stays), and notices go to the confirmed address first."""

from __future__ import annotations

import hashlib
from datetime import date, datetime

from sqlalchemy import select

from lms import clock
from lms.absence import service
from lms.extensions import db
from lms.requests.models import ServiceAddressConfirmation
from tests.absence.service_helpers import make_document


def test_confirming_then_changing_the_address_asks_again_and_keeps_the_old(client, token_of, selfservice):
    at = datetime(2026, 6, 1, 9, 0)
    with clock.frozen(at):
        headers = token_of("learner", at)
        me = client.patch("/api/v1/me", headers=headers,
                          json={"contact_address": "上海市浦东新区世纪大道100号"}).get_json()
        assert me["needs_confirmation"] is True and me["national_id_masked"].startswith("110")
        assert "1990" not in me["national_id_masked"]
        confirmed = client.post("/api/v1/me/service-address/confirmation", headers={**headers, "User-Agent": "phone"},
                                json={"text_sha256": me["confirmation_text_sha256"]})
    assert confirmed.status_code == 201, confirmed.get_json()
    row = db.session.scalars(select(ServiceAddressConfirmation)).one()
    assert row.text_sha256 == hashlib.sha256(row.text_shown.encode()).hexdigest() == me["confirmation_text_sha256"]
    assert "世纪大道100号" in row.text_shown and "counts as served" in row.text_shown
    assert row.user_agent == "phone" and row.ip and row.evidence_seq
    later = datetime(2026, 6, 20, 9, 0)
    with clock.frozen(later):
        headers = token_of("learner", later)
        me = client.patch("/api/v1/me", headers=headers, json={"contact_address": "上海市徐汇区漕溪北路1号"}).get_json()
        stale = client.post("/api/v1/me/service-address/confirmation", headers=headers,
                            json={"text_sha256": row.text_sha256})
    assert me["needs_confirmation"] is True and me["service_address"] is None
    assert stale.status_code == 409  # the text shown before the change is not the text for the new address
    rows = db.session.scalars(select(ServiceAddressConfirmation)).all()
    assert len(rows) == 1 and rows[0].superseded_why == "address_changed"  # kept on record


def test_my_details_page_masks_the_id_and_confirms(login_as, selfservice):
    client = login_as("learner")
    client.post("/requests/details", data={"mobile": "13812345678", "email": "wang@example.cn",
                                           "contact_address": "上海市浦东新区世纪大道100号",
                                           "emergency_name": "王父", "emergency_relation": "父亲",
                                           "emergency_phone": "13900000000"})
    page = client.get("/requests/details").get_data(as_text=True)
    assert 'data-test="needs-confirmation"' in page and "110105199003071239" not in page
    digest = page.split('name="text_sha256" type="hidden" value="')[1].split('"')[0]
    client.post("/requests/details/confirm", data={"text_sha256": digest})
    page = client.get("/requests/details").get_data(as_text=True)
    assert 'data-test="confirmed"' in page and 'data-test="needs-confirmation"' not in page


def test_a_notice_returned_from_the_confirmed_address_counts_as_served(app, served_case, org, login_as):
    from lms.requests import address
    with clock.frozen(datetime(2026, 6, 1, 9, 0)):
        address.confirm_in_app(org.learner, "zh_CN", None, "10.0.0.1", "phone")
    document = make_document(served_case, date(2026, 6, 19))
    state = service.case_service(served_case)
    assert state.next_address == "service_address"
    with clock.frozen(datetime(2026, 6, 19, 10, 0)):
        dispatch = service.record_dispatch(served_case, document, method="ems", dispatched_on=date(2026, 6, 19),
                                           addressee="王芳", address="上海市浦东新区世纪大道100号",
                                           address_source="service_address", tracking_no="EA1")
    assert dispatch.confirmed_service_address is True and "在系统中确认" in dispatch.confirmation_note
    with clock.frozen(datetime(2026, 6, 24, 10, 0)):
        service.record_tracking(dispatch, status="returned_to_sender", day=date(2026, 6, 23), reason="no_such_person")
    answer = service.dispatch_service(dispatch)
    assert answer.state == "served" and answer.basis == "confirmed_service_address"


def test_a_new_hire_is_asked_to_confirm_on_the_start_page(app, login_as, selfservice, make_employee, make_user):
    newbie = make_employee("赵晨", manager=selfservice.manager, status="onboarding",
                           contact_address="上海市闵行区莘庄1号")
    make_user("newbie", "employee", newbie)
    client = login_as("newbie")
    assert 'data-test="confirm-service-address"' in client.get("/").get_data(as_text=True)
    page = client.get("/requests/details").get_data(as_text=True)
    digest = page.split('name="text_sha256" type="hidden" value="')[1].split('"')[0]
    client.post("/requests/details/confirm", data={"text_sha256": digest})
    assert 'data-test="confirm-service-address"' not in client.get("/").get_data(as_text=True)
