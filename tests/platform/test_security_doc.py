"""docs/security.md names a test for every control: each test file and function it names exists, and every row
of its control tables names at least one test (so the page cannot drift from the suite)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "security.md"
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)?(?:::(\w+))?`")


def _functions(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def test_every_test_the_security_page_names_exists():
    missing, rows_without_test = [], []
    for line in DOC.read_text().splitlines():
        if not line.startswith("| ") or line.startswith("| control") or line.startswith("| attacker"):
            continue
        if line.startswith("|---") or " | " not in line:
            continue
        references = [(file, name) for file, name in REFERENCE.findall(line) if file or name]
        if not references:
            rows_without_test.append(line[:80])
        current = None
        for file, name in references:
            current = file or current
            if current is None or not (ROOT / current).is_file():
                missing.append(f"{current}::{name}")
            elif name and name not in _functions(ROOT / current):
                missing.append(f"{current}::{name}")
    assert missing == []
    # The threat table (attacker | what | where) names no tests; every control row does.
    assert [row for row in rows_without_test if not row.startswith("| **")] == []
