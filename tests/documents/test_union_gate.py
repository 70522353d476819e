"""The union gate (《劳动合同法》第四十三条) on the seed's case: notice issued 6.18, EMS 6.19, delivered to the
employee 6.21 → effective deadline 6.25. The union may be notified only after that day has ended; termination
may be confirmed once the receipt is on record and the union raised no objection, or objected and was
answered in writing, or did not answer within the waiting period (3 calendar days, the receipt's day
excluded)."""

from __future__ import annotations

import io
from datetime import datetime

import pytest

from lms.absence import union
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db
from tests.absence.service_helpers import png
from tests.conftest import auth
from tests.documents.conftest import at, local


def test_the_union_cannot_be_notified_before_the_effective_deadline_has_ended(past_deadline, org):
    with at(datetime(2026, 6, 25, 17, 0)), pytest.raises(union.UnionRefused, match="6-25|2026-06-25"):
        union.record_notice(past_deadline, at=local(2026, 6, 25, 17, 0), union_name="公司工会",
                            receipt_signed_by="李主席", actor=org.users["hr"])


def test_the_seed_receipt_then_no_objection_opens_the_gate(past_deadline, org):
    case = past_deadline
    with at(datetime(2026, 6, 26, 8, 0)):
        closed = union.gate(case)
    assert not closed.holds and "第四十三条" in closed.reasons[0]
    with at(datetime(2026, 6, 26, 9, 5)):
        union.record_notice(case, at=local(2026, 6, 26, 9, 0), union_name="公司工会", receipt_signed_by="李主席",
                            actor=org.users["hr"])
        waiting = union.gate(case)
    assert not waiting.holds and "第四十三条" in waiting.reasons[0]
    assert waiting.possible_from == local(2026, 6, 30, 0, 0)  # 6.27, 6.28, 6.29 have ended
    with at(datetime(2026, 6, 26, 15, 10)):
        union.record_opinion(case, at=local(2026, 6, 26, 15, 0), opinion="no_objection", actor=org.users["hr"])
        assert union.gate(case, local(2026, 6, 26, 14, 59)).holds is False  # the gate reads facts as of a time
        opened = union.gate(case, local(2026, 6, 26, 16, 0))
    assert opened.holds and opened.basis
    kinds = [e.kind for e in db.session.scalars(db.select(EvidenceEvent).where(
        body_field("kind").like("absence.union_%")).order_by(EvidenceEvent.seq))]
    assert kinds == ["absence.union_notice", "absence.union_opinion"]


def test_an_objection_holds_the_gate_until_the_written_reply(past_deadline, org):
    case = past_deadline
    with at(datetime(2026, 6, 26, 9, 5)):
        union.record_notice(case, at=local(2026, 6, 26, 9, 0), union_name="公司工会", receipt_signed_by="李主席",
                            actor=org.users["hr"])
    with at(datetime(2026, 6, 29, 11, 0)):
        with pytest.raises(union.UnionRefused):
            union.record_opinion(case, at=local(2026, 6, 29, 10, 0), opinion="objection", actor=org.users["hr"])
        union.record_opinion(case, at=local(2026, 6, 29, 10, 0), opinion="objection",
                             text="员工家属称其住院，请公司核实后再作决定", actor=org.users["hr"])
    # The waiting period ends 6.29 24:00, but the union did answer: its objection must be replied to.
    held = union.gate(case, local(2026, 6, 30, 9, 0))
    assert not held.holds and "written reply" in held.reasons[0]
    with at(datetime(2026, 6, 30, 14, 0)):
        union.record_reply(case, at=local(2026, 6, 30, 14, 0), text="经核实，员工6月15日至今未就医，公司维持决定",
                           actor=org.users["hr"])
    assert not union.gate(case, local(2026, 6, 30, 13, 59)).holds
    assert union.gate(case, local(2026, 6, 30, 14, 0)).holds


