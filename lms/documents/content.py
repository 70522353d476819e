"""Reading content/documents/: each template a folder with zh.md (primary) and en.md beside it.

    content/documents/<slug>/zh.md    front matter (kind, title) between “---” lines, then the body:
    content/documents/<slug>/en.md    Jinja over the document's facts, producing Markdown

A template is checked when read: both languages present, the same kind, a known kind, and a body
Jinja can compile; every problem is reported with its file and line, and nothing is saved.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml
from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from lms.courses.content import SLUG, digest, normalise
from lms.documents.models import DOCUMENT_KINDS

LANGS = ("zh", "en")


@dataclass
class ParsedTemplate:
    slug: str
    kind: str
    title: dict
    body: dict
    sha256: str
    path: str


def environment() -> SandboxedEnvironment:
    """The sandbox templates render in: a lawyer's edit can state facts, never reach the application."""
    from jinja2 import StrictUndefined

    env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)
    env.filters["cn_date"] = cn_date
    return env


def cn_date(value: str) -> str:
    """"2026-06-25" → "2026年6月25日"."""
    year, month, day = (int(part) for part in str(value)[:10].split("-"))
    return f"{year}年{month}月{day}日"


def _split(reader, path: Path, text: str) -> tuple[dict, str] | None:
    if not text.startswith("---\n"):
        reader.problem(path, 1, "a document template must start with front matter between two “---” lines")
        return None
    end = text.find("\n---", 4)
    if end < 0:
        reader.problem(path, 1, "the front matter is not closed by a “---” line")
        return None
    try:
        data = yaml.safe_load(text[4:end + 1])
    except yaml.YAMLError as exc:
        reader.problem(path, 2, f"front matter: {exc}")
        return None
    if not isinstance(data, dict):
        reader.problem(path, 2, "the front matter must be a mapping (kind: …, title: …)")
        return None
    return data, text[end + 4:].lstrip("-").lstrip("\n")


def read_templates(reader, root: Path) -> list[ParsedTemplate]:
    """Every template under root/documents, validated (problems go to `reader`)."""
    folder_root = root / "documents"
    templates = []
    env = environment()
    for folder in sorted(p for p in folder_root.iterdir() if p.is_dir()) if folder_root.exists() else []:
        slug = folder.name
        if not SLUG.fullmatch(slug):
            reader.problem(folder, 0, f"a template folder is named like return-to-work (got {slug!r})")
            continue
        kinds, titles, bodies = {}, {}, {}
        for lang in LANGS:
            path = folder / f"{lang}.md"
            if not path.exists():
                reader.problem(path, 0, f"template {slug} has no {lang} text (expected this file)")
                continue
            parsed = _split(reader, path, normalise(path.read_text(encoding="utf-8")))
            if parsed is None:
                continue
            data, body = parsed
            kinds[lang], titles[lang], bodies[lang] = str(data.get("kind", "")), str(data.get("title", "")), body
            if kinds[lang] not in DOCUMENT_KINDS:
                reader.problem(path, 2, f"kind must be one of {', '.join(DOCUMENT_KINDS)} (got {kinds[lang]!r})")
            if not titles[lang].strip():
                reader.problem(path, 2, "the template needs a title")
            if not body.strip():
                reader.problem(path, 1, "the template body is empty")
            try:
                env.parse(body)
            except TemplateSyntaxError as exc:
                reader.problem(path, (exc.lineno or 0) + text_offset(path), f"template: {exc.message}")
        if len(kinds) != len(LANGS):
            continue
        if kinds["zh"] != kinds["en"]:
            reader.problem(folder / "en.md", 2, f"en.md says kind {kinds['en']}, zh.md {kinds['zh']}")
            continue
        templates.append(ParsedTemplate(slug, kinds["zh"], titles, bodies,
                                        digest({"slug": slug, "kind": kinds["zh"], "title": titles, "body": bodies}),
                                        reader.rel(folder)))
    return templates


def text_offset(path: Path) -> int:
    """Lines of front matter before the body (to report a template error at its line in the file)."""
    text = path.read_text(encoding="utf-8")
    end = text.find("\n---", 4)
    return text[:end + 4].count("\n") + 1 if end >= 0 else 0
