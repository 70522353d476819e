"""The case page: HR records a dispatch, its tracking, confirms a locker signature and sees the service state
and the effective deadline in words; a public notice is refused before a failed attempt."""

from __future__ import annotations

import hashlib
import io
import re
from datetime import date

from lms.absence.models import Dispatch, DispatchPhoto, PublicNotice
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db
from tests.absence.service_helpers import at, make_document, png


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
        without_scan = hr.post(f"/absence/cases/{served_case.id}/public-notices", data={
            "document_id": notice.id, "medium": "《解放日报》", "published_on": "2026-06-19"})
        assert without_scan.status_code == 422
        response = hr.post(f"/absence/cases/{served_case.id}/public-notices", data={
            "document_id": notice.id, "medium": "《解放日报》", "published_on": "2026-06-19",
            "scan": (io.BytesIO(png("解放日报")), "page.png")}, content_type="multipart/form-data")
        assert response.status_code == 409
    assert db.session.scalar(db.select(PublicNotice)) is None


SENT = {"method": "ems", "tracking_no": "EA1", "dispatched_on": "2026-06-19", "addressee": "学员",
        "address_source": "contact_address", "address": "上海市浦东新区世纪大道100号"}


def test_photos_of_the_envelope_are_kept_hashed_and_shown(login_as, served_case):
    notice = make_document(served_case, date(2026, 6, 18))
    hr = login_as("hr")
    envelope = png("sealed envelope")
    with at(date(2026, 6, 19)):
        response = hr.post(f"/absence/cases/{served_case.id}/dispatches", content_type="multipart/form-data", data={
            **SENT, "document_id": notice.id, "envelope_photo": (io.BytesIO(envelope), "IMG_0412.png")})
        assert response.status_code == 302
        dispatch = db.session.scalar(db.select(Dispatch))
        contents = png("notice in the envelope")
        added = hr.post(f"/absence/cases/{served_case.id}/dispatches/{dispatch.id}/photos",
                        content_type="multipart/form-data",
                        data={"role": "contents", "photo": (io.BytesIO(contents), "IMG_0411.png")})
        assert added.status_code == 302
        page = hr.get(f"/absence/cases/{served_case.id}").get_data(as_text=True)
    photos = db.session.scalars(db.select(DispatchPhoto).order_by(DispatchPhoto.id)).all()
    assert [(p.role, p.file.sha256) for p in photos] == [("envelope", hashlib.sha256(envelope).hexdigest()),
                                                        ("contents", hashlib.sha256(contents).hexdigest())]
    assert "photo of the sealed envelope" in page and hashlib.sha256(envelope).hexdigest()[:16] in page
    shown = hr.get(f"/absence/cases/{served_case.id}/files/{photos[0].file_id}")
    assert shown.status_code == 200 and shown.data == envelope and shown.mimetype == "image/png"
    assert hr.get(f"/absence/cases/{served_case.id + 1}/files/{photos[0].file_id}").status_code == 404
    assert login_as("manager").get(f"/absence/cases/{served_case.id}/files/{photos[0].file_id}").status_code == 403
    events = {e.kind: e.payload for e in db.session.scalars(db.select(EvidenceEvent).where(
        body_field("kind").in_(["absence.dispatched", "absence.dispatch_photo"])))}
    assert events["absence.dispatched"]["photos"][0]["sha256"] == hashlib.sha256(envelope).hexdigest()
    assert events["absence.dispatch_photo"]["sha256"] == hashlib.sha256(contents).hexdigest()


def test_a_photo_that_is_not_a_picture_is_refused_and_nothing_is_kept(login_as, served_case):
    notice = make_document(served_case, date(2026, 6, 18))
    hr = login_as("hr")
    with at(date(2026, 6, 19)):
        response = hr.post(f"/absence/cases/{served_case.id}/dispatches", content_type="multipart/form-data", data={
            **SENT, "document_id": notice.id, "envelope_photo": (io.BytesIO(b"just some text"), "envelope.png")})
        assert response.status_code == 409
        page = response.get_data(as_text=True)  # the page itself, the form as it was sent
    assert "is not a JPEG, PNG or PDF file" in page
    assert db.session.scalar(db.select(Dispatch)) is None