def test_no_answer_opens_the_gate_once_the_waiting_period_has_ended(past_deadline, org):
    case = past_deadline
    with at(datetime(2026, 6, 26, 9, 5)):
        union.record_notice(case, at=local(2026, 6, 26, 9, 0), union_name="公司工会", receipt_signed_by="李主席",
                            actor=org.users["hr"])
    assert not union.gate(case, local(2026, 6, 29, 23, 59)).holds
    assert union.gate(case, local(2026, 6, 30, 0, 0)).holds
    with pytest.raises(union.UnionRefused):
        with at(datetime(2026, 6, 30, 10, 0)):
            union.record_reply(case, at=local(2026, 6, 30, 10, 0), text="无异议无需答复", actor=org.users["hr"])


def test_the_api_records_the_steps_and_the_case_detail_shows_the_gate(client, past_deadline, hr_token):
    case = past_deadline
    with at(datetime(2026, 6, 25, 12, 0)):
        early = client.post(f"/api/v1/absence/cases/{case.id}/union-notice", headers=auth(hr_token), json={
            "notified_at": "2026-06-25T11:00", "union": "公司工会", "receipt_signed_by": "李主席"})
    assert early.status_code == 409
    with at(datetime(2026, 6, 26, 9, 30)):
        scan = client.post("/api/v1/files", headers=auth(hr_token), content_type="multipart/form-data",
                           data={"file": (io.BytesIO(png("工会签收回执")), "receipt.png")}).json
        noticed = client.post(f"/api/v1/absence/cases/{case.id}/union-notice", headers=auth(hr_token), json={
            "notified_at": "2026-06-26T09:00", "union": "公司工会", "receipt_signed_by": "李主席",
            "receipt_file_id": scan["id"]})
        assert noticed.status_code == 201, noticed.json
        assert noticed.json["records"][0]["receipt_sha256"] == scan["sha256"]
        assert noticed.json["gate"]["holds"] is False
        assert noticed.json["gate"]["possible_from"].startswith("2026-06-30T00:00")
        bad = client.post(f"/api/v1/absence/cases/{case.id}/union-opinion", headers=auth(hr_token),
                          json={"at": "yesterday", "opinion": "no_objection"})
        assert bad.status_code == 422
    with at(datetime(2026, 6, 26, 15, 30)):
        opinion = client.post(f"/api/v1/absence/cases/{case.id}/union-opinion", headers=auth(hr_token),
                              json={"at": "2026-06-26T15:00", "opinion": "no_objection"})
    assert opinion.status_code == 201 and opinion.json["gate"]["holds"] is True
    with at(datetime(2026, 6, 26, 16, 0)):
        detail = client.get(f"/api/v1/absence/cases/{case.id}", headers=auth(hr_token)).json
    assert [r["kind"] for r in detail["union"]["records"]] == ["notice", "opinion"]
    assert detail["union"]["gate"]["holds"] is True


def test_hr_records_the_union_steps_on_the_case_page(past_deadline, login_as):
    case = past_deadline
    hr = login_as("hr")
    with at(datetime(2026, 6, 25, 12, 0)):
        assert 'data-test="union"' not in hr.get(f"/absence/cases/{case.id}").get_data(as_text=True)
    with at(datetime(2026, 6, 26, 9, 30)):
        page = hr.get(f"/absence/cases/{case.id}").get_data(as_text=True)
        assert 'data-test="union-notice-form"' in page and "第四十三条" in page
        response = hr.post(f"/absence/cases/{case.id}/union/notice", content_type="multipart/form-data", data={
            "at": "2026-06-26T09:00", "union_name": "公司工会", "receipt_signed_by": "李主席",
            "receipt": (io.BytesIO(png("回执")), "receipt.png")})
        assert response.status_code == 302
        page = hr.get(f"/absence/cases/{case.id}").get_data(as_text=True)
    assert "receipt signed by 李主席" in page and "Termination not yet possible" in page
    with at(datetime(2026, 6, 29, 10, 30)):
        refused = hr.post(f"/absence/cases/{case.id}/union/opinion",
                          data={"at": "2026-06-29T10:00", "opinion": "objection", "text": ""})
        assert refused.status_code == 409
        hr.post(f"/absence/cases/{case.id}/union/opinion",
                data={"at": "2026-06-29T10:00", "opinion": "objection", "text": "请核实员工是否住院"})
        page = hr.get(f"/absence/cases/{case.id}").get_data(as_text=True)
    assert 'data-test="union-reply-form"' in page and "written reply first" in page
    with at(datetime(2026, 6, 30, 14, 5)):
        hr.post(f"/absence/cases/{case.id}/union/reply", data={"at": "2026-06-30T14:00", "text": "经核实未住院"})
        page = hr.get(f"/absence/cases/{case.id}").get_data(as_text=True)
    assert "Union gate passed" in page


