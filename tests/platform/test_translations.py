"""The Simplified Chinese catalogue is complete, and the interface switches language.

zh_CN is the default interface language, so every English msgid extracted from the code and
templates must have a Chinese translation. When this test fails after you added UI text, run
`make translations-update`, translate the listed strings in
lms/translations/zh_Hans_CN/LC_MESSAGES/messages.po, then `make translations`.

The catalogue directory is zh_Hans_CN, not zh_CN: Babel parses the locale "zh_CN" into
zh_Hans_CN (CLDR adds the script), and Flask-Babel looks for the catalogue under that name;
a zh_CN directory would never be found and the interface would stay in English.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

PROJECT_DIR = Path(__file__).resolve().parents[2]
TRANSLATIONS = PROJECT_DIR / "lms" / "translations"
ZH_PO = TRANSLATIONS / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
EN_PO = TRANSLATIONS / "en" / "LC_MESSAGES" / "messages.po"

# Python named placeholders such as %(name)s or %(n)d; "%%" is a literal percent sign.
PLACEHOLDER = re.compile(r"%\([A-Za-z_]\w*\)[-#0 +]*\d*(?:\.\d+)?[sdiouxXeEfFgGcra]")


def _placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER.findall(text or ""))


def _read(path: Path):
    with path.open("rb") as f:
        return read_po(f)


@pytest.fixture(scope="module")
def fresh_template(tmp_path_factory):
    """Extract the msgids from the current code and templates, as `make translations-update` does."""
    pot = tmp_path_factory.mktemp("babel") / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", "extract",
         "-F", "babel.cfg", "-k", "_l", "-o", str(pot), "."],
        cwd=PROJECT_DIR, check=True,
    )
    return _read(pot)


def test_catalogues_exist():
    assert ZH_PO.is_file(), f"missing {ZH_PO.relative_to(PROJECT_DIR)}"
    assert EN_PO.is_file(), f"missing {EN_PO.relative_to(PROJECT_DIR)}"


def test_every_msgid_has_a_chinese_translation(fresh_template):
    zh = _read(ZH_PO)
    assert not zh.fuzzy, "the zh_CN catalogue header is marked fuzzy"

    untranslated, fuzzy, bad_placeholders = [], [], []
    for message in fresh_template:
        if not message.id:  # the header
            continue
        plural = isinstance(message.id, (list, tuple))
        singular = message.id[0] if plural else message.id
        label = repr(singular) if message.context is None else f"{singular!r} (context {message.context!r})"
        translated = zh.get(message.id, message.context)
        strings = [] if translated is None else (
            list(translated.string) if isinstance(translated.string, (list, tuple)) else [translated.string])
        if translated is None or not strings or not all(s and s.strip() for s in strings):
            untranslated.append(label)
            continue
        if translated.fuzzy:
            fuzzy.append(label)
            continue
        if plural:
            # zh_CN has one plural form, which serves every count: it needs the plural's placeholders.
            required = set(_placeholders(message.id[1]))
            allowed = required | set(_placeholders(message.id[0]))
            for text in strings:
                found = set(_placeholders(text))
                if not required <= found or not found <= allowed:
                    bad_placeholders.append(f"{label} → {text!r}")
        elif _placeholders(strings[0]) != _placeholders(singular):
            bad_placeholders.append(f"{label} → {strings[0]!r}")

    problems = []
    if untranslated:
        problems.append(f"{len(untranslated)} msgid(s) without a zh_CN translation:\n  " + "\n  ".join(untranslated))
    if fuzzy:
        problems.append(f"{len(fuzzy)} fuzzy zh_CN translation(s) to review:\n  " + "\n  ".join(fuzzy))
    if bad_placeholders:
        problems.append("zh_CN translation(s) whose %(…)s placeholders differ from the English:\n  "
                        + "\n  ".join(bad_placeholders))
    assert not problems, (
        "\n\n".join(problems)
        + f"\n\nRun `make translations-update`, translate these in {ZH_PO.relative_to(PROJECT_DIR)}, "
          "then `make translations`."
    )


def test_chinese_catalogue_passes_babel_checks():
    """Babel's own checks: python-format placeholders agree and plural forms are complete."""
    zh = _read(ZH_PO)
    errors = [f"{message.id!r}: {'; '.join(str(e) for e in errs)}" for message, errs in zh.check()]
    assert not errors, "\n".join(errors)


def test_login_page_follows_the_chosen_language(client):
    assert (ZH_PO.with_suffix(".mo")).is_file(), "compiled catalogue missing: run `make translations`"

    response = client.post("/language", data={"locale": "zh_CN", "next": "/login"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/login")
    page = client.get("/login").get_data(as_text=True)
    assert "登录" in page
    assert "Sign in" not in page

    client.post("/language", data={"locale": "en", "next": "/login"})
    page = client.get("/login").get_data(as_text=True)
    assert "Sign in" in page
    assert "登录" not in page


def test_chinese_page_is_marked_chinese(client):
    client.post("/language", data={"locale": "zh_CN", "next": "/login"})
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page
    assert 'data-test="lang-en"' in page  # the switch offers English, not Chinese again


def test_unknown_language_is_refused(client):
    assert client.post("/language", data={"locale": "xx", "next": "/login"}).status_code == 400
