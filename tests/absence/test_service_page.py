"""The case page: HR records a dispatch, its tracking, confirms a locker signature and sees the service state
and the effective deadline in words; a public notice is refused before a failed attempt."""

from __future__ import annotations

import re
from datetime import date

from lms.absence.models import Dispatch, PublicNotice
from lms.extensions import db
from tests.absence.service_helpers import at, make_document


def test_hr_dispatches_and_tracks_on_the_case_page(login_as, served_case):
    notice = make_document(served_case, date(2026, 6, 18))
    hr = login_as("hr")
    with at(date(2026, 6, 19)):
        page = hr.get(f"/absence/cases/{served_case.id}").get_data(as_text=True)
        assert "has not been sent yet" in page and notice.number in page
        # The proposed address is preset (the contact address: no service address is confirmed yet).
        assert "上海市浦东新区世纪大道100号" in page
        response = hr.post(f"/absence/cases/{served_case.id}/dispatches", data={
            "document_id": notice.id, "method": "ems", "tracking_no": "EA1",
            "dispatched_on": "2026-06-19", "addressee": "学员", "address_source": "contact_address",
            "address": "上海市浦东新区世纪大道100号"})
        assert response.status_code == 302
    dispatch = db.session.scalar(db.select(Dispatch))
    with at(date(2026, 6, 21)):
        page = hr.get(f"/absence/cases/{served_case.id}").get_data(as_text=True)
        response = hr.post(f"/absence/cases/{served_case.id}/dispatches/{dispatch.id}/events", data={
            "status": "delivered", "day": "2026-06-21", "signed_by": "locker"})
        assert response.status_code == 302
        page = hr.get(f"/absence/cases/{served_case.id}").get_data(as_text=True)
        state = re.search(r'data-test="dispatch-state">(.*?)</p>', page, re.S)
        service_html = page[page.find('data-test="service"'):][:3000]
        assert state and "awaiting HR&#39;s confirmation" in state.group(1), service_html
        assert 'data-test="confirm-signature"' in page
        hr.post(f"/absence/cases/{served_case.id}/dispatches/{dispatch.id}/confirm",
                data={"note": "员工电话确认已取件"})
        page = hr.get(f"/absence/cases/{served_case.id}").get_data(as_text=True)
    assert "Served: 6/21, signed for by a parcel locker" in page
    assert "2026-06-25" in re.search(r'data-test="effective-deadline">(.*?)</dd>', page, re.S).group(1)


def test_an_early_public_notice_is_refused_on_the_page(login_as, served_case):
    notice = make_document(served_case, date(2026, 6, 18))
    hr = login_as("hr")
    with at(date(2026, 6, 19)):
        hr.get(f"/absence/cases/{served_case.id}").get_data(as_text=True)
        response = hr.post(f"/absence/cases/{served_case.id}/public-notices", data={
            "document_id": notice.id, "medium": "《解放日报》", "published_on": "2026-06-19"})
        assert response.status_code == 409
    assert db.session.scalar(db.select(PublicNotice)) is None
