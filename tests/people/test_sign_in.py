"""Signing in: argon2 hashes, rate limiting, CSRF, cookies and security headers."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lms import create_app
from lms.extensions import db
from lms.people.models import User
from tests.conftest import PASSWORD, make_test_config


def test_a_right_password_signs_in_and_a_wrong_one_does_not(client, org):
    assert client.post("/login", data={"username": "learner", "password": "wrong"}).status_code == 401
    assert client.get("/").status_code == 302
    response = client.post("/login", data={"username": "learner", "password": PASSWORD})
    assert response.status_code == 302
    assert "王芳" in client.get("/").get_data(as_text=True)
    assert client.post("/logout").status_code == 302
    assert client.get("/").status_code == 302


def test_an_unknown_user_gets_the_same_answer_as_a_wrong_password(client, org):
    wrong = client.post("/login", data={"username": "learner", "password": "wrong"})
    unknown = client.post("/login", data={"username": "nobody", "password": "wrong"})
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong username or password." in unknown.get_data(as_text=True)


def test_passwords_are_stored_as_argon2id(app, org):
    stored = db.session.scalar(select(User.password_hash).where(User.username == "learner"))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored


def test_a_disabled_account_cannot_sign_in(client, org):
    org.users["learner"].is_enabled = False
    db.session.commit()
    assert client.post("/login", data={"username": "learner", "password": PASSWORD}).status_code == 401


def test_next_only_follows_paths_on_this_site(client, org):
    response = client.post("/login?next=https://evil.example/x", data={"username": "learner", "password": PASSWORD})
    assert response.headers["Location"] == "/"
    client.post("/logout")
    response = client.post("/login?next=/people/me", data={"username": "learner", "password": PASSWORD})
    assert response.headers["Location"] == "/people/me"


def test_every_page_carries_security_headers(client):
    headers = client.get("/login").headers
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "script-src 'self'" in headers["Content-Security-Policy"]


@pytest.fixture
def strict_app(_migrated, org):
    """The production settings: CSRF on, rate limit on, secure cookies."""
    app = create_app(make_test_config(_migrated, WTF_CSRF_ENABLED=True, RATELIMIT_ENABLED=True,
                                 SESSION_COOKIE_SECURE=True, LMS_LOGIN_LIMIT="3 per minute"))
    return app



def test_forms_without_a_csrf_token_are_refused(strict_app):
    client = strict_app.test_client()
    response = client.post("/login", data={"username": "learner", "password": PASSWORD})
    assert response.status_code == 400
    token = re.search(r'id="csrf_token" name="csrf_token" type="hidden" value="([^"]+)"',
                      client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"username": "learner", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302


def test_session_cookies_are_secure_and_http_only(strict_app):
    client = strict_app.test_client()
    response = client.get("/login", base_url="https://localhost")
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Strict-Transport-Security" in response.headers


def test_repeated_sign_in_attempts_are_rate_limited(_migrated, org):
    app = create_app(make_test_config(_migrated, RATELIMIT_ENABLED=True, LMS_LOGIN_LIMIT="3 per minute"))
    client = app.test_client()
    codes = [client.post("/login", data={"username": "learner", "password": "guess"}).status_code
             for _ in range(4)]
    assert codes == [401, 401, 401, 429]
    assert "Too many attempts" in client.post("/login", data={"username": "learner",
                                                               "password": PASSWORD}).get_data(as_text=True)


def test_create_admin_command(runner, client):
    result = runner.invoke(args=["users", "create-admin", "boss"], input="a-long-password\na-long-password\n")
    assert result.exit_code == 0, result.output
    response = client.post("/login", data={"username": "boss", "password": "a-long-password"})
    assert response.status_code == 302
    assert client.get("/people/accounts").status_code == 200
    again = runner.invoke(args=["users", "create-admin", "boss"], input="a-long-password\na-long-password\n")
    assert again.exit_code != 0 and "taken" in again.output


def test_admin_creates_an_account_linked_to_an_employee(login_as, make_employee, client):
    newcomer = make_employee("钱多多", department="物流部")
    admin = login_as("admin")
    response = admin.post("/people/accounts", data={"username": "qian", "password": "ten-chars-at-least",
                                                    "role": "employee", "employee_no": newcomer.employee_no})
    assert response.status_code == 302
    clash = admin.post("/people/accounts", data={"username": "qian", "password": "ten-chars-at-least",
                                                 "role": "employee", "employee_no": "NOBODY"})
    assert clash.status_code == 422
    page = clash.get_data(as_text=True)
    assert "This username is taken." in page and "No employee has this number." in page
    assert client.post("/login", data={"username": "qian", "password": "ten-chars-at-least"}).status_code == 302
    assert "钱多多" in client.get("/").get_data(as_text=True)
