"""The API answers as its OpenAPI document says, checked by schemathesis with every check.

The pinned schemathesis CLI (pyproject.toml) runs against a server the test starts on its own test
database, filled with the demo company so that ids in URLs find records: once with the HR integration
token, once with an employee's personal token. Every check is on (`--checks all`: status codes,
content types, response schemas and headers, negative data rejected, positive data accepted, Allow on
405, …); the one adjustment, 422 as an answer to schema-valid data, is explained in schemathesis.toml.
Examples per operation are bounded and the seed is fixed, so the run is the same each time and fits in
CI's time.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import WSGIRequestHandler, make_server

from lms.demo import load_demo
from lms.extensions import db
from lms.people import services
from lms.people.models import User

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")
CONFIG = Path(__file__).with_name("schemathesis.toml")
SEED = 20261201
MAX_EXAMPLES = 12


class QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs):  # thousands of requests: schemathesis reports what matters
        pass


@pytest.fixture
def live_server(app):
    """The test's app served on a free loopback port, one request at a time (SQLite allows one writer)."""
    server = make_server("127.0.0.1", 0, app, threaded=False, request_handler=QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join()


def token_for(kind: str) -> str:
    if kind == "hr_integration":
        return services.create_api_token("contract", "hr")[1]
    employee = db.session.scalars(select(User).where(User.username == "employee")).one()
    return services.issue_personal_token(employee)[1]


def run_schemathesis(base_url: str, token: str, workdir: Path) -> subprocess.CompletedProcess:
    command = [
        str(SCHEMATHESIS), "--config-file", str(CONFIG), "run", f"{base_url}/api/v1/openapi.json",
        "--checks", "all", "--header", f"Authorization: Bearer {token}",
        "--max-examples", str(MAX_EXAMPLES), "--seed", str(SEED), "--generation-database", "none",
        "--workers", "1", "--request-timeout", "30", "--no-color",
    ]
    # In a temporary folder: nothing (reports, example databases) lands in the checkout.
    return subprocess.run(command, cwd=workdir, capture_output=True, text=True, timeout=900, check=False)


@pytest.mark.parametrize("kind", ["hr_integration", "employee_personal"])
def test_the_api_answers_as_its_document_says(app, live_server, tmp_path, kind):
    load_demo()
    result = run_schemathesis(live_server, token_for(kind), tmp_path)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-20000:]
    assert "Operations:       68 selected / 68 total" in output or "68 selected" in output, output[-3000:]
