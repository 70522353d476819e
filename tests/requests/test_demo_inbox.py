"""`flask demo load` leaves requests waiting in the demo manager's inbox (make run shows it)."""

from __future__ import annotations

from datetime import datetime

from lms import clock
from lms.config import PROJECT_DIR


def test_the_demo_manager_has_requests_waiting(app, runner, content):
    content.write("rules/2026-01.yaml", (PROJECT_DIR / "content/rules/2026-01.yaml").read_text(encoding="utf-8"))
    content.sync()
    with clock.frozen(datetime(2026, 6, 17, 10, 0)):
        assert runner.invoke(args=["demo", "load"]).exit_code == 0
        client = app.test_client()
        client.post("/login", data={"username": "manager", "password": "demo-manager-2026"})
        page = client.get("/requests/inbox").get_data(as_text=True)
    assert page.count('data-test="inbox-request"') == 2  # his team lead's, and a rep's while the lead is away
    assert page.count('data-test="inbox-correction"') == 1 and "王芳" in page
    assert 'data-test="waiting-badge">3<' in page
