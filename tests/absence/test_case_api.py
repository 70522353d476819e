"""GET /api/v1/absence/cases, GET /cases/{id}, POST /cases/{id}/replies and POST /cases/{id}/decisions."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from lms import clock
from lms.people import services
from tests.absence.conftest import add_leave, everyone_present, run_ticks
from tests.conftest import auth


@pytest.fixture
def seed_case(absence_setup):
    org = absence_setup
    add_leave(org.learner, date(2026, 6, 1), date(2026, 6, 14))
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 19), but=[org.learner])
    run_ticks(datetime(2026, 6, 15, 10, 0), datetime(2026, 6, 18, 1, 0))
    return org


def test_the_case_reads_as_the_issue_describes(client, seed_case, hr_token):
    listing = client.get(f"/api/v1/absence/cases?employee_no={seed_case.learner.employee_no}", headers=auth(hr_token))
    assert listing.status_code == 200
    [summary] = listing.json["items"]
    case = client.get(f"/api/v1/absence/cases/{summary['id']}", headers=auth(hr_token)).json
    assert case["state"] == "threshold_reached"
    assert case["counted_days"] == ["2026-06-15", "2026-06-16", "2026-06-17"]
    assert case["threshold_reached_at"] == "2026-06-18T00:00:00+08:00"
    sent = {(m["step"], m["channel"], m["recipient_role"]): m["sent_at"] for m in case["messages"]}
    assert sent[("alert1", "sms", "employee")] is None or sent[("alert1", "sms", "employee")].startswith("2026-06-15")
    assert sent[("alert1", "inapp", "employee")] == "2026-06-15T11:00:00+08:00"
    assert sent[("alert2", "inapp", "manager")] == "2026-06-15T15:00:00+08:00"
    assert sent[("reminder:2026-06-17", "inapp", "hr")] == "2026-06-17T11:00:00+08:00"
    assert {m["recipient_role"] for m in case["messages"]} == {"employee", "manager", "hr"}
    assert [t["kind"] for t in case["todos"]] == ["call_employee", "prepare_return_notice"]
    assert case["documents"] == [] and case["dispatches"] == []
    assert case["notes"] == []


def test_a_reply_by_api_pauses_the_case_and_a_second_is_kept(client, absence_setup, hr_token):
    org = absence_setup
    add_leave(org.learner, date(2026, 6, 1), date(2026, 6, 14))
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 19), but=[org.learner])
    run_ticks(datetime(2026, 6, 15, 11, 0), datetime(2026, 6, 15, 12, 0))
    [summary] = client.get("/api/v1/absence/cases?state=open", headers=auth(hr_token)).json["items"]
    with clock.frozen(clock.as_utc(datetime(2026, 6, 15, 13, 0))):
        response = client.post(f"/api/v1/absence/cases/{summary['id']}/replies", headers=auth(hr_token),
                               json={"text": "我在医院，明天补假条", "channel": "api"})
    assert response.status_code == 201, response.json
    assert response.json["received_at"] == "2026-06-15T13:00:00+08:00"
    run_ticks(datetime(2026, 6, 15, 13, 0), datetime(2026, 6, 16, 12, 0))
    case = client.get(f"/api/v1/absence/cases/{summary['id']}", headers=auth(hr_token)).json
    assert case["paused"] is True
    steps = {s["step"]: (s["status"], s["skip_reason"]) for s in case["steps"]}
    assert steps["alert2"] == ("skipped", "paused")
    assert "reminder:2026-06-16" not in steps  # paused: no reminder is queued
    assert case["counted_days"] == ["2026-06-15"]  # the facts are still recorded
    assert [t["kind"] for t in case["todos"]] == ["decide_reply"]


def test_bad_replies_are_refused_with_the_reason(client, seed_case, hr_token):
    [summary] = client.get("/api/v1/absence/cases", headers=auth(hr_token)).json["items"]
    url = f"/api/v1/absence/cases/{summary['id']}/replies"
    assert client.post(url, headers=auth(hr_token), json={"channel": "api"}).status_code == 422
    assert client.post(url, headers=auth(hr_token), json={"text": "x", "channel": "fax"}).status_code == 422
    future = client.post(url, headers=auth(hr_token), json={"text": "x", "received_at": "2099-01-01T00:00"})
    assert future.status_code == 422 and "future" in future.json["error"]["message"]
    missing = client.post("/api/v1/absence/cases/999/replies", headers=auth(hr_token), json={"text": "x"})
    assert missing.status_code == 404 and missing.json["error"]["message"] == "No absence case 999."
    assert client.get("/api/v1/absence/cases?employee_no=NOPE", headers=auth(hr_token)).status_code == 404


def test_employee_tokens_may_not_read_cases(client, seed_case):
    token = services.issue_personal_token(seed_case.users["learner"])[1]
    assert client.get("/api/v1/absence/cases", headers=auth(token)).status_code == 403
    assert client.get("/api/v1/absence/cases").status_code == 401


def test_hr_notes_appear_in_the_case(client, login_as, seed_case, hr_token):
    [summary] = client.get("/api/v1/absence/cases", headers=auth(hr_token)).json["items"]
    with clock.frozen(clock.as_utc(datetime(2026, 6, 18, 9, 0))):
        login_as("hr").post(f"/absence/cases/{summary['id']}/notes", data={"text": "已致电紧急联系人，未接通"})
    case = client.get(f"/api/v1/absence/cases/{summary['id']}", headers=auth(hr_token)).json
    assert [(n["text"], n["at"]) for n in case["notes"]] == [("已致电紧急联系人，未接通", "2026-06-18T09:00:00+08:00")]
    assert case["notes"][0]["by"].startswith("user:")


def _replied(client, case_id: int, token: str) -> None:
    with clock.frozen(clock.as_utc(datetime(2026, 6, 18, 9, 0))):
        reply = client.post(f"/api/v1/absence/cases/{case_id}/replies", headers=auth(token),
                            json={"text": "家中急事，已回来上班", "channel": "phone"})
    assert reply.status_code == 201, reply.json


def test_hr_accepts_a_reply_by_api_and_the_days_become_leave(client, seed_case, hr_token):
    [summary] = client.get("/api/v1/absence/cases", headers=auth(hr_token)).json["items"]
    _replied(client, summary["id"], hr_token)
    with clock.frozen(clock.as_utc(datetime(2026, 6, 18, 10, 0))):
        response = client.post(f"/api/v1/absence/cases/{summary['id']}/decisions", headers=auth(hr_token),
                               json={"decision": "accept", "leave_type": "personal", "note": "补办事假"})
    assert response.status_code == 200, response.json
    case = response.json
    assert (case["state"], case["resolution"], case["paused"]) == ("resolved", "leave", False)
    assert case["counted_days"] == []
    assert [r["decision"] for r in case["replies"]] == ["accepted"]
    leaves = client.get(f"/api/v1/leaves?employee_no={seed_case.learner.employee_no}", headers=auth(hr_token)).json
    assert {(item["type"], item["start"], item["end"], item["approved_by"]) for item in leaves["items"]} >= {
        ("personal", "2026-06-15", "2026-06-17", "hris")}  # approved by the integration, named


def test_hr_warns_by_api_the_days_stay_counted_and_a_warning_goes_out(client, seed_case, hr_token):
    [summary] = client.get("/api/v1/absence/cases", headers=auth(hr_token)).json["items"]
    _replied(client, summary["id"], hr_token)
    with clock.frozen(clock.as_utc(datetime(2026, 6, 18, 10, 0))):
        case = client.post(f"/api/v1/absence/cases/{summary['id']}/decisions", headers=auth(hr_token),
                           json={"decision": "warn"}).json
    assert (case["state"], case["resolution"]) == ("resolved", "warned")
    assert case["counted_days"] == ["2026-06-15", "2026-06-16", "2026-06-17"]
    assert ("warning", "employee") in {(m["step"], m["recipient_role"]) for m in case["messages"]}


def test_a_decision_that_cannot_be_taken_is_refused_with_the_reason(client, seed_case, hr_token):
    [summary] = client.get("/api/v1/absence/cases", headers=auth(hr_token)).json["items"]
    url = f"/api/v1/absence/cases/{summary['id']}/decisions"
    nothing_waiting = client.post(url, headers=auth(hr_token), json={"decision": "continue"})
    assert nothing_waiting.status_code == 409 and nothing_waiting.json["error"]["message"]
    _replied(client, summary["id"], hr_token)
    assert client.post(url, headers=auth(hr_token), json={"decision": "forgive"}).status_code == 422
    wrong_type = client.post(url, headers=auth(hr_token), json={"decision": "warn", "leave_type": "sick"})
    assert wrong_type.status_code == 422 and "leave_type" in str(wrong_type.json)
    assert client.post("/api/v1/absence/cases/999/decisions", headers=auth(hr_token),
                       json={"decision": "continue"}).status_code == 404
    employee_token = services.issue_personal_token(seed_case.users["learner"])[1]
    assert client.post(url, headers=auth(employee_token), json={"decision": "accept"}).status_code == 403
    resumed = client.post(url, headers=auth(hr_token), json={"decision": "continue"}).json
    assert resumed["paused"] is False and resumed["state"] == "threshold_reached"


def test_the_case_lists_its_days_with_their_rule_version(client, seed_case, hr_token):
    [summary] = client.get("/api/v1/absence/cases", headers=auth(hr_token)).json["items"]
    case = client.get(f"/api/v1/absence/cases/{summary['id']}", headers=auth(hr_token)).json
    assert [(d["day"], d["status"], d["rule_version"], d["needs_confirmation"]) for d in case["days"]] == [
        (f"2026-06-{n}", "counted", "2026-01", False) for n in (15, 16, 17)]


def test_accepting_some_days_by_api_withdraws_the_threshold(client, seed_case, hr_token):
    [summary] = client.get("/api/v1/absence/cases", headers=auth(hr_token)).json["items"]
    url = f"/api/v1/absence/cases/{summary['id']}"
    with clock.frozen(clock.as_utc(datetime(2026, 6, 18, 9, 0))):
        assert client.post(f"{url}/replies", json={"text": "16号住院"}, headers=auth(hr_token)).status_code == 201
    wrong = client.post(f"{url}/decisions", json={"decision": "continue", "days": ["2026-06-16"]},
                        headers=auth(hr_token))
    assert wrong.status_code == 422 and wrong.json["error"]["field"] == "days"
    strange = client.post(f"{url}/decisions", json={"decision": "accept", "days": ["2026-06-19"]},
                          headers=auth(hr_token))
    assert strange.status_code == 409 and "2026-06-19" in strange.json["error"]["message"]
    with clock.frozen(clock.as_utc(datetime(2026, 6, 18, 10, 0))):
        done = client.post(f"{url}/decisions", json={"decision": "accept", "leave_type": "sick",
                                                     "days": ["2026-06-16"]}, headers=auth(hr_token))
    assert done.status_code == 200, done.json
    assert done.json["state"] == "reminded" and done.json["counted_days"] == ["2026-06-15", "2026-06-17"]
    assert done.json["threshold_reached_at"] is None
    assert "threshold_withdrawn" in [t["kind"] for t in done.json["todos"]]
