"""Every route × every role, generated from the URL map (issue 19, item 7): the HTML pages as an employee, a
manager, HR and an admin; the API with an HR and an admin integration's token and the personal tokens of an
employee, a manager, an HR officer and an admin. A route whose view declares its roles (roles_required /
token_required) refuses every other role with 403; no route answers any of them with a 5xx; and every route is
classified, so a new one cannot slip in without saying who may use it."""

from __future__ import annotations

import pytest

from lms import create_app
from lms.people import services
from tests.conftest import auth
from tests.people.test_access_rules import PUBLIC, _concrete_url

# Pages any signed-in person may open: each shows or changes only the viewer's own records (or answers 404
# for anyone else's, which tests/people/test_access_rules.py walks for an outsider).
SELF_SERVICE = {
    "web.home", "auth.logout", "notify.inbox", "notify.open_message", "people.employees", "people.employee",
    "people.me", "courses.my_courses", "courses.course", "courses.chapter", "courses.attest", "courses.complete",
    "courses.discussion", "exams.my_exams", "exams.start", "exams.question", "exams.result", "exams.review",
    "exams.submit", "exams.certificate_pdf", "campaigns.mine", "absence.case_page", "absence.my_reply",
    "requests.mine", "requests.attachment", "requests.apply_correction", "requests.details",
    "requests.confirm_address", "requests.report_emergency", "requests.apply_leave", "requests.withdraw",
    "exams.save", "notify.contact_hr",
}
# API routes for a person's own token (person_required), each acting on that person's records only.
PERSONAL_API = {
    "api_exams.Attempts", "api_exams.Attempt", "api_exams.Answers", "api_exams.Submit", "api_exams.Result",
    "api_requests.Me", "api_requests.MyEmergencyReports", "api_requests.MyLeaveRequests",
    "api_requests.MyCorrections", "api_requests.Confirmation", "api_requests.LeaveDecision",
    "api_requests.CorrectionDecision", "api_requests.EmployeeEmergencyReports",
}
# Authenticated by the provider's signature, not a token (tests/notify covers the signature).
SIGNED = {"api_sms.Receipts"}


def _routes():
    app = create_app({"TESTING": True, "DATABASE_URL": "sqlite://", "SECRET_KEY": "collect"})
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in PUBLIC:
            continue
        roles = getattr(app.view_functions[rule.endpoint], "allowed_roles", None)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method, roles


ROUTES = list(_routes())


def test_every_route_says_who_may_use_it():
    unclassified = {rule.endpoint for rule, _method, roles in ROUTES
                    if roles is None and rule.endpoint not in SELF_SERVICE | PERSONAL_API | SIGNED}
    assert unclassified == set()
    stale = (SELF_SERVICE | PERSONAL_API | SIGNED) - {rule.endpoint for rule, _method, _roles in ROUTES}
    assert stale == set()


@pytest.mark.parametrize("who", ["learner", "manager", "hr", "admin"])
def test_every_page_for_every_role(app, org, login_as, who):
    client = login_as(who)
    role = org.users[who].role
    wrong = []
    for rule, method, roles in ROUTES:
        if rule.rule.startswith("/api/") or rule.endpoint == "auth.logout":  # signing out ends the walk
            continue
        response = client.open(_concrete_url(rule, org), method=method)
        if response.status_code >= 500 or (roles is not None and role not in roles and response.status_code != 403):
            wrong.append((method, rule.rule, response.status_code))
    assert wrong == []
    assert client.get("/").status_code == 200  # still signed in: every route above was walked as `who`


@pytest.mark.parametrize("who", ["integration", "admin-integration", "learner", "manager", "hr", "admin"])
def test_every_api_route_for_every_token(app, client, org, hr_token, who):
    if who == "integration":
        token, role, personal = hr_token, "hr", False
    elif who == "admin-integration":
        token, role, personal = services.create_api_token("admin-integration", "admin")[1], "admin", False
    else:
        token, role, personal = services.issue_personal_token(org.users[who])[1], org.users[who].role, True
    wrong = []
    for rule, method, roles in ROUTES:
        if not rule.rule.startswith("/api/") or rule.endpoint in SIGNED:
            continue
        response = client.open(_concrete_url(rule, org), method=method, headers=auth(token), json={})
        refused = response.status_code == 403
        expected_refusal = (roles is not None and role not in roles) or (rule.endpoint in PERSONAL_API
                                                                          and not personal)
        if response.status_code >= 500 or (expected_refusal and not refused):
            wrong.append((method, rule.rule, response.status_code))
    assert wrong == []
