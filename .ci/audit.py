"""`make audit`: pip-audit over requirements.lock (every package `make install` installs, pinned).

A canary proves the vulnerability service answered: jinja2 2.10 has published advisories, so an audit that
does not name them reached nothing, and "no known vulnerability" would mean nothing. Then:
- the service answered, and a locked package has a known vulnerability or could not be audited: exit 1,
  naming each (upgrade the pin in requirements.lock, `make install`, run the affected tests);
- the service answered and names none: exit 0;
- the service did not answer (no network to it): say loudly that nothing was audited; exit 1 if
  LMS_REQUIRE_AUDIT=1, else 0 (a machine without that network still runs the rest of CI).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = Path(os.environ.get("LMS_LOCK_FILE") or ROOT / "requirements.lock")
CANARY = "jinja2==2.10"


def audit(requirements: Path) -> list[dict]:
    run = subprocess.run(  # noqa: S603 - our own venv's pip-audit, a list, no shell
        [os.environ.get("PIP_AUDIT") or str(Path(sys.executable).with_name("pip-audit")), "--requirement", str(requirements), "--no-deps",
         "--disable-pip", "--vulnerability-service", "pypi", "--format", "json", "--progress-spinner", "off"],
        capture_output=True, text=True, timeout=600, check=False)
    try:
        return json.loads(run.stdout)["dependencies"]
    except (ValueError, KeyError):
        sys.exit(f"pip-audit failed (exit {run.returncode}): {run.stderr.strip()[-2000:]}")


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        canary = Path(folder) / "canary.txt"
        canary.write_text(CANARY + "\n")
        [probe] = audit(canary)
    if not probe.get("vulns"):
        print(f"pip-audit: NOT AUDITED — the vulnerability service did not answer (the canary {CANARY} came back "
              f"{probe.get('skip_reason') or 'without its advisories'}).", file=sys.stderr)
        return 1 if os.environ.get("LMS_REQUIRE_AUDIT") == "1" else 0
    dependencies = audit(LOCK)
    skipped = [d for d in dependencies if d.get("skip_reason")]
    vulnerable = [d for d in dependencies if d.get("vulns")]
    for d in skipped:
        print(f"pip-audit: {d['name']} {d.get('version', '')} could not be audited: {d['skip_reason']}",
              file=sys.stderr)
    for d in vulnerable:
        for v in d["vulns"]:
            fixed = ", ".join(v.get("fix_versions") or []) or "no fixed release"
            print(f"pip-audit: {d['name']} {d['version']}: {v['id']} (fixed in {fixed})", file=sys.stderr)
    if skipped or vulnerable:
        return 1
    print(f"pip-audit: {len(dependencies)} locked packages audited, no known vulnerability")
    return 0


if __name__ == "__main__":
    sys.exit(main())
