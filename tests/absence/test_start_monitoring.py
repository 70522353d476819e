"""Switching absence monitoring on: a past date only when confirmed with a reason, dates within reach,
once; through the service, HR's review page, `flask absence monitor` and the API."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from lms import clock
from lms.absence import cases
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db
from tests.conftest import auth

TODAY = datetime(2026, 6, 15, 10, 0)  # a Monday, company-local


@pytest.fixture
def today(app):
    with clock.frozen(clock.as_utc(TODAY)):
        yield TODAY.date()


def started_events() -> list[EvidenceEvent]:
    return db.session.scalars(select(EvidenceEvent).where(
        body_field("kind") == "absence.monitoring_started")).all()


def refused(**kwargs) -> cases.MonitoringRefused:
    with pytest.raises(cases.MonitoringRefused) as caught:
        cases.start_monitoring(actor="test", **kwargs)
    assert cases.monitoring() is None and started_events() == []
    return caught.value


# ---------------------------------------------------------------- the service


def test_a_past_date_needs_the_confirmation_and_a_reason(today):
    error = refused(started_on=date(2026, 6, 1))
    assert error.field == "confirm_past"
    assert "2026-06-01 is in the past (today is 2026-06-15)" in str(error)
    assert refused(started_on=date(2026, 6, 14), confirm_past=True).field == "reason"
    assert refused(started_on=date(2026, 6, 14), confirm_past=True, reason="   ").field == "reason"
    assert refused(started_on=date(2026, 6, 14), confirm_past=True, reason="x" * 501).field == "reason"
    assert refused(started_on=date(2026, 6, 14), reason="打卡数据已导入").field == "confirm_past"


def test_a_confirmed_past_date_is_kept_with_its_reason_on_the_row_and_in_the_evidence(today, org):
    cases.start_monitoring(date(2026, 6, 1), org.users["hr"], confirm_past=True, reason="  6月的打卡数据已全部导入  ")
    db.session.expire_all()
    row = cases.monitoring()
    assert (row.started_on, row.is_past_confirmed) == (date(2026, 6, 1), True)
    assert row.past_reason == "6月的打卡数据已全部导入"
    assert row.started_by == f"user:{org.users['hr'].id}"
    [event] = started_events()
    assert event.payload == {"started_on": "2026-06-01", "confirm_past": True, "reason": "6月的打卡数据已全部导入"}
    assert event.actor == f"user:{org.users['hr'].id}"


@pytest.mark.parametrize("started_on", [date(2026, 6, 15), date(2026, 7, 1)])
def test_today_or_a_later_date_needs_no_confirmation(today, started_on):
    row = cases.start_monitoring(started_on, "test", confirm_past=True, reason="ignored: not a past date")
    assert (row.is_past_confirmed, row.past_reason) == (False, None)
    assert started_events()[0].payload == {"started_on": started_on.isoformat(), "confirm_past": False,
                                           "reason": None}


@pytest.mark.parametrize("started_on", [date(1899, 12, 31), date(2101, 1, 1), date(2025, 6, 13),
                                        date(2027, 6, 17), date(1, 1, 1)])
def test_dates_out_of_reach_are_refused_even_when_confirmed(today, started_on):
    error = refused(started_on=started_on, confirm_past=True, reason="迁移历史数据")
    assert error.field == "started_on"


def test_the_edges_of_the_reach_are_accepted(today):
    assert cases.check_monitoring_start(date(2025, 6, 14), confirm_past=True, reason="一年内") == "一年内"
    assert cases.check_monitoring_start(date(2027, 6, 16)) is None


def test_monitoring_is_switched_on_once(today):
    cases.start_monitoring(date(2026, 6, 15), "test")
    with pytest.raises(cases.MonitoringAlreadyOn, match="on since 2026-06-15"):
        cases.start_monitoring(date(2026, 6, 16), "test")
    assert len(started_events()) == 1


# ---------------------------------------------------------------- HR's review page


def test_the_review_page_shows_the_confirmation_and_refuses_a_past_date_without_it(today, login_as):
    client = login_as("hr")
    page = client.get("/absence/").get_data(as_text=True)
    assert 'name="confirm_past"' in page and 'type="checkbox"' in page and 'name="reason"' in page
    assert "before today (2026-06-15)" in page

    response = client.post("/absence/", data={"started_on": "2026-06-01"})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "2026-06-01 is in the past" in page and 'class="field has-error"' in page
    response = client.post("/absence/", data={"started_on": "2026-06-01", "confirm_past": "y"})
    assert response.status_code == 422 and "Say why monitoring starts on a past date." in response.get_data(
        as_text=True)
    response = client.post("/absence/", data={"started_on": "2024-06-01", "confirm_past": "y", "reason": "x"})
    assert response.status_code == 422 and "more than a year ago" in response.get_data(as_text=True)
    assert cases.monitoring() is None

    response = client.post("/absence/", data={"started_on": "2026-06-01", "confirm_past": "y",
                                              "reason": "打卡数据已导入"}, follow_redirects=True)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "monitoring is on from 2026-06-01" in page
    assert 'data-test="monitoring-past"' in page and "打卡数据已导入" in page
    assert cases.monitoring().is_past_confirmed


def test_the_review_page_starts_today_without_a_confirmation(today, login_as):
    response = login_as("hr").post("/absence/", data={"started_on": "2026-06-15"})
    assert response.status_code == 302
    assert cases.monitoring().started_on == date(2026, 6, 15) and not cases.monitoring().is_past_confirmed


# ---------------------------------------------------------------- flask absence monitor


def test_flask_absence_monitor(today, runner):
    result = runner.invoke(args=["absence", "monitor", "--from", "2026-06-01"])
    assert result.exit_code == 2 and "--confirm-past" in result.output and "in the past" in result.output
    result = runner.invoke(args=["absence", "monitor", "--from", "2026-06-01", "--confirm-past"])
    assert result.exit_code == 2 and "--reason" in result.output
    result = runner.invoke(args=["absence", "monitor", "--from", "June"])
    assert result.exit_code == 2 and "--from" in result.output
    assert cases.monitoring() is None

    result = runner.invoke(args=["absence", "monitor", "--from", "2026-06-01", "--confirm-past",
                                 "--reason", "打卡数据已导入"])
    assert result.exit_code == 0, result.output
    assert "on from 2026-06-01 (a past date, confirmed: 打卡数据已导入)" in result.output
    assert cases.monitoring().started_by.startswith("cli")
    again = runner.invoke(args=["absence", "monitor", "--from", "2026-06-15"])
    assert again.exit_code == 1 and "on since 2026-06-01" in again.output


# ---------------------------------------------------------------- the API


def test_the_monitoring_api(today, client, hr_token):
    state = client.get("/api/v1/absence/monitoring", headers=auth(hr_token))
    assert state.status_code == 200 and state.json["on"] is False and state.json["started_on"] is None

    response = client.post("/api/v1/absence/monitoring", headers=auth(hr_token), json={"started_on": "2026-06-01"})
    assert response.status_code == 422 and response.json["error"]["field"] == "confirm_past"
    response = client.post("/api/v1/absence/monitoring", headers=auth(hr_token),
                           json={"started_on": "2026-06-01", "confirm_past": True})
    assert response.status_code == 422 and response.json["error"]["field"] == "reason"
    response = client.post("/api/v1/absence/monitoring", headers=auth(hr_token), json={"started_on": "2026-13-01"})
    assert response.status_code == 422 and response.json["error"]["field"] == "started_on"
    response = client.post("/api/v1/absence/monitoring", headers=auth(hr_token), json={"started_on": "2101-01-01"})
    assert response.status_code == 422 and response.json["error"]["field"] == "started_on"
    assert client.post("/api/v1/absence/monitoring", json={"started_on": "2026-06-15"}).status_code == 401

    response = client.post("/api/v1/absence/monitoring", headers=auth(hr_token),
                           json={"started_on": "2026-06-01", "confirm_past": True, "reason": "打卡数据已导入"})
    assert response.status_code == 201, response.json
    token_id = started_events()[0].actor
    assert response.json == {"on": True, "started_on": "2026-06-01", "started_by": token_id,
                             "started_at": "2026-06-15T10:00:00+08:00", "confirm_past": True,
                             "reason": "打卡数据已导入", "closed_through": None}
    assert token_id.startswith("api-token:")
    again = client.post("/api/v1/absence/monitoring", headers=auth(hr_token), json={"started_on": "2026-06-15"})
    assert again.status_code == 409 and "on since 2026-06-01" in again.json["error"]["message"]
    assert client.get("/api/v1/absence/monitoring", headers=auth(hr_token)).json == response.json


def test_the_openapi_document_describes_monitoring(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/absence/monitoring"])
