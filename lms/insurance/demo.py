"""Demo records for social insurance and pay: Beijing's rates as HR would enter them, wages from each person's
base, and a clerk who resigned three weeks ago (the stop to file, the settlement to pay)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lms import clock
from lms.absence import termination
from lms.extensions import db
from lms.insurance import cities
from lms.people.models import Employee

LEAVER = "E0052"  # the last 行政专员


def load_insurance_demo() -> None:
    today = clock.today()
    cities.save_rule("北京", {
        "cutoff_day": 15, "cutoff_inclusive": True, "valid_from": today.replace(month=1, day=1),
        "rates": {"pension": {"employer": "16", "personal": "8"}, "medical": {"employer": "9.8", "personal": "2"},
                  "unemployment": {"employer": "0.5", "personal": "0.5"}, "work_injury": {"employer": "0.4"}},
        "base_floor": "7162", "base_ceiling": "35811", "minimum_wage": "2540",
        "source": "演示数据：示例费率与基数，使用前请按北京市人社局、医保局当年通知核实", "checked_on": today}, "demo")
    people = db.session.scalars(select(Employee)).all()
    for person in people:  # the demo's wage is its base; years before joining follow the hire date's age
        person.monthly_wage = person.social_insurance_base
        person.prior_work_years = 2 if person.hire_date.year % 2 else 0
    db.session.commit()
    leaver = next((p for p in people if p.employee_no == LEAVER and p.status == "active"), None)
    if leaver is not None:
        termination.record_separation(leaver, "resignation", today - timedelta(days=21), "demo",
                                      note="个人原因辞职，已办理交接")
