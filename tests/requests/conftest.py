"""Self-service fixtures: the shipped rule set (notice days, correction window, emergency follow-up) in
force, monitoring on from 2026-06-01, and personal tokens for the named people."""

from __future__ import annotations

from datetime import datetime

import pytest

from lms import clock
from lms.config import PROJECT_DIR
from lms.people import services
from tests.absence.conftest import switch_on
from tests.conftest import auth


@pytest.fixture
def selfservice(app, org, content):
    """The named people with the shipped rules 2026-01 in force and monitoring on from 2026-06-01."""
    content.write("rules/2026-01.yaml", (PROJECT_DIR / "content/rules/2026-01.yaml").read_text(encoding="utf-8"))
    switch_on(content)
    return org


@pytest.fixture
def token_of(selfservice):
    """Headers with a personal token of one of the named people (issued at the given moment)."""

    def headers(who: str, at: datetime = datetime(2026, 6, 1, 9, 0)) -> dict:
        with clock.frozen(at):
            return auth(services.issue_personal_token(selfservice.users[who])[1])

    return headers
