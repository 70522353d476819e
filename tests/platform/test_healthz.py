"""/healthz: ok, or degraded with a stable code and a message per reason; the same reasons as a banner
for HR and admins on every page; 503 only when the database cannot be reached."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import text

from lms import clock, create_app, jobs
from lms.absence import calendar, cases
from lms.evidence.models import EvidenceVerification
from lms.evidence.services import verify_chain
from lms.extensions import db
from tests.conftest import guards_lifted, make_test_config

NOW = datetime(2026, 6, 15, 10, 0)  # company-local; the small content tree's rules are in force since 2026-02-01


def at(moment: datetime):
    return clock.frozen(clock.as_utc(moment))


def beat(moment: datetime = NOW) -> None:
    db.session.merge(jobs.TickRun(handler=jobs.SCHEDULER, last_run_at=clock.as_utc(moment)))
    db.session.commit()


@pytest.fixture
def healthy(app, org, content):
    """Rules in force, monitoring on, the calendar known, the scheduler alive, the evidence verified."""
    content.sync()
    with at(NOW - timedelta(hours=1)):
        cases.start_monitoring(date(2026, 6, 15), "test")
        verify_chain()
    beat()
    return org


def health(client) -> tuple[int, dict]:
    with at(NOW):
        response = client.get("/healthz")
    return response.status_code, response.json


def codes(client) -> list[str]:
    status, body = health(client)
    assert status == 200
    return [reason["code"] for reason in body.get("reasons", [])]


def test_all_is_well(healthy, client):
    assert health(client) == (200, {"status": "ok", "rate_limit_storage": "memory"})


def test_nothing_set_up_reports_every_reason_in_order(app, client):
    status, body = health(client)
    assert status == 200 and body["status"] == "degraded"
    assert [r["code"] for r in body["reasons"]] == ["no_rules", "monitoring_off", "scheduler_stale",
                                                    "evidence_unverified"]
    assert all(r["message"] for r in body["reasons"])


def test_no_rule_set_in_force(app, org, content, client):
    content.sync()
    with at(datetime(2026, 1, 21, 10, 0)):
        cases.start_monitoring(date(2026, 1, 21), "test")
        verify_chain()
    beat(datetime(2026, 1, 21, 10, 0))
    with at(datetime(2026, 1, 21, 10, 1)):
        body = client.get("/healthz").json
    assert [r["code"] for r in body["reasons"]] == ["no_rules"]
    assert "No rule set is in force today (2026-01-21)" in body["reasons"][0]["message"]
    assert "2026-02-01" in body["reasons"][0]["message"]
    assert body["reasons"][0]["next_effective_from"] == "2026-02-01"


def test_monitoring_off(app, org, content, client):
    content.sync()
    with at(NOW - timedelta(hours=1)):
        verify_chain()
    beat()
    assert codes(client) == ["monitoring_off"]


def test_calendar_unknown_names_the_first_unknown_date(healthy, client):
    december = datetime(2026, 12, 10, 10, 0)
    with at(december - timedelta(minutes=1)):
        verify_chain()
    beat(december)
    with at(december):
        body = client.get("/healthz").json
    assert [r["code"] for r in body["reasons"]] == ["calendar_unknown"]
    assert body["reasons"][0]["date"] == "2027-01-01" and "2027-01-01" in body["reasons"][0]["message"]
    with at(december):
        calendar.enter_year(2027, "2027-01-01 休 元旦", "国办发明电〔2026〕X号", "test")
        assert client.get("/healthz").json == {"status": "ok", "rate_limit_storage": "memory"}


def test_scheduler_missing_or_stale(healthy, client):
    beat(NOW - timedelta(minutes=4))
    assert codes(client) == []
    beat(NOW - timedelta(minutes=6))
    status, body = health(client)
    assert [r["code"] for r in body["reasons"]] == ["scheduler_stale"] and "2026-06-15 09:54" in body["reasons"][0][
        "message"]
    db.session.delete(db.session.get(jobs.TickRun, jobs.SCHEDULER))
    db.session.commit()
    assert codes(client) == ["scheduler_stale"]


def test_evidence_unverified_for_more_than_a_day_or_broken(healthy, client):
    with guards_lifted() as conn:  # back to a log never verified: no verification, nor its event
        conn.execute(EvidenceVerification.__table__.delete())
        conn.execute(text("DELETE FROM evidence_event WHERE seq = (SELECT MAX(seq) FROM evidence_event)"))
    status, body = health(client)
    assert [r["code"] for r in body["reasons"]] == ["evidence_unverified"] and "never" in body["reasons"][0]["message"]
    with at(NOW - timedelta(hours=25)):
        verify_chain()
    assert codes(client) == ["evidence_unverified"]
    with at(NOW - timedelta(hours=23)):
        verify_chain()
    assert codes(client) == []
    db.session.add(EvidenceVerification(verified_at=clock.as_utc(NOW - timedelta(hours=1)), chain_length=3,
                                        head_hash="0" * 64, is_intact=False, broken_seq=2, problem="hash differs",
                                        seconds=0.1))
    db.session.commit()
    status, body = health(client)
    assert [r["code"] for r in body["reasons"]] == ["evidence_broken"]  # the intact one 23 h ago still counts
    assert "event 2" in body["reasons"][0]["message"]


def test_a_failed_tick_handler_is_named(healthy, client):
    jobs.tick_handler("test.broken")(lambda now: 1 / 0)
    try:
        with at(NOW):
            assert jobs.run_tick().failed == ["test.broken"]
    finally:
        jobs.unregister("test.broken")
    status, body = health(client)
    assert [r["code"] for r in body["reasons"]] == ["tick_failed"]
    assert body["reasons"][0]["handler"] == "test.broken" and "test.broken" in body["reasons"][0]["message"]
    assert "ZeroDivisionError" not in str(body)  # the error stays in the log and the table, not on a public page


def test_no_personal_data_and_chinese_on_request(app, org, client):
    with at(NOW):
        body = client.get("/healthz", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).json
    messages = " ".join(reason["message"] for reason in body["reasons"])
    assert "考勤监控尚未开启" in messages
    for person in (org.learner, org.manager, org.hr_officer):
        assert person.name not in str(body) and person.employee_no not in str(body)


def test_database_unreachable_is_503(tmp_path):
    app = create_app(make_test_config(f"sqlite:///{tmp_path / 'missing' / 'no.sqlite3'}"))
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["status"] == "down" and response.json["reasons"][0]["code"] == "database_unreachable"


def test_liveness_stays_a_plain_200(app, client):
    response = client.get("/livez")
    assert response.status_code == 200 and response.json == {"status": "ok"}


# ---------------------------------------------------------------- the banner


def test_hr_and_admins_see_the_reasons_on_every_page_employees_do_not(app, org, login_as):
    hr = login_as("hr")
    with at(NOW):
        for path in ("/", "/absence/", "/people/employees"):
            page = hr.get(path).get_data(as_text=True)
            assert 'data-test="health-banner"' in page, path
            assert 'data-test="health-monitoring_off"' in page and 'data-test="health-no_rules"' in page
        assert 'data-test="health-banner"' in login_as("admin").get("/").get_data(as_text=True)
        for who in ("learner", "manager"):
            assert 'data-test="health-banner"' not in login_as(who).get("/").get_data(as_text=True)


def test_the_banner_is_translated_and_links_where_to_fix_it(app, org, login_as):
    hr = login_as("hr")
    hr.post("/language", data={"locale": "zh_CN"})
    with at(NOW):
        page = hr.get("/").get_data(as_text=True)
    assert "需要处理" in page and "考勤监控尚未开启" in page
    assert 'href="/absence/"' in page and 'href="/evidence/"' in page


def test_no_banner_when_all_is_well(healthy, login_as):
    with at(NOW):
        page = login_as("hr").get("/absence/").get_data(as_text=True)
    assert 'data-test="health-banner"' not in page
