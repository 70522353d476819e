"""POST /api/v1/absence/cases/{id}/dispatches, POST /api/v1/dispatches/{id}/events, GET /api/v1/dispatches/{id},
POST /api/v1/absence/cases/{id}/public-notices, and the case detail's `dispatches` and `deadline`."""

from __future__ import annotations

import hashlib
import io
from datetime import date

from tests.absence.service_helpers import at, make_document, png
from tests.conftest import auth

SENT = {"method": "ems", "tracking_no": "EA123456789CN", "dispatched_at": "2026-06-19",
        "address_source": "contact_address", "address": "上海市浦东新区世纪大道100号", "addressee": "张三"}


def test_dispatch_deliver_and_read_the_deadline(client, served_case, hr_token):
    notice = make_document(served_case, date(2026, 6, 18))
    with at(date(2026, 6, 19)):
        created = client.post(f"/api/v1/absence/cases/{served_case.id}/dispatches", headers=auth(hr_token),
                              json={**SENT, "document_id": notice.id})
    assert created.status_code == 201, created.json
    assert (created.json["status"], created.json["served_at"], created.json["events"]) == ("pending", None, [])
    assert created.json["document_sha256"] == notice.sha256
    with at(date(2026, 6, 21)):
        delivered = client.post(f"/api/v1/dispatches/{created.json['id']}/events", headers=auth(hr_token),
                                json={"status": "delivered", "at": "2026-06-21", "signed_by": "employee"})
    assert delivered.status_code == 201, delivered.json
    assert (delivered.json["status"], delivered.json["served_at"]) == ("served", "2026-06-21")
    one = client.get(f"/api/v1/dispatches/{created.json['id']}", headers=auth(hr_token)).json
    assert [e["status"] for e in one["events"]] == ["delivered"]
    case = client.get(f"/api/v1/absence/cases/{served_case.id}", headers=auth(hr_token)).json
    assert case["deadline"]["stated"] == "2026-06-25"
    assert case["deadline"]["effective"] == "2026-06-25"
    assert case["deadline"]["served_at"] == "2026-06-21"
    assert "劳办发〔1995〕179号" in case["deadline"]["basis"]
    assert [d["status"] for d in case["dispatches"]] == ["served"]


def test_not_served_has_no_effective_deadline_and_says_why(client, served_case, hr_token):
    notice = make_document(served_case, date(2026, 6, 18))
    with at(date(2026, 6, 19)):
        created = client.post(f"/api/v1/absence/cases/{served_case.id}/dispatches", headers=auth(hr_token),
                              json={**SENT, "document_id": notice.id}).json
    with at(date(2026, 6, 23)):
        missing = client.post(f"/api/v1/dispatches/{created['id']}/events", headers=auth(hr_token),
                              json={"status": "returned", "at": "2026-06-23"})
        assert missing.status_code == 422  # a return needs its reason
        client.post(f"/api/v1/dispatches/{created['id']}/events", headers=auth(hr_token),
                    json={"status": "returned", "at": "2026-06-23", "reason": "no_such_person"})
    deadline = client.get(f"/api/v1/absence/cases/{served_case.id}", headers=auth(hr_token)).json["deadline"]
    assert deadline["effective"] is None and deadline["served_at"] is None
    assert deadline["why_not"] and deadline["next_action"] == "try_another_address"


def test_public_notice_is_refused_before_a_failed_attempt(client, served_case, hr_token):
    notice = make_document(served_case, date(2026, 6, 18))
    scan = png("解放日报 2026-06-19")
    uploaded = client.post("/api/v1/files", headers=auth(hr_token), content_type="multipart/form-data",
                           data={"file": (io.BytesIO(scan), "page.png")})
    assert uploaded.status_code == 201 and uploaded.json["sha256"] == hashlib.sha256(scan).hexdigest()
    body = {"document_id": notice.id, "published_at": "2026-06-19", "medium": "《解放日报》"}
    with at(date(2026, 6, 19)):
        no_scan = client.post(f"/api/v1/absence/cases/{served_case.id}/public-notices", headers=auth(hr_token),
                              json=body)
        assert no_scan.status_code == 422 and "scan_file_id" in str(no_scan.json)
        body["scan_file_id"] = uploaded.json["id"]
        refused = client.post(f"/api/v1/absence/cases/{served_case.id}/public-notices", headers=auth(hr_token),
                              json=body)
        assert refused.status_code == 409
        assert "劳办发" in refused.json["error"]["message"]
        accepted = client.post(f"/api/v1/absence/cases/{served_case.id}/public-notices", headers=auth(hr_token),
                               json={**body, "whereabouts_unknown_note": "派出所出具查无此人证明"})
    assert accepted.status_code == 201
    assert accepted.json["served_at"] == "2026-07-19"
    assert accepted.json["scan_sha256"] == hashlib.sha256(scan).hexdigest()


def test_upload_photos_and_cite_them_in_a_dispatch(client, served_case, hr_token):
    notice = make_document(served_case, date(2026, 6, 18))
    refused = client.post("/api/v1/files", headers=auth(hr_token), content_type="multipart/form-data",
                          data={"file": (io.BytesIO(b"<html>not a photo</html>"), "x.jpg")})
    assert refused.status_code == 422 and "JPEG, PNG or PDF" in refused.json["error"]["message"]
    assert client.post("/api/v1/files", headers=auth(hr_token), json={}).status_code == 422
    envelope = client.post("/api/v1/files", headers=auth(hr_token), content_type="multipart/form-data",
                           data={"file": (io.BytesIO(png("envelope")), "envelope.png")}).json
    with at(date(2026, 6, 19)):
        created = client.post(f"/api/v1/absence/cases/{served_case.id}/dispatches", headers=auth(hr_token),
                              json={**SENT, "document_id": notice.id,
                                    "photos": [{"file_id": envelope["id"], "role": "envelope"}]})
        assert created.status_code == 201, created.json
        assert created.json["photos"] == [{"role": "envelope", "file_id": envelope["id"],
                                           "sha256": envelope["sha256"]}]
        contents = client.post("/api/v1/files", headers=auth(hr_token), content_type="multipart/form-data",
                               data={"file": (io.BytesIO(png("contents")), "contents.png")}).json
        added = client.post(f"/api/v1/dispatches/{created.json['id']}/photos", headers=auth(hr_token),
                            json={"file_id": contents["id"], "role": "contents"})
        assert added.status_code == 201
        assert [p["role"] for p in added.json["photos"]] == ["envelope", "contents"]
        missing = client.post(f"/api/v1/dispatches/{created.json['id']}/photos", headers=auth(hr_token),
                              json={"file_id": 999_999, "role": "contents"})
        assert missing.status_code == 404


def test_a_document_of_another_case_is_not_found(client, served_case, hr_token):
    with at(date(2026, 6, 19)):
        response = client.post(f"/api/v1/absence/cases/{served_case.id}/dispatches", headers=auth(hr_token),
                               json={**SENT, "document_id": 999})
    assert response.status_code == 404


def test_the_service_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"/api/v1/absence/cases/{case_id}/dispatches", "/api/v1/dispatches/{dispatch_id}",
            "/api/v1/dispatches/{dispatch_id}/events", "/api/v1/absence/cases/{case_id}/public-notices"} <= set(paths)
