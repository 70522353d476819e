"""`make audit` (.ci/audit.py) over pip-audit's answers: a vulnerable or unauditable locked package fails it,
naming the package; a clean lock passes; and when the vulnerability service does not answer (the canary comes
back unaudited) it says NOTHING was audited, failing under LMS_REQUIRE_AUDIT=1. pip-audit itself is stood in
for by a script answering as pip-audit does (its JSON format), since its service is not reachable from every
machine; the real run is CI's `make audit`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FAKE = """#!{python}
import json, sys
path = sys.argv[sys.argv.index("--requirement") + 1]
pins = [line.split("==") for line in open(path) if line.strip() and not line.startswith("#")]
answers = json.loads({answers!r})
deps = []
for name, version in pins:
    answer = answers.get(name, {{"vulns": []}})
    deps.append({{"name": name, "version": version.strip(), **answer}})
print(json.dumps({{"dependencies": deps, "fixes": []}}))
sys.exit(1 if any(d.get("vulns") for d in deps) else 0)
"""
ADVISORY = {"vulns": [{"id": "PYSEC-2019-217", "fix_versions": ["2.10.1"], "aliases": [], "description": "…"}]}


def _audit(tmp_path, answers: dict, **env) -> subprocess.CompletedProcess:
    fake = tmp_path / "pip-audit"
    fake.write_text(FAKE.format(python=sys.executable, answers=json.dumps(answers)))
    fake.chmod(0o755)
    lock = tmp_path / "requirements.lock"
    lock.write_text("# pinned\nflask==3.1.3\nwerkzeug==3.1.9\n")
    return subprocess.run([sys.executable, str(ROOT / ".ci" / "audit.py")], capture_output=True, text=True,
                          env={**os.environ, "PIP_AUDIT": str(fake), "LMS_LOCK_FILE": str(lock), **env},
                          timeout=60)


def test_a_clean_lock_passes_once_the_canary_shows_the_service_answered(tmp_path):
    run = _audit(tmp_path, {"jinja2": ADVISORY})
    assert run.returncode == 0 and "2 locked packages audited, no known vulnerability" in run.stdout


def test_a_vulnerable_pin_fails_naming_it_and_its_fix(tmp_path):
    run = _audit(tmp_path, {"jinja2": ADVISORY, "werkzeug": {"vulns": [
        {"id": "GHSA-xxxx-yyyy-zzzz", "fix_versions": ["3.1.10"], "aliases": [], "description": "…"}]}})
    assert run.returncode == 1
    assert "werkzeug 3.1.9: GHSA-xxxx-yyyy-zzzz (fixed in 3.1.10)" in run.stderr


def test_a_pin_that_could_not_be_audited_fails(tmp_path):
    run = _audit(tmp_path, {"jinja2": ADVISORY, "flask": {"skip_reason": "Dependency not found on PyPI"}})
    assert run.returncode == 1 and "flask 3.1.3 could not be audited" in run.stderr


@pytest.mark.parametrize(("required", "code"), [("0", 0), ("1", 1)])
def test_no_answer_from_the_service_says_nothing_was_audited(tmp_path, required, code):
    run = _audit(tmp_path, {"jinja2": {"skip_reason": "Dependency not found on PyPI and could not be audited"}},
                 LMS_REQUIRE_AUDIT=required)
    assert run.returncode == code and "NOT AUDITED" in run.stderr and "no known vulnerability" not in run.stdout
