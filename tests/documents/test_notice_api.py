"""POST /api/v1/absence/cases/{id}/notices, GET /api/v1/documents/{id}(.pdf), the case's documents."""

from __future__ import annotations

from datetime import datetime

from lms.people import services as people
from tests.conftest import auth
from tests.documents.conftest import at, pdf_text


def _issue(client, case, token, **body):
    with at(datetime(2026, 6, 18, 10, 0)):
        return client.post(f"/api/v1/absence/cases/{case.id}/notices", headers=auth(token),
                           json={"kind": "return_to_work", **body})


def test_issue_by_api_read_it_and_download_the_pdf(client, seed_case, hr_token, org):
    response = _issue(client, seed_case, hr_token, dispatch_on="2026-06-19")
    assert response.status_code == 201, response.json
    body = response.json
    assert body["number"] == "RTW-2026-000001" and body["state"] == "issued" and body["kind"] == "return_to_work"
    assert body["stated_deadline"] == "2026-06-25" and body["issued_at"] == "2026-06-18T10:00:00+08:00"
    assert body["replaces"] is None and len(body["sha256"]) == 64
    assert client.get(f"/api/v1/documents/{body['id']}", headers=auth(hr_token)).json == body
    pdf = client.get(body["pdf_url"], headers=auth(hr_token))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = pdf_text(pdf.data).replace("\n", "")
    assert "王芳" in text and "2026年6月25日" in text and "2026年6月15日" in text
    case = client.get(f"/api/v1/absence/cases/{seed_case.id}", headers=auth(hr_token)).json
    assert [d["number"] for d in case["documents"]] == ["RTW-2026-000001"]
    assert [t["done_at"] is not None for t in case["todos"] if t["kind"] == "prepare_return_notice"] == [True]


def test_a_later_deadline_is_stated_an_earlier_one_is_422(client, seed_case, hr_token):
    early = _issue(client, seed_case, hr_token, dispatch_on="2026-06-19", deadline="2026-06-24")
    assert early.status_code == 422 and early.json["error"]["field"] == "deadline"
    later = _issue(client, seed_case, hr_token, dispatch_on="2026-06-19", deadline="2026-06-30")
    assert later.status_code == 201 and later.json["stated_deadline"] == "2026-06-30"
    correction = _issue(client, seed_case, hr_token, dispatch_on="2026-06-19", replaces=later.json["id"])
    assert correction.status_code == 201 and correction.json["replaces"] == later.json["id"]


def test_a_failing_precondition_is_409_with_the_reason(client, seed_case, hr_token, org):
    with at(datetime(2026, 6, 18, 9, 0)):
        client.post(f"/api/v1/absence/cases/{seed_case.id}/replies", headers=auth(hr_token), json={"text": "我病了"})
    response = _issue(client, seed_case, hr_token)
    assert response.status_code == 409 and "awaits HR" in response.json["error"]["message"]


def test_employee_tokens_may_not_issue_or_download(client, seed_case, hr_token, org):
    issued = _issue(client, seed_case, hr_token, dispatch_on="2026-06-19").json
    employee_token = people.issue_personal_token(org.users["learner"])[1]
    assert _issue(client, seed_case, employee_token).status_code == 403
    assert client.get(f"/api/v1/documents/{issued['id']}.pdf", headers=auth(employee_token)).status_code == 403
    assert client.get(f"/api/v1/documents/{issued['id']}.pdf").status_code == 401