def test_the_letter_to_the_union_states_the_reasons_and_the_intended_termination(client, past_deadline, hr_token,
                                                                                 login_as):
    from tests.documents.conftest import pdf_text

    case = past_deadline
    with at(datetime(2026, 6, 25, 12, 0)):
        early = client.post(f"/api/v1/absence/cases/{case.id}/union-letter", headers=auth(hr_token),
                            json={"union": "公司工会"})
    assert early.status_code == 409
    with at(datetime(2026, 6, 26, 8, 20)):
        before = login_as("hr").get(f"/absence/cases/{case.id}").get_data(as_text=True)
    draft = before[before.index('data-test="union-letter-draft"'):before.index("</pre>", before.index(
        'data-test="union-letter-draft"'))]
    assert "第四十三条" in draft and "2026年6月15日" in draft and "公司工会" in draft  # HR reads it before issuing
    with at(datetime(2026, 6, 26, 8, 30)):
        issued = client.post(f"/api/v1/absence/cases/{case.id}/union-letter", headers=auth(hr_token),
                             json={"union": "示例科技有限公司工会"})
        assert issued.status_code == 201, issued.json
        assert issued.json["kind"] == "union_notice" and issued.json["number"] == "UNN-2026-000001"
        pdf = client.get(issued.json["pdf_url"], headers=auth(hr_token)).data
        page = login_as("hr").get(f"/absence/cases/{case.id}").get_data(as_text=True)
    text = pdf_text(pdf).replace("\n", "")
    for needle in ("示例科技有限公司工会", "第四十三条", "第三十九条第（二）项", "2026年6月15日", "RTW-2026-000001",
                   "2026年6月25日", "3 日内"):
        assert needle in text, needle
    assert 'data-test="union-letters"' in page and "UNN-2026-000001" in page


def test_a_company_without_a_union_records_it_once_and_notifies_the_named_body(client, past_deadline, hr_token,
                                                                               login_as, app):
    case = past_deadline
    missing = client.post("/api/v1/company/no-union", headers=auth(hr_token), json={"note": ""})
    assert missing.status_code == 422
    recorded = client.post("/api/v1/company/no-union", headers=auth(hr_token),
                           json={"note": "经查询区总工会登记系统，本公司未成立工会（查询截图存档）"})
    assert recorded.status_code == 201 and recorded.json["notify_instead"] == "employee_representatives"
    assert client.post("/api/v1/company/no-union", headers=auth(hr_token), json={"note": "again"}).status_code == 409
    with at(datetime(2026, 6, 26, 8, 0)):
        gate = union.gate(case)
        page = login_as("hr").get(f"/absence/cases/{case.id}").get_data(as_text=True)
    assert "employees&#39; representatives" in page or "employees' representatives" in page
    assert "employees' representatives" in gate.reasons[0] and "第四十三条" in gate.reasons[0]
    assert 'data-test="no-union"' in page and 'data-test="no-union-form"' not in page
    with at(datetime(2026, 6, 26, 9, 5)):
        union.record_notice(case, at=local(2026, 6, 26, 9, 0), union_name="职工代表 陈静、赵磊",
                            receipt_signed_by="陈静", actor="test")
    assert union.gate(case, local(2026, 6, 30, 0, 0)).holds  # the same gate: the waiting period ended
