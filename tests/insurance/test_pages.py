"""HR's insurance pages: city rules, an employee's stop and settlement, the ledger; others may not see them."""

from __future__ import annotations

import io
import re
from datetime import date

from sqlalchemy import select

from lms.extensions import db
from lms.insurance.models import CityRule, StopFiling
from tests.insurance.conftest import absent, at, days, end


def test_hr_enters_a_rule_on_the_page_and_bad_input_comes_back_with_the_error_beside_the_field(login_as, org):
    hr = login_as("hr")
    with at(2026, 3, 2, 10, 0):
        page = hr.get("/insurance/cities")
        assert page.status_code == 200 and "北京" in page.get_data(as_text=True)
        bad = hr.post("/insurance/cities", data={"city": "深圳市", "valid_from": "2026-02-30", "cutoff_day": "40",
                                                 "source": "深圳市社保局", "checked_on": "2026-03-01",
                                                 "pension_employer": "15"})
        text = bad.get_data(as_text=True)
        assert bad.status_code == 422
        assert "深圳市社保局" in text  # what was typed is kept
        good = hr.post("/insurance/cities", data={
            "city": "深圳市", "valid_from": "2026-01-01", "cutoff_day": "25", "cutoff_inclusive": "y",
            "source": "深圳市社保局", "checked_on": "2026-03-01", "pension_employer": "15", "pension_personal": "8",
            "medical_employer": "5.2", "medical_personal": "2", "unemployment_employer": "0.7",
            "unemployment_personal": "0.3", "work_injury_employer": "0.14", "minimum_wage": "2520"})
        assert good.status_code == 302
    rule = db.session.scalar(select(CityRule).where(CityRule.city == "深圳"))
    assert (rule.cutoff_day, rule.verified, str(rule.medical_employer)) == (25, True, "5.200")
    history = hr.get("/insurance/cities/深圳")
    assert history.status_code == 200 and "李娜" in history.get_data(as_text=True)  # a name, not user:5


def test_hr_records_the_filing_with_its_receipt_on_the_employee_page(login_as, wang, beijing):
    absent(wang, days("6.15-6.18, 6.22-6.26, 6.29"))
    end(wang, date(2026, 6, 29))
    hr = login_as("hr")
    with at(2026, 7, 6, 10, 0):
        page = hr.get(f"/insurance/employees/{wang.id}").get_data(as_text=True)
        assert "2026-07-15" in page and "4986.50" in page and "-4000.00" in page
        refused = hr.post(f"/insurance/employees/{wang.id}/filing",
                          data={"filed_on": "2026-07-06", "receipt": (io.BytesIO(b"not a scan"), "x.txt")},
                          content_type="multipart/form-data")
        assert refused.status_code == 422 and "JPEG" in refused.get_data(as_text=True)
        assert db.session.scalar(select(StopFiling)) is None  # nothing half-written
        done = hr.post(f"/insurance/employees/{wang.id}/filing",
                       data={"filed_on": "2026-07-06", "receipt": (io.BytesIO(b"%PDF-1.4 ok"), "receipt.pdf")},
                       content_type="multipart/form-data")
        assert done.status_code == 302
        receipt = hr.get(f"/insurance/employees/{wang.id}/receipt")
    assert receipt.data == b"%PDF-1.4 ok"


def test_the_ledger_page_and_its_csv(login_as, wang, beijing):
    absent(wang, days("6.15-6.18, 6.22-6.26, 6.29"))
    end(wang, date(2026, 6, 29))
    hr = login_as("hr")
    with at(2026, 7, 1, 10, 0):
        page = hr.get("/insurance/ledger?month=2026-06")
        csv = hr.get("/insurance/ledger?month=2026-06&format=csv")
        bad = hr.get("/insurance/ledger?month=June")
    assert page.status_code == 200 and "王芳" in page.get_data(as_text=True)
    assert csv.data.startswith(b"\xef\xbb\xbf") and "王芳".encode() in csv.data
    assert bad.status_code == 422


def test_no_one_but_hr_and_admin_sees_pay(login_as, org):
    for who in ("learner", "manager"):
        client = login_as(who)
        for url in ("/insurance/cities", "/insurance/ledger", f"/insurance/employees/{org.learner.id}"):
            assert client.get(url).status_code == 403, (who, url)
    assert login_as("hr").get(f"/insurance/employees/{2**31 - 1}").status_code == 404


def test_every_insurance_page_renders_in_chinese_with_words_not_codes(login_as, wang, beijing, org):
    from lms.people import services

    services.set_locale(org.users["hr"], "zh_CN")
    absent(wang, days("6.15-6.18, 6.22-6.26, 6.29"))
    end(wang, date(2026, 6, 29))
    hr = login_as("hr")
    with at(2026, 7, 1, 10, 0):
        for url in ("/insurance/cities", "/insurance/cities/北京", f"/insurance/employees/{wang.id}",
                    "/insurance/ledger?month=2026-06", f"/insurance/employees/{org.manager.id}"):
            response = hr.get(url)
            text = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))  # what a person sees
            assert response.status_code == 200, url
            assert "unpaid_absence" not in text and "user:" not in text and "si_personal" not in text, url
    assert "离职结算" in hr.get(f"/insurance/employees/{wang.id}").get_data(as_text=True)


def test_the_employee_record_names_the_uninsured_days_under_the_seed_practice(login_as, app, wang, beijing):
    app.config["LMS_SI_POLICY"] = "stop_before_cutoff"
    end(wang, date(2026, 6, 10))
    with at(2026, 6, 11, 9, 0):
        record = login_as("hr").get(f"/people/employees/{wang.id}").get_data(as_text=True)
        manager_view = login_as("manager").get(f"/people/employees/{wang.id}").get_data(as_text=True)
    assert "2026-06-01–2026-06-10" in record and "第一条第（五）项" in record
    assert "2026-06-01–2026-06-10" not in manager_view


def test_the_city_rules_page_lists_the_cities_people_work_in_that_have_no_rule(login_as, org, make_employee):
    make_employee("甲", work_city="成都市", status="active")
    make_employee("乙", work_city="成都", status="active")
    text = login_as("hr").get("/insurance/cities").get_data(as_text=True)
    section = text[text.index('data-test="cities-missing"'):]
    assert "成都" in section and "2" in section[:section.index("</ul>")]
