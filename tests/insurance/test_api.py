"""The insurance and payroll API (issue 15): city rules, the stop and its filing, the settlement, the ledger."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from lms.extensions import db
from lms.insurance.models import CityRule
from tests.conftest import auth
from tests.insurance.conftest import RATES, absent, at, days, end


def test_hr_puts_a_city_rule_and_reads_it_back_under_either_spelling(client, hr_token, org):
    with at(2026, 3, 2, 10, 0):
        put = client.put("/api/v1/insurance/cities/上海市", headers=auth(hr_token), json={
            "cutoff_day": 20, "cutoff_inclusive": False, "rates": RATES, "base_floor": "7384",
            "base_ceiling": "36921", "minimum_wage": "2740", "source": "上海市人社局通知", "checked_on": "2026-03-01",
            "valid_from": "2026-01-01"})
        assert put.status_code == 200, put.json
        got = client.get("/api/v1/insurance/cities/上海", headers=auth(hr_token))
    assert got.status_code == 200
    body = got.json
    assert (body["city"], body["cutoff_day"], body["cutoff_inclusive"], body["verified"]) == ("上海", 20, False, True)
    assert body["rates"]["pension"] == {"employer": "16", "personal": "8"}
    assert body["rates"]["work_injury"] == {"employer": "0.4"}
    assert body["base_floor"] == "7384.00" and body["warnings"] == []


def test_the_shipped_beijing_rule_is_unverified_until_hr_confirms_it(client, hr_token, org):
    with at(2026, 3, 2, 10, 0):
        shipped = client.get("/api/v1/insurance/cities/北京", headers=auth(hr_token)).json
        client.put("/api/v1/insurance/cities/北京", headers=auth(hr_token), json={
            "cutoff_day": 15, "source": "北京市社保中心电话确认", "checked_on": "2026-03-02"})
        confirmed = client.get("/api/v1/insurance/cities/北京市", headers=auth(hr_token)).json
    assert (shipped["cutoff_day"], shipped["verified"]) == (15, False)
    assert shipped["warnings"] and "unverified" in shipped["warnings"][0]
    assert (confirmed["verified"], confirmed["warnings"], confirmed["checked_on"]) == (True, [], "2026-03-02")
    # History is kept: the shipped row is still there.
    assert len(db.session.scalars(select(CityRule).where(CityRule.city == "北京")).all()) == 2


def test_bad_rules_are_refused_with_the_field_named_and_nothing_written(client, hr_token, org):
    before = db.session.query(CityRule).count()
    for body, field in (({"cutoff_day": 32, "source": "x"}, "cutoff_day"),
                        ({"cutoff_day": 10}, "source"),
                        ({"cutoff_day": 10, "source": "x", "rates": {"pension": {"employer": "120"}}}, "rates"),
                        ({"cutoff_day": 10, "source": "x", "base_floor": "9000", "base_ceiling": "8000"},
                         "base_floor"),
                        ({"cutoff_day": 10, "source": "x", "checked_on": "2099-01-01"}, "checked_on")):
        with at(2026, 3, 2, 10, 0):
            response = client.put("/api/v1/insurance/cities/广州", headers=auth(hr_token), json=body)
        assert response.status_code == 422, (body, response.json)
        assert field in str(response.json["error"]), (field, response.json)
    assert db.session.query(CityRule).count() == before
    assert client.get("/api/v1/insurance/cities/广州", headers=auth(hr_token)).status_code == 404


def test_the_stop_its_filing_and_the_settlement_through_the_api(client, hr_token, app, wang, beijing):
    absent(wang, days("6.15-6.18, 6.22-6.26, 6.29"))
    end(wang, date(2026, 6, 29))
    number = wang.employee_no
    with at(2026, 7, 6, 10, 0):
        stop = client.get(f"/api/v1/employees/{number}/social-insurance", headers=auth(hr_token))
        upload = client.post("/api/v1/files", headers=auth(hr_token),
                             data={"file": (__import__("io").BytesIO(b"%PDF-1.4 receipt"), "receipt.pdf")})
        filed = client.post(f"/api/v1/employees/{number}/social-insurance/filings", headers=auth(hr_token),
                            json={"filed_on": "2026-07-06", "receipt": upload.json["id"]})
        again = client.post(f"/api/v1/employees/{number}/social-insurance/filings", headers=auth(hr_token),
                            json={"filed_on": "2026-07-06"})
        future = client.post(f"/api/v1/employees/{number}/social-insurance/filings", headers=auth(hr_token),
                             json={"filed_on": "2026-07-07"})
        settlement = client.get(f"/api/v1/employees/{number}/settlement", headers=auth(hr_token))
        ledger = client.get("/api/v1/payroll/ledger?month=2026-06", headers=auth(hr_token))
        csv = client.get("/api/v1/payroll/ledger?month=2026-06&format=csv", headers=auth(hr_token))
        bad_month = client.get("/api/v1/payroll/ledger?month=2026-13", headers=auth(hr_token))
    assert stop.status_code == 200
    assert {k: stop.json[k] for k in ("city", "policy", "last_paid_month", "stop_from", "filing_due", "filed_on")} == {
        "city": "北京", "policy": "pay_final_month", "last_paid_month": "2026-06", "stop_from": "2026-07",
        "filing_due": "2026-07-15", "filed_on": None}
    assert filed.status_code == 201 and filed.json["filed_on"] == "2026-07-06"
    assert again.status_code in (409, 422) and future.status_code in (409, 422)
    assert settlement.status_code == 200
    assert settlement.json["total"] == "4986.50"
    assert {line["kind"]: line["amount"] for line in settlement.json["lines"]} == {
        "wages": "8300.00", "unpaid_absence": "-4000.00", "annual_leave": "1600.00", "si_personal": "-913.50"}
    assert ledger.status_code == 200 and ledger.json["totals"]["final_settlement"] == "4986.50"
    assert csv.headers["Content-Type"].startswith("text/csv") and csv.data.startswith(b"\xef\xbb\xbf")
    assert bad_month.status_code == 422


def test_only_hr_and_admin_tokens_and_unknown_employees_are_404(client, hr_token, app, org):
    from lms.people import services

    _token, personal = services.issue_personal_token(org.users["learner"])
    assert client.get("/api/v1/payroll/ledger?month=2026-06", headers=auth(personal)).status_code == 403
    assert client.get("/api/v1/payroll/ledger?month=2026-06").status_code == 401
    assert client.get("/api/v1/employees/NOPE/settlement", headers=auth(hr_token)).status_code == 404
    not_ended = client.get(f"/api/v1/employees/{org.learner.employee_no}/settlement", headers=auth(hr_token))
    assert not_ended.status_code == 409 and "not ended" in not_ended.json["error"]["message"]


def test_the_import_and_the_api_take_the_monthly_wage_and_prior_years(client, hr_token, org):
    created = client.post("/api/v1/employees", headers=auth(hr_token), json={
        "employee_no": "W1", "name": "周敏", "department": "销售部", "hire_date": "2026-02-02",
        "monthly_wage": "9000.50", "prior_work_years": "3.5"})
    assert created.status_code == 201, created.json
    assert (created.json["monthly_wage"], created.json["prior_work_years"]) == ("9000.50", "3.5")
    bad = client.post("/api/v1/employees", headers=auth(hr_token), json={
        "employee_no": "W2", "name": "吴刚", "department": "销售部", "hire_date": "2026-02-02",
        "prior_work_years": "75"})
    assert bad.status_code == 422 and bad.json["error"]["field"] == "prior_work_years"


def test_the_spreadsheet_import_reads_the_chinese_headings_for_wage_and_prior_years(app, org):
    from lms.people import records, services
    from lms.people.models import Employee

    data = ("工号,姓名,部门,入职日期,月工资,入职前工作年限\nW3,郑洁,销售部,2026-02-02,\"8,700.00\",12\n"
            ).encode()
    services.save_employees(records.read_employee_file("staff.csv", data), actor="test")
    person = db.session.scalar(select(Employee).where(Employee.employee_no == "W3"))
    assert (str(person.monthly_wage), str(person.prior_work_years)) == ("8700.00", "12.0")
