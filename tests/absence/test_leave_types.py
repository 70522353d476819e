"""Leave types beyond leave proper: business trip (出差/外出), time off in lieu (调休), work injury (工伤),
detention (限制人身自由 — never 旷工). Recorded through the API, the file import and the page; a day under
any of them is never counted."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from lms import clock
from lms.absence import leave
from lms.absence.models import LEAVE_TYPES, AbsenceCase, CaseDay
from lms.extensions import db
from tests.absence.conftest import add_leave, everyone_present, run_ticks
from tests.conftest import auth

NEW_TYPES = ("business_trip", "time_off_in_lieu", "work_injury", "detention")
CHINESE_NAMES = {"出差": "business_trip", "外出": "business_trip", "公出": "business_trip",
                 "调休": "time_off_in_lieu", "工伤": "work_injury", "工伤假": "work_injury",
                 "限制人身自由": "detention", "拘留": "detention", "羁押": "detention"}


def test_the_new_types_are_leave_types_with_labels():
    assert set(NEW_TYPES) <= set(LEAVE_TYPES) and set(NEW_TYPES) <= set(leave.LEAVE_TYPE_LABELS)
    assert "旷工" in str(leave.LEAVE_TYPE_LABELS["detention"])  # the label says it is never 旷工


@pytest.mark.parametrize("kind", NEW_TYPES)
def test_each_new_type_is_recorded_through_the_api(client, hr_token, make_employee, kind):
    make_employee("王芳", employee_no="A1")
    response = client.post("/api/v1/leaves", headers=auth(hr_token), json={
        "employee_no": "A1", "type": kind, "start": "2026-06-15", "end": "2026-06-16", "note": "外派上海"})
    assert response.status_code == 201, response.json
    assert response.json["type"] == kind
    listed = client.get("/api/v1/leaves?employee_no=A1", headers=auth(hr_token)).json["items"]
    assert [item["type"] for item in listed] == [kind]


def test_the_openapi_enum_lists_the_new_types(client):
    schema = client.get("/api/v1/openapi.json").json["components"]["schemas"]
    leave_input = next(s for name, s in schema.items() if name.startswith("LeaveInput"))
    assert set(NEW_TYPES) <= set(leave_input["properties"]["type"]["enum"])


def test_each_new_type_and_its_chinese_names_import_from_a_file(app, make_employee):
    make_employee("王芳", employee_no="A1")
    names = [*NEW_TYPES, *CHINESE_NAMES]
    rows = "\n".join(f"A1,{name},2026-07-{n:02d},2026-07-{n:02d}" for n, name in enumerate(names, start=1))
    saved = leave.import_leave_file("leave.csv", f"工号,假期类型,开始日期,结束日期\n{rows}\n".encode())
    assert [item.type for item in saved] == [*NEW_TYPES, *CHINESE_NAMES.values()]


def test_the_leave_page_offers_the_new_types(login_as):
    page = login_as("hr").get("/absence/leave").get_data(as_text=True)
    for kind in NEW_TYPES:
        assert f'value="{kind}"' in page
    assert "限制人身自由=<code>detention</code>" in page and "调休=<code>time_off_in_lieu</code>" in page


def _case_of(person) -> AbsenceCase | None:
    db.session.expire_all()
    return db.session.scalars(select(AbsenceCase).where(AbsenceCase.employee_id == person.id)).one_or_none()


@pytest.mark.parametrize("kind", NEW_TYPES)
def test_a_day_under_each_new_type_never_opens_a_case(absence_setup, kind):
    org = absence_setup
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 19), but=[org.learner])
    add_leave(org.learner, date(2026, 6, 1), date(2026, 6, 14))
    add_leave(org.learner, date(2026, 6, 15), date(2026, 6, 16), kind=kind)
    run_ticks(datetime(2026, 6, 15, 8, 0), datetime(2026, 6, 17, 8, 0))
    assert _case_of(org.learner) is None


@pytest.mark.parametrize("kind", NEW_TYPES)
def test_a_counted_day_under_each_new_type_is_uncounted(absence_setup, client, hr_token, kind):
    org = absence_setup
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 19), but=[org.learner])
    add_leave(org.learner, date(2026, 6, 1), date(2026, 6, 14))
    run_ticks(datetime(2026, 6, 15, 11, 0), datetime(2026, 6, 17, 8, 0))
    assert _case_of(org.learner).counted_days == [date(2026, 6, 15), date(2026, 6, 16)]

    with clock.frozen(clock.as_utc(datetime(2026, 6, 17, 8, 30))):
        response = client.post("/api/v1/leaves", headers=auth(hr_token), json={
            "employee_no": org.learner.employee_no, "type": kind, "start": "2026-06-16", "end": "2026-06-16"})
    assert response.status_code == 201, response.json
    case = _case_of(org.learner)
    assert case.counted_days == [date(2026, 6, 15)]
    day = db.session.get(CaseDay, (case.id, date(2026, 6, 16)))
    assert day.status == "leave"
