"""Who sees whom: a learner, her manager (and his manager), HR, an admin and an outsider."""

from __future__ import annotations

import re

import pytest
from werkzeug.routing import IntegerConverter, Rule

from lms import create_app
from lms.people import services


def test_a_learner_sees_only_herself(login_as, org):
    client = login_as("learner")
    assert client.get(f"/people/employees/{org.learner.id}").status_code == 200
    for other in (org.manager, org.colleague, org.outsider, org.hr_officer):
        assert client.get(f"/people/employees/{other.id}").status_code == 404
    listing = client.get("/people/employees").get_data(as_text=True)
    assert "王芳" in listing and "刘洋" not in listing


def test_a_manager_sees_his_reports_but_not_others(login_as, org):
    client = login_as("manager")
    for person in (org.manager, org.learner, org.colleague):
        assert client.get(f"/people/employees/{person.id}").status_code == 200
    for person in (org.director, org.outsider, org.hr_officer):
        assert client.get(f"/people/employees/{person.id}").status_code == 404


def test_reporting_is_transitive_for_the_managers_manager(login_as, org):
    client = login_as("director")
    assert client.get(f"/people/employees/{org.learner.id}").status_code == 200
    listing = client.get("/people/employees").get_data(as_text=True)
    assert all(name in listing for name in ("张伟", "王芳", "刘洋"))
    assert "赵强" not in listing and "李娜" not in listing


def test_hr_sees_everyone(login_as, org):
    client = login_as("hr")
    for person in (org.director, org.learner, org.outsider):
        assert client.get(f"/people/employees/{person.id}").status_code == 200
    listing = client.get("/people/employees").get_data(as_text=True)
    assert "赵强" in listing and "王芳" in listing


def test_an_outsider_sees_nothing_of_the_team(login_as, org):
    client = login_as("outsider")
    for person in (org.director, org.manager, org.learner, org.colleague):
        assert client.get(f"/people/employees/{person.id}").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, org):
    response = client.get(f"/people/employees/{org.learner.id}")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


# ----------------------------------------------------------------- every route, walked

# Routes anyone may use, signed in or not: the sign-in page, static files, the health
# check, the language switch, the public API description, certificate verification, the API sign-in,
# and the absence reply link from the SMS (its signed token is the credential; a bad one gets 404).
PUBLIC = {"auth.login", "static", "web.healthz", "web.livez", "web.set_language", "api-docs.openapi_json",
          "verify.verify", "verify.verify_form", "api_exams.Tokens", "absence.reply_by_link"}


def _concrete_url(rule: Rule, org) -> str:
    """Fill every URL variable with something that belongs to someone else (the learner)."""
    values = {}
    for argument in rule.arguments:
        if argument == "employee_id" or isinstance(rule._converters[argument], IntegerConverter):
            values[argument] = org.learner.id
        elif argument == "employee_no":
            values[argument] = org.learner.employee_no
        elif argument == "filename":
            values[argument] = "css/app.css"
        else:
            values[argument] = "x"
    url = rule.rule
    for name, value in values.items():
        url = re.sub(rf"<(?:[^:>]+:)?{name}>", str(value), url)
    return url


def _route_cases() -> list:
    """(endpoint, method) for every registered route, read from a throw-away app."""
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "SECRET_KEY": "collect"})
    return sorted(
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in PUBLIC
        for method in rule.methods - {"HEAD", "OPTIONS"}
    )


ROUTES = _route_cases()
# Her own start page, signing out, her own record, the list filtered down to herself, her inbox,
# her courses, her exams, her refreshers and her self-service pages.
OWN = {"web.home", "auth.logout", "people.me", "people.employees", "notify.inbox", "courses.my_courses",
       "exams.my_exams", "campaigns.mine",
       # Self-service: her own requests, reports, corrections, details and service-address confirmation.
       "requests.mine", "requests.apply_leave", "requests.apply_correction", "requests.report_emergency",
       "requests.details", "requests.confirm_address",
       # Writing to HR (the handbook's 联系人事).
       "notify.contact_hr"}


def _url(app, endpoint: str, org) -> str:
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    return _concrete_url(rule, org)


def test_the_walk_covers_the_api_and_the_pages():
    endpoints = {endpoint for endpoint, _ in ROUTES}
    assert {"people.employee", "people.import_employees", "people.accounts"} <= endpoints
    assert any(endpoint.startswith("api_employees.") for endpoint in endpoints)


@pytest.mark.parametrize(("endpoint", "method"), [case for case in ROUTES if case[0] not in OWN])
def test_an_outsider_is_refused(app, login_as, org, endpoint, method):
    """An employee from another department gets 401/403/404 on every page and API route."""
    response = login_as("outsider").open(_url(app, endpoint, org), method=method)
    assert response.status_code in (401, 403, 404), response.status_code


@pytest.mark.parametrize(("endpoint", "method"), ROUTES)
def test_a_stranger_must_sign_in_or_bring_a_token(app, client, org, endpoint, method):
    response = client.open(_url(app, endpoint, org), method=method)
    assert response.status_code in (302, 401), response.status_code
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["employee", "manager"])
def test_api_tokens_exist_only_for_hr_and_admin(app, role):
    with pytest.raises(ValueError):
        services.create_api_token("sync", role)
