"""Reading content/exams/: question banks and exam definitions, validated like courses.

  content/exams/banks/<bank>.yaml   questions, each tagged with the rule clause it tests
  content/exams/<exam>.yaml         which bank, how many questions per clause, limits, pass mark
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lms.courses.content import SLUG, ContentReader, digest

QUESTION_TYPES = ("single", "multiple", "truefalse", "scenario")
PART_TYPES = ("single", "multiple", "truefalse")
OPTION_IDS = ("a", "b", "c", "d", "e")


@dataclass
class ParsedBank:
    slug: str
    rules_version: str
    questions: list[dict]
    sha256: str
    path: str


@dataclass
class ParsedExam:
    slug: str
    title: dict
    course_slug: str
    bank_slug: str
    draw: dict
    time_limit_minutes: int
    max_attempts: int
    pass_mark: int
    partial_credit: bool
    is_onboarding: bool
    sha256: str
    path: str


def question_clause(question: dict) -> str:
    """The clause a question counts under (a scenario: its first part's)."""
    return question["parts"][0]["clause"] if question["type"] == "scenario" else question["clause"]


def _check_item(reader: ContentReader, path: Path, text: str, item: dict, where: str, line: int,
                clauses: set[str], types: tuple[str, ...]) -> dict | None:
    kind = item.get("type")
    if kind not in types:
        reader.problem(path, line, f"{where}: type must be one of {', '.join(types)} (got {kind!r})")
        return None
    checked = {"id": item.get("id"), "type": kind, "stem": reader.bilingual(path, text, item, "stem", line)}
    if kind == "scenario":
        parts = item.get("parts")
        if not isinstance(parts, list) or not 1 <= len(parts) <= 4:
            reader.problem(path, line, f"{where}: a scenario needs 1 to 4 parts")
            return None
        checked["parts"], seen = [], set()
        for part in parts:
            part_id = str(part.get("id", "")) if isinstance(part, dict) else ""
            if not SLUG.fullmatch(part_id) or part_id in seen:
                reader.problem(path, line, f"{where}: each part needs a unique id like p1 (got {part_id!r})")
                continue
            seen.add(part_id)
            parsed = _check_item(reader, path, text, part, f"{where}/{part_id}", line, clauses, PART_TYPES)
            if parsed:
                checked["parts"].append(parsed)
        return checked if len(checked["parts"]) == len(parts) else None
    clause = item.get("clause")
    if clause not in clauses:
        reader.problem(path, reader.line_of(text, str(clause), line) if clause else line,
                       f"{where}: clause {clause!r} is not in the bank's rule set")
    checked["clause"] = clause
    checked["explanation"] = reader.bilingual(path, text, item, "explanation", line)
    if kind == "truefalse":
        if not isinstance(item.get("answer"), bool):
            reader.problem(path, line, f"{where}: a true/false question needs answer: true or false")
        checked["answer"] = item.get("answer")
        return checked
    options = item.get("options")
    if not isinstance(options, list) or not 3 <= len(options) <= 5:
        reader.problem(path, line, f"{where}: give 3 to 5 options")
        return None
    checked["options"] = []
    for option in options:
        option_id = option.get("id") if isinstance(option, dict) else None
        if option_id not in OPTION_IDS or any(o["id"] == option_id for o in checked["options"]):
            reader.problem(path, line, f"{where}: option ids are a to e, each once (got {option_id!r})")
            return None
        if not all(isinstance(option.get(lang), str) and option[lang].strip() for lang in ("zh", "en")):
            reader.problem(path, line, f"{where}: option {option_id} needs zh and en text")
            return None
        checked["options"].append({"id": option_id, "zh": option["zh"].strip(), "en": option["en"].strip(),
                                   "correct": option.get("correct") is True})
    correct = sum(o["correct"] for o in checked["options"])
    if kind == "single" and correct != 1:
        reader.problem(path, line, f"{where}: a single-choice question has exactly one correct option ({correct})")
    if kind == "multiple" and correct < 2:
        reader.problem(path, line, f"{where}: a multiple-choice question has at least two correct options")
    return checked


def _read_bank(reader: ContentReader, path: Path, clauses_by_version: dict[str, set[str]]) -> ParsedBank | None:
    text = path.read_text(encoding="utf-8")
    data = reader.yaml(path, text)
    if not isinstance(data, dict):
        if data is not None:
            reader.problem(path, 1, "a bank is a mapping with bank, rules_version and questions")
        return None
    slug = str(data.get("bank", ""))
    if slug != path.stem:
        reader.problem(path, reader.line_of(text, "bank:"), f"bank “{slug}” must equal the file name “{path.stem}”")
    rules_version = str(data.get("rules_version", ""))
    clauses = clauses_by_version.get(rules_version)
    if clauses is None:
        reader.problem(path, reader.line_of(text, "rules_version:"), f"no rule set has version {rules_version!r}")
        clauses = set()
    questions, seen = [], set()
    for item in data.get("questions") or []:
        question_id = str(item.get("id", "")) if isinstance(item, dict) else ""
        line = reader.line_of(text, f"id: {question_id}") if question_id else reader.line_of(text, "questions:")
        if not SLUG.fullmatch(question_id) or question_id in seen:
            reader.problem(path, line, f"each question needs a unique id like notice-single-1 (got {question_id!r})")
            continue
        seen.add(question_id)
        checked = _check_item(reader, path, text, item, f"question {question_id}", line, clauses, QUESTION_TYPES)
        if checked:
            questions.append(checked)
    if not questions:
        reader.problem(path, 1, "the bank has no valid questions")
    return ParsedBank(slug, rules_version, questions, digest(questions), reader.rel(path))


def _read_exam(reader: ContentReader, path: Path, banks: dict[str, ParsedBank],
               course_slugs: set[str]) -> ParsedExam | None:
    text = path.read_text(encoding="utf-8")
    data = reader.yaml(path, text)
    if not isinstance(data, dict):
        return None
    line = lambda token: reader.line_of(text, token)  # noqa: E731
    slug = str(data.get("exam", ""))
    if slug != path.stem:
        reader.problem(path, line("exam:"), f"exam “{slug}” must equal the file name “{path.stem}”")
    course_slug = str(data.get("course", ""))
    if course_slug not in course_slugs:
        reader.problem(path, line("course:"), f"no course has slug {course_slug!r}")
    bank = banks.get(str(data.get("bank", "")))
    if bank is None:
        reader.problem(path, line("bank:"), f"no bank is called {data.get('bank')!r}")
    draw = data.get("draw")
    if not isinstance(draw, dict) or not draw:
        reader.problem(path, line("draw:"), "draw maps clause ids to how many questions to draw")
        draw = {}
    for clause, count in draw.items():
        if not isinstance(count, int) or count < 1:
            reader.problem(path, line(f"{clause}:"), f"draw {clause}: a positive whole number")
            continue
        available = sum(1 for q in bank.questions if question_clause(q) == clause) if bank else 0
        if bank and available < count:
            reader.problem(path, line(f"{clause}:"),
                           f"draw {clause}: {count} wanted but bank {bank.slug} has {available} question(s)")
    numbers = {}
    for key, low, high in (("time_limit_minutes", 1, 600), ("max_attempts", 1, 20), ("pass_mark", 1, 100)):
        value = data.get(key)
        if not isinstance(value, int) or not low <= value <= high:
            reader.problem(path, line(f"{key}:"), f"{key} must be a whole number from {low} to {high}")
        numbers[key] = value
    parsed = ParsedExam(slug, reader.bilingual(path, text, data, "title"), course_slug, bank.slug if bank else "",
                        draw, numbers["time_limit_minutes"], numbers["max_attempts"], numbers["pass_mark"],
                        data.get("partial_credit") is True, data.get("onboarding") is True, "", reader.rel(path))
    parsed.sha256 = digest({k: v for k, v in vars(parsed).items() if k not in ("sha256", "path")}
                           | {"bank_sha256": bank.sha256 if bank else None})
    return parsed


def read_exams(reader: ContentReader, root: Path, clauses_by_version: dict[str, set[str]],
               course_slugs: set[str]) -> tuple[list[ParsedBank], list[ParsedExam]]:
    """Banks and exams under root/exams; problems go to `reader`."""
    folder = root / "exams"
    banks = [b for p in sorted((folder / "banks").glob("*.yaml")) if (b := _read_bank(reader, p, clauses_by_version))]
    by_slug = {b.slug: b for b in banks}
    exams = [e for p in sorted(folder.glob("*.yaml")) if (e := _read_exam(reader, p, by_slug, course_slugs))]
    return banks, exams
