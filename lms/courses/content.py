"""Reading content/: the rule sets and the courses, validated as a whole before anything is saved.

Layout (see content/README.md):
  content/rules/<version>.yaml                   one adopted rule set per file
  content/courses/<slug>/course.md               front matter: slug, kind, titles, audience,
                                                 rules_version, chapters (id, titles, rules)
  content/courses/<slug>/chapters/<id>.zh.md     each chapter's text, Chinese and English
  content/courses/<slug>/chapters/<id>.en.md
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import markdown
import nh3
import yaml

from lms.courses.models import COURSE_KINDS

SLUG = re.compile(r"[a-z0-9]+(-[a-z0-9]+)*")
CLAUSE_ID = re.compile(r"[a-z]+(\.[a-z_]+)+")
LANGS = ("zh", "en")


@dataclass(frozen=True)
class ContentProblem:
    path: str
    line: int
    problem: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.problem}"


class ContentError(Exception):
    """Every problem found in content/; nothing has been saved."""

    def __init__(self, problems: list[ContentProblem]):
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems


@dataclass
class ParsedRuleSet:
    version: str
    title: dict
    adopted_on: date
    effective_from: date
    procedure: dict
    clauses: list[dict]
    sha256: str
    path: str


@dataclass
class ParsedChapter:
    key: str
    title: dict
    rule_ids: list[str]
    markdown: dict
    html: dict
    sha256: str


@dataclass
class ParsedCourse:
    slug: str
    kind: str
    title: dict
    summary: dict
    audience: list[str]
    rules_version: str | None
    chapters: list[ParsedChapter]
    sha256: str
    path: str


@dataclass
class Content:
    rule_sets: list[ParsedRuleSet] = field(default_factory=list)
    courses: list[ParsedCourse] = field(default_factory=list)
    banks: list = field(default_factory=list)  # lms.exams.content.ParsedBank
    exams: list = field(default_factory=list)  # lms.exams.content.ParsedExam
    templates: list = field(default_factory=list)  # lms.documents.content.ParsedTemplate


def digest(value) -> str:
    """SHA-256 of a value's canonical JSON: the identity of a version's content."""
    text = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def normalise(text: str) -> str:
    """Line endings and trailing spaces do not make a new version."""
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return "\n".join(lines).strip("\n") + "\n"


def render_markdown(text: str) -> str:
    """Markdown to HTML, then sanitised: content can never inject script or styles."""
    html = markdown.markdown(text, extensions=["tables", "sane_lists"], output_format="html")
    return nh3.clean(html)


class ContentReader:
    """Collects problems with their file and line while reading."""

    def __init__(self, root: Path):
        self.root = root
        self.problems: list[ContentProblem] = []

    def rel(self, path: Path) -> str:
        return str(path.relative_to(self.root.parent)) if path.is_relative_to(self.root.parent) else str(path)

    def problem(self, path: Path, line: int, text: str) -> None:
        self.problems.append(ContentProblem(self.rel(path), line, text))

    def yaml(self, path: Path, text: str, first_line: int = 1):
        try:
            return yaml.safe_load(text)
        except yaml.YAMLError as exc:
            # Where the broken construct began is where a person looks; the parser's own position
            # is often the end of the file.
            mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
            line = first_line + (mark.line if mark else 0)
            self.problem(path, line, f"not valid YAML: {getattr(exc, 'problem', None) or exc}")
            return None

    @staticmethod
    def line_of(text: str, token: str, first_line: int = 1) -> int:
        """The line where `token` first appears (for problems found after parsing)."""
        index = text.find(token)
        return first_line + (text.count("\n", 0, index) if index >= 0 else 0)

    def bilingual(self, path: Path, text: str, data: dict, key: str, first_line: int = 1,
                  required: bool = True) -> dict:
        value = data.get(key)
        if value is None and not required:
            return {"zh": "", "en": ""}
        if not isinstance(value, dict) or any(not isinstance(value.get(lang), str) or not value[lang].strip()
                                               for lang in LANGS):
            self.problem(path, self.line_of(text, f"{key}:", first_line),
                         f"“{key}” needs non-empty zh and en texts, e.g. {key}: {{zh: …, en: …}}")
            return {"zh": "", "en": ""}
        return {lang: value[lang].strip() for lang in LANGS}


def _read_rule_set(reader: ContentReader, path: Path) -> ParsedRuleSet | None:
    text = path.read_text(encoding="utf-8")
    data = reader.yaml(path, text)
    if data is None:
        return None
    if not isinstance(data, dict):
        reader.problem(path, 1, "a rule set is a mapping with version, title, adopted_on, … clauses")
        return None
    version = str(data.get("version", ""))
    if version != path.stem:
        reader.problem(path, reader.line_of(text, "version:"), f"version “{version}” must equal the file name "
                                                               f"“{path.stem}”")
    dates = {}
    for key in ("adopted_on", "effective_from"):
        if not isinstance(data.get(key), date):
            reader.problem(path, reader.line_of(text, f"{key}:"), f"“{key}” must be a date (YYYY-MM-DD)")
        dates[key] = data.get(key)
    title = reader.bilingual(path, text, data, "title")
    procedure = reader.bilingual(path, text, data, "procedure")
    clauses, seen = [], set()
    raw_clauses = data.get("clauses")
    if not isinstance(raw_clauses, list) or not raw_clauses:
        reader.problem(path, reader.line_of(text, "clauses:"), "“clauses” must be a non-empty list")
        raw_clauses = []
    for raw in raw_clauses:
        raw_id = raw.get("id") if isinstance(raw, dict) else None
        if not CLAUSE_ID.fullmatch(str(raw_id or "")):
            reader.problem(path, reader.line_of(text, str(raw_id) if raw_id else "- "),
                           f"a clause needs an id like leave.notice (got {raw_id!r})")
            continue
        clause_id = raw["id"]
        line = reader.line_of(text, f"id: {clause_id}")
        if clause_id in seen:
            reader.problem(path, line, f"clause {clause_id} appears twice")
        seen.add(clause_id)
        values = raw.get("values") or {}
        if not isinstance(values, dict):
            reader.problem(path, line, f"clause {clause_id}: “values” must be a mapping of names to numbers")
            values = {}
        clauses.append({
            "id": clause_id,
            "title": reader.bilingual(path, text, raw, "title", line),
            "text": reader.bilingual(path, text, raw, "text", line),
            "basis": reader.bilingual(path, text, raw, "basis", line, required=False),
            "values": values,
        })
    parsed = ParsedRuleSet(version, title, dates["adopted_on"], dates["effective_from"], procedure, clauses,
                           sha256="", path=reader.rel(path))
    parsed.sha256 = digest({"version": version, "title": title, "adopted_on": parsed.adopted_on,
                            "effective_from": parsed.effective_from, "procedure": procedure, "clauses": clauses})
    return parsed


def _front_matter(reader: ContentReader, path: Path, text: str) -> dict | None:
    if not text.startswith("---\n"):
        reader.problem(path, 1, "course.md must start with front matter between two “---” lines")
        return None
    end = text.find("\n---", 4)
    if end < 0:
        reader.problem(path, 1, "the front matter is not closed by a “---” line")
        return None
    data = reader.yaml(path, text[4:end + 1], first_line=2)
    if data is not None and not isinstance(data, dict):
        reader.problem(path, 2, "the front matter must be a mapping (slug: …, title: …, chapters: …)")
        return None
    return data


def _read_course(reader: ContentReader, folder: Path, clauses_by_version: dict[str, set[str]]) -> ParsedCourse | None:
    path = folder / "course.md"
    if not path.exists():
        reader.problem(folder, 0, "a course folder needs a course.md")
        return None
    text = path.read_text(encoding="utf-8")
    data = _front_matter(reader, path, text)
    if data is None:
        return None
    line = lambda token: reader.line_of(text, token)  # noqa: E731
    slug = str(data.get("slug", ""))
    if slug != folder.name or not SLUG.fullmatch(slug):
        reader.problem(path, line("slug:"), f"slug “{slug}” must equal the folder name “{folder.name}” "
                                           f"(lower-case letters, digits and hyphens)")
    kind = data.get("kind")
    if kind not in COURSE_KINDS:
        reader.problem(path, line("kind:"), f"kind must be one of {', '.join(COURSE_KINDS)} (got {kind!r})")
    audience = data.get("audience") or []
    if not isinstance(audience, list) or not all(isinstance(tag, str) for tag in audience):
        reader.problem(path, line("audience:"), "audience must be a list of tags, e.g. [all, onboarding]")
        audience = []
    rules_version = data.get("rules_version")
    rules_version = None if rules_version is None else str(rules_version)
    known_clauses = clauses_by_version.get(rules_version, set()) if rules_version else set()
    if rules_version and rules_version not in clauses_by_version:
        reader.problem(path, line("rules_version:"), f"no rule set has version {rules_version}")
    chapters, keys = [], set()
    raw_chapters = data.get("chapters")
    if not isinstance(raw_chapters, list) or not raw_chapters:
        reader.problem(path, line("chapters:"), "“chapters” must be a non-empty list")
        raw_chapters = []
    for raw in raw_chapters:
        key = str(raw.get("id", "")) if isinstance(raw, dict) else ""
        chapter_line = line(f"id: {key}") if key else line("chapters:")
        if not SLUG.fullmatch(key):
            reader.problem(path, chapter_line, f"a chapter needs an id like leave-and-absence (got {key!r})")
            continue
        if key in keys:
            reader.problem(path, chapter_line, f"chapter {key} appears twice")
        keys.add(key)
        rule_ids = raw.get("rules") or []
        if not isinstance(rule_ids, list):
            reader.problem(path, chapter_line, f"chapter {key}: “rules” must be a list of clause ids")
            rule_ids = []
        if rule_ids and not rules_version:
            reader.problem(path, chapter_line, f"chapter {key} teaches rules, so the course needs a rules_version")
        for clause_id in rule_ids:
            if rules_version in clauses_by_version and clause_id not in known_clauses:
                reader.problem(path, reader.line_of(text, str(clause_id)),
                               f"chapter {key} cites clause {clause_id}, which rule set {rules_version} does not have")
        texts = {}
        for lang in LANGS:
            chapter_path = folder / "chapters" / f"{key}.{lang}.md"
            if not chapter_path.exists():
                reader.problem(chapter_path, 0, f"chapter {key} has no {lang} text (expected this file)")
                texts[lang] = ""
                continue
            texts[lang] = normalise(chapter_path.read_text(encoding="utf-8"))
            if not texts[lang].strip():
                reader.problem(chapter_path, 1, "the chapter text is empty")
        title = reader.bilingual(path, text, raw, "title", chapter_line)
        chapters.append(ParsedChapter(
            key=key, title=title, rule_ids=[str(r) for r in rule_ids], markdown=texts,
            html={lang: render_markdown(texts[lang]) for lang in LANGS},
            sha256=digest({"key": key, "title": title, "rules": rule_ids, "text": texts}),
        ))
    title = reader.bilingual(path, text, data, "title")
    summary = reader.bilingual(path, text, data, "summary", required=False)
    course = ParsedCourse(slug, kind, title, summary, audience, rules_version, chapters, "", reader.rel(path))
    course.sha256 = digest({"slug": slug, "kind": kind, "title": title, "summary": summary, "audience": audience,
                            "rules_version": rules_version, "chapters": [c.sha256 for c in chapters]})
    return course


def read_content(root: Path, known_rule_versions: dict[str, set[str]] | None = None,
                 known_courses: set[str] | None = None) -> Content:
    """Parse and validate everything under `root`; raise ContentError listing every problem.

    `known_rule_versions` are rule sets already in the database (version → clause ids), so a
    course may cite a version whose file has been archived.
    """
    reader = ContentReader(root)
    content = Content()
    for path in sorted((root / "rules").glob("*.yaml")):
        parsed = _read_rule_set(reader, path)
        if parsed:
            content.rule_sets.append(parsed)
    clauses = dict(known_rule_versions or {})
    clauses.update({r.version: {c["id"] for c in r.clauses} for r in content.rule_sets})
    courses_root = root / "courses"
    for folder in sorted(p for p in courses_root.iterdir() if p.is_dir()) if courses_root.exists() else []:
        parsed = _read_course(reader, folder, clauses)
        if parsed:
            content.courses.append(parsed)
    from lms.exams.content import read_exams  # exams build on courses; read here to report all at once

    course_slugs = set(known_courses or ()) | {c.slug for c in content.courses}
    content.banks, content.exams = read_exams(reader, root, clauses, course_slugs)
    from lms.documents.content import read_templates  # document templates: same sync, same all-or-nothing

    content.templates = read_templates(reader, root)
    if reader.problems:
        raise ContentError(reader.problems)
    return content
