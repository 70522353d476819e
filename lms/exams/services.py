"""Saving banks and exams, drawing papers, saving answers, grading on the server."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, select, true, update
from sqlalchemy.orm import joinedload

from lms import clock, evidence, notify
from lms.commits import commit_keeping_objects, commit_without_waiting_for_disk
from lms.courses import services as courses
from lms.exams.certificates import issue_certificate
from lms.exams.content import question_clause
from lms.exams.models import CoachingTask, ExamAttempt, ExamPaper, ExamVersion, QuestionBank
from lms.extensions import db
from lms.people import services as people
from lms.people.access import hr_employee_ids
from lms.people.models import Employee, TokenHolder
from lms.ui import external_url

GRACE = timedelta(seconds=60)  # a submit this late still counts its answers (a slow network)
_random = random.SystemRandom()


@dataclass(frozen=True)
class AttemptCycle:
    """A cycle of an exam someone sits again (a refresher): attempts before `since` belong to earlier
    cycles (their passes and tries do not count now); `draw` replaces the exam's per-clause counts."""

    since: datetime
    draw: dict[str, int] | None = None


# Higher domains (campaigns) hook in here, so exams need not import them: `cycle_policies` say which
# cycle an attempt starts in, `pass_listeners` hear of each passed attempt (by id) after its commit.
cycle_policies: list[Callable[[int, str], AttemptCycle | None]] = []
pass_listeners: list[Callable[[int], None]] = []


def current_cycle(employee_id: int, slug: str) -> AttemptCycle | None:
    for policy in cycle_policies:
        cycle = policy(employee_id, slug)
        if cycle is not None:
            return cycle
    return None


REFUSALS = {
    "passed": _l("You have already passed this exam."),
    "no_attempts_left": _l("You have used all your attempts for this exam."),
    "waiting_for_coaching": _l("The make-up exam opens after your manager's coaching."),
    "no such exam": _l("There is no such exam."),
}


class ExamRefused(Exception):
    """Why an attempt cannot start: a code (str(exc)) and words for the learner (exc.message)."""

    @property
    def message(self) -> str:
        return str(REFUSALS.get(str(self), str(self)))


# ---------------------------------------------------------------- content


def save_exam_content(banks, exams, actor=None) -> list[str]:
    """New versions of changed banks and exams (in the caller's transaction)."""
    lines = []
    saved = {}
    for parsed in banks:
        latest = db.session.scalars(select(QuestionBank).where(QuestionBank.slug == parsed.slug)
                                    .order_by(QuestionBank.number.desc()).limit(1)).first()
        if latest and latest.sha256 == parsed.sha256:
            saved[parsed.slug] = latest
            lines.append(f"bank {parsed.slug}: unchanged (version {latest.number})")
            continue
        bank = QuestionBank(slug=parsed.slug, number=(latest.number + 1) if latest else 1, sha256=parsed.sha256,
                            rules_version=parsed.rules_version, questions=parsed.questions)
        db.session.add(bank)
        db.session.flush()
        saved[parsed.slug] = bank
        evidence.record("exams.bank_loaded", f"bank:{parsed.slug}", {
            "version": bank.number, "sha256": bank.sha256, "questions": len(parsed.questions)}, actor=actor)
        lines.append(f"bank {parsed.slug}: new version {bank.number} ({len(parsed.questions)} questions)")
    for parsed in exams:
        latest = db.session.scalars(select(ExamVersion).where(ExamVersion.slug == parsed.slug)
                                    .order_by(ExamVersion.number.desc()).limit(1)).first()
        if latest and latest.sha256 == parsed.sha256:
            lines.append(f"exam {parsed.slug}: unchanged (version {latest.number})")
            continue
        exam = ExamVersion(
            slug=parsed.slug, number=(latest.number + 1) if latest else 1, sha256=parsed.sha256,
            title_zh=parsed.title["zh"], title_en=parsed.title["en"], course_slug=parsed.course_slug,
            bank_id=saved[parsed.bank_slug].id, draw=parsed.draw, time_limit_minutes=parsed.time_limit_minutes,
            max_attempts=parsed.max_attempts, pass_mark=parsed.pass_mark, partial_credit=parsed.partial_credit,
            is_onboarding=parsed.is_onboarding)
        db.session.add(exam)
        db.session.flush()
        evidence.record("exams.exam_loaded", f"exam:{parsed.slug}", {
            "version": exam.number, "sha256": exam.sha256, "bank": parsed.bank_slug, "draw": parsed.draw,
            "pass_mark": parsed.pass_mark}, actor=actor)
        lines.append(f"exam {parsed.slug}: new version {exam.number}")
    return lines


def current_exams() -> list[ExamVersion]:
    newest = select(ExamVersion.slug, func.max(ExamVersion.number).label("number")).group_by(ExamVersion.slug) \
        .subquery()
    return list(db.session.scalars(select(ExamVersion).join(
        newest, (ExamVersion.slug == newest.c.slug) & (ExamVersion.number == newest.c.number))
        .order_by(ExamVersion.slug)))


def current_exam(slug: str) -> ExamVersion | None:
    """The newest version of the exam, with its bank (drawing and grading read both)."""
    return db.session.scalars(select(ExamVersion).where(ExamVersion.slug == slug).options(joinedload(ExamVersion.bank))
                              .order_by(ExamVersion.number.desc()).limit(1)).first()


# ---------------------------------------------------------------- papers


def _shuffled_item(item: dict) -> dict:
    """A question or part with its options in a new order; option keys are positions 1, 2, …"""
    drawn = {k: v for k, v in item.items() if k not in ("options", "parts")}
    if "options" in item:
        options = list(item["options"])
        _random.shuffle(options)
        drawn["options"] = [{**option, "key": str(n)} for n, option in enumerate(options, start=1)]
    if "parts" in item:
        drawn["parts"] = [_shuffled_item(part) for part in item["parts"]]
    return drawn


# A bank version never changes once loaded, so its parsed questions are kept per process, keyed by
# the file's hash: starting an exam then neither reads nor parses the whole bank.
_BANK_QUESTIONS: dict[str, list[dict]] = {}


def bank_questions(bank: QuestionBank) -> list[dict]:
    """The bank's questions (shared: read, never change them)."""
    questions = _BANK_QUESTIONS.get(bank.sha256)
    if questions is None:
        questions = _BANK_QUESTIONS[bank.sha256] = bank.questions
    return questions


def draw_paper(exam: ExamVersion, seen: set[str], draw: dict[str, int] | None = None) -> list[dict]:
    """N questions per clause (the exam's counts, or `draw`'s), preferring ones this person has not
    had before, shuffled."""
    chosen = []
    for clause, count in sorted((draw or exam.draw).items()):
        pool = [q for q in bank_questions(exam.bank) if question_clause(q) == clause]
        fresh = [q for q in pool if q["id"] not in seen]
        _random.shuffle(fresh)
        rest = [q for q in pool if q["id"] in seen]
        _random.shuffle(rest)
        chosen.extend((fresh + rest)[:count])
    _random.shuffle(chosen)
    return [{**_shuffled_item(q), "n": n} for n, q in enumerate(chosen, start=1)]


def attempts_of(employee_id: int, slug: str) -> list[ExamAttempt]:
    return list(db.session.scalars(select(ExamAttempt).where(
        ExamAttempt.employee_id == employee_id, ExamAttempt.exam_slug == slug).order_by(ExamAttempt.number)))


def start_attempt(employee_id: int, slug: str, actor=None) -> ExamAttempt:
    """A new attempt with a frozen draw, or the one still open. Raises ExamRefused."""
    exam = current_exam(slug)
    if exam is None:
        raise ExamRefused("no such exam")
    previous = attempts_of(employee_id, slug)
    now = clock.now()
    for attempt in previous:
        if attempt.submitted_at is None and now <= attempt.deadline_at + GRACE:
            return attempt
    for attempt in previous:  # an attempt left open past its time is graded on what was saved
        if attempt.submitted_at is None:
            submit(attempt, None, actor)
    cycle = current_cycle(employee_id, slug)
    refused = refusal(employee_id, exam, previous, cycle)
    if refused:
        raise ExamRefused(refused)
    # Questions had before: in this exam's attempts, and for a refresher in any exam of the same rules.
    papers_seen = select(ExamPaper.questions).join(ExamAttempt, ExamAttempt.id == ExamPaper.attempt_id).where(
        ExamAttempt.employee_id == employee_id, true() if cycle is not None else ExamAttempt.exam_slug == slug)
    seen = {item["id"] for paper in db.session.scalars(papers_seen) for item in paper} if previous or cycle else set()
    draw = cycle.draw if cycle is not None else None
    paper = draw_paper(exam, seen, draw)
    attempt = ExamAttempt(employee_id=employee_id, exam_slug=slug, exam_version_id=exam.id,
                          number=len(previous) + 1, started_at=now,
                          deadline_at=now + timedelta(minutes=exam.time_limit_minutes),
                          paper=paper, slots=[slot for item in paper for slot in answer_keys(item)], answers={})
    db.session.add(attempt)
    db.session.flush()
    evidence.record("exams.attempt_started", evidence.subject_of("employee", employee_id), {
        "exam": slug, "exam_version": exam.number, "attempt": attempt.number, "attempt_id": attempt.id,
        "questions": [item["id"] for item in attempt.paper], "deadline_at": attempt.deadline_at,
        **({"draw": draw} if draw else {})}, actor=actor)
    commit_keeping_objects()  # the caller shows the paper it has just drawn
    return attempt


def refusal(employee_id: int, exam: ExamVersion, previous: list[ExamAttempt],
            cycle: AttemptCycle | None) -> str | None:
    """Why no new attempt may start now (a REFUSALS code), or None; `previous` are all the person's attempts."""
    this_cycle = [a for a in previous if cycle is None or a.started_at >= cycle.since]
    if any(a.is_passed for a in this_cycle):
        return "passed"
    if len(this_cycle) >= exam.max_attempts:
        return "no_attempts_left"
    if coaching_blocks(employee_id, exam.slug):
        return "waiting_for_coaching"
    return None


def is_open(attempt: ExamAttempt) -> bool:
    return attempt.submitted_at is None and clock.now() <= attempt.deadline_at + GRACE


def answer_keys(item: dict) -> list[str]:
    """The answer slots of a paper item: its number, or number.part for each scenario part."""
    if item["type"] == "scenario":
        return [f"{item['n']}.{part['id']}" for part in item["parts"]]
    return [str(item["n"])]


_attempts = ExamAttempt.__table__
# The token check and what saving reads of the attempt, in one query and without the ORM: the busiest
# request reads both on every call. Built once, like any statement on a hot path.
_HOLDER_AND_ATTEMPT = (
    select(*people.HOLDER_COLUMNS, _attempts.c.id.label("attempt_id"), _attempts.c.employee_id.label("owner_id"),
           _attempts.c.slots, _attempts.c.answers, _attempts.c.submitted_at, _attempts.c.deadline_at)
    .select_from(people.TOKENS_WITH_USERS.outerjoin(_attempts, _attempts.c.id == bindparam("attempt_id")))
    .where(people.HOLDER_WHERE))


@dataclass(frozen=True)
class SavingRow:
    """What saving reads of an attempt (save_answers takes this or the ExamAttempt)."""

    id: int
    employee_id: int
    slots: list[str]
    answers: dict
    submitted_at: datetime | None
    deadline_at: datetime


# One UPDATE of the table, not the unit of work (its change tracking costs more than the write),
# and only while unsubmitted: a save racing the submit changes nothing.
_SAVE_ANSWERS = (update(_attempts).where(_attempts.c.id == bindparam("attempt_id"), _attempts.c.submitted_at.is_(None))
                 .values(answers=bindparam("answers")))


def holder_and_attempt_for_saving(plain_token: str, attempt_id: int) -> tuple[TokenHolder | None, SavingRow | None]:
    """The token's holder (people.token_holder's check and bookkeeping) and the attempt as saving needs it:
    (None, None) for no valid token, (holder, None) for no such attempt (whoever's it is, the caller checks)."""
    row = db.session.execute(_HOLDER_AND_ATTEMPT,
                             {"digest": people.token_digest(plain_token), "attempt_id": attempt_id}).first()
    holder = people.holder_of(row)
    if holder is None or row.attempt_id is None:
        return holder, None
    return holder, SavingRow(row.attempt_id, row.owner_id, row.slots, row.answers, row.submitted_at, row.deadline_at)


def save_answer(attempt: ExamAttempt, number: int, choices: dict[str, list[str]]) -> dict | None:
    """Keep the learner's choices for one question as they go; returns all saved answers, or
    None once the time is up."""
    return save_answers(attempt, {number: choices})


def save_answers(attempt, choices_by_number: dict[int, dict[str, list[str]]]) -> dict | None:
    """save_answer for several questions in one write; `attempt` is an ExamAttempt or a SavingRow."""
    if not is_open(attempt):
        return None
    answers = dict(attempt.answers or {})
    for number, choices in choices_by_number.items():
        slots = [slot for slot in attempt.slots if slot.split(".", 1)[0] == str(number)]
        if not slots:
            raise ValueError("no such question")
        for slot in slots:
            answers[slot] = sorted(set(choices.get(slot, [])))
    with commit_without_waiting_for_disk():  # an autosave: the submit is what must be durable
        saved = db.session.execute(_SAVE_ANSWERS, {"attempt_id": attempt.id, "answers": answers}).rowcount
    return answers if saved else None


def _grade_item(item: dict, chosen: list[str], partial: bool) -> Fraction:
    """Marks (0 to 1) for one question or part, exact: a third is 1/3, not 0.333…"""
    if item["type"] == "truefalse":
        return Fraction(1) if chosen == [str(item["answer"]).lower()] else Fraction(0)
    correct = {o["key"] for o in item["options"] if o["correct"]}
    picked = set(chosen)
    if picked == correct:
        return Fraction(1)
    if item["type"] == "multiple" and partial:
        right, wrong = len(picked & correct), len(picked - correct)
        return max(Fraction(0), Fraction(right - wrong, len(correct)))
    return Fraction(0)


def _decimal(value: Fraction, places: str) -> Decimal:
    """The one place exact marks become decimals: rounded half up to `places` (e.g. "0.1")."""
    return (Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal(places), rounding=ROUND_HALF_UP)


_CLAIM_SUBMISSION = (update(_attempts)
                     .where(_attempts.c.id == bindparam("attempt_id"), _attempts.c.submitted_at.is_(None))
                     .values(submitted_at=bindparam("submitted_now")).returning(_attempts.c.answers))


@dataclass(frozen=True)
class _Grade:
    answers: dict[str, list[str]]
    results: dict[str, dict]  # per question number: earned (a decimal string) and whether in full
    sheet: list[dict]  # per answer slot: what was chosen, what was right, the marks
    score: Decimal
    passed: bool


def _grade(attempt: ExamAttempt, exam: ExamVersion, answers: dict[str, list[str]]) -> _Grade:
    earned = Fraction(0)
    results, sheet = {}, []
    for item in attempt.paper:
        units = item["parts"] if item["type"] == "scenario" else [item]
        share = Fraction(1, len(units))  # exact: three thirds make one
        got = Fraction(0)
        for unit, key in zip(units, answer_keys(item), strict=True):
            chosen = answers.get(key, [])
            marks = _grade_item(unit, chosen, exam.partial_credit) * share
            got += marks
            sheet.append({"answer": key, "question": item["id"], "clause": unit.get("clause"),
                          "chosen": _original_ids(unit, chosen), "correct": _original_ids(unit, _key(unit)),
                          "marks": str(_decimal(marks, "0.001"))})
        results[str(item["n"])] = {"earned": str(_decimal(got, "0.001")), "full": got == 1}
        earned += got
    score = _decimal(earned * 100 / len(attempt.paper), "0.1")
    return _Grade(answers, results, sheet, score, score >= exam.pass_mark)


def _graded_answers(saved: dict | None, final_choices: dict[str, list[str]] | None, late: bool) -> dict:
    answers = dict(saved or {})
    if final_choices and not late:
        answers.update({k: sorted(set(v)) for k, v in final_choices.items()})
    return answers


def submit(attempt: ExamAttempt, final_choices: dict[str, list[str]] | None, actor=None) -> ExamAttempt:
    """Grade the attempt once. A second submission changes nothing; a late one counts only saved answers.

    Grading and drafting what a fail sends come first: the claim takes the write locks (SQLite's, and with
    the first event the evidence log's), held then for the writes alone. The claim brings back the answers
    as saved; if a save landed meanwhile, the grade is worked out again from those.
    """
    if attempt.submitted_at is not None:
        return attempt
    now = clock.now()
    late = now > attempt.deadline_at + GRACE
    exam = attempt.exam_version
    saved = dict(attempt.answers or {})
    grade = _grade(attempt, exam, _graded_answers(saved, final_choices, late))
    make_up = _make_up(attempt, exam, grade, now)
    # Of two submits racing (a double click, a retried request) one claims it and the other finds it taken.
    claimed = db.session.execute(_CLAIM_SUBMISSION, {"attempt_id": attempt.id, "submitted_now": now}).first()
    if claimed is None:
        db.session.rollback()
        return attempt
    if (claimed.answers or {}) != saved:
        grade = _grade(attempt, exam, _graded_answers(claimed.answers, final_choices, late))
        make_up = _make_up(attempt, exam, grade, now)
    # The event first, then the attempt's new state with the event's number: one UPDATE of the row.
    event = evidence.record("exams.attempt_submitted", evidence.subject_of("employee", attempt.employee_id), {
        "exam": attempt.exam_slug, "exam_version": exam.number, "exam_sha256": exam.sha256,
        "bank_sha256": exam.bank.sha256, "attempt": attempt.number, "attempt_id": attempt.id,
        "started_at": attempt.started_at, "deadline_at": attempt.deadline_at, "submitted_at": now,
        "late": late, "answer_sheet": grade.sheet, "score": str(grade.score), "pass_mark": exam.pass_mark,
        "passed": grade.passed}, actor=actor)
    attempt.answers, attempt.results = grade.answers, grade.results
    attempt.submitted_at, attempt.is_late = now, late
    attempt.score, attempt.is_passed, attempt.evidence_seq = grade.score, grade.passed, event.seq
    if grade.passed:
        issue_certificate(attempt)
        if exam.is_onboarding:
            people.activate(attempt.employee_id, reason=f"passed exam {exam.slug} (attempt {attempt.number})",
                            actor=actor, commit=False)
    elif make_up is not None:
        # The coaching task and its messages commit with the grade: a failed attempt never stands
        # without its make-up reminder.
        due_at, drafts = make_up
        _open_coaching(attempt, now, due_at)
        for drafted in drafts:
            notify.send_draft(drafted, commit=False)
    commit_keeping_objects()  # the caller answers with the graded attempt it holds
    notify.hand_off_written()
    if grade.passed:
        for listener in pass_listeners:
            listener(attempt.id)
    return attempt


# ---------------------------------------------------------------- the failure path


def _open_coaching(attempt: ExamAttempt, now: datetime, due_at: datetime) -> None:
    # Recording flushes the new task first: it is written before its event.
    task = CoachingTask(attempt_id=attempt.id, employee_id=attempt.employee_id, manager_id=attempt.employee.manager_id,
                        created_at=now, due_at=due_at)
    db.session.add(task)
    evidence.record("exams.coaching_requested", evidence.subject_of("employee", attempt.employee_id), {
        "attempt_id": attempt.id, "exam": attempt.exam_slug, "manager_id": task.manager_id, "due_at": due_at})


def missed_clauses(attempt: ExamAttempt, results: dict | None = None) -> set[str]:
    """The rule clauses of the questions a graded attempt (or these results of it) did not answer fully right."""
    results = (attempt.results if results is None else results) or {}
    return {question_clause(item) for item in attempt.paper if not results.get(str(item["n"]), {}).get("full")}


def _make_up(attempt: ExamAttempt, exam: ExamVersion, grade: _Grade, now: datetime) \
        -> tuple[datetime, list[notify.Draft]] | None:
    """For a fail with attempts left: when the coaching is due, and the make-up reminder to the employee and
    the coaching request to the direct manager, drafted. None when there is no make-up."""
    if grade.passed or attempt.number >= exam.max_attempts:
        return None
    due_at = now + timedelta(days=current_app.config["LMS_COACHING_DAYS"])
    reread = [{"zh": c.title_zh, "en": c.title_en,
               "url": external_url("courses.chapter", slug=exam.course_slug, key=c.key)}
              for c in courses.chapters_teaching(exam.course_slug, missed_clauses(attempt, grade.results))]
    context = {"exam_zh": exam.title_zh, "exam_en": exam.title_en, "score": str(grade.score),
               "pass_mark": exam.pass_mark, "employee": attempt.employee.name, "reread": reread,
               "due": clock.local(due_at).strftime("%Y-%m-%d %H:%M")}
    subject = evidence.subject_of("employee", attempt.employee_id)
    drafts = [notify.draft(f"exam-make-up:{attempt.id}", attempt.employee, "exam_make_up", context,
                           ["inapp", "sms"], evidence_subject=subject)]
    manager_id = attempt.employee.manager_id
    if manager_id:
        drafts.append(notify.draft(f"exam-coaching:{attempt.id}", manager_id, "exam_coaching", context, ["inapp"],
                                   evidence_subject=subject))
    return due_at, drafts


def coaching_blocks(employee_id: int, slug: str) -> CoachingTask | None:
    """The open coaching task that keeps the make-up locked, if any."""
    return db.session.scalars(
        select(CoachingTask).join(ExamAttempt, ExamAttempt.id == CoachingTask.attempt_id)
        .where(CoachingTask.employee_id == employee_id, ExamAttempt.exam_slug == slug,
               CoachingTask.completed_at.is_(None), CoachingTask.due_at > clock.now())
    ).first()


class CoachingRefused(ValueError):
    """A coaching that cannot be recorded: the field at fault and the words for the manager."""

    def __init__(self, field: str, message):
        super().__init__(str(message))
        self.field, self.message = field, str(message)


def record_coaching(task: CoachingTask, coached_on, notes: str, actor) -> None:
    """The manager records when and what was covered; the make-up unlocks. The coaching took place
    between the failed attempt and today (CoachingRefused otherwise)."""
    if task.completed_at is not None:
        raise CoachingRefused("task", _l("This coaching is already recorded."))
    if coached_on > clock.today():
        raise CoachingRefused("coached_on", _l("The coaching date cannot be in the future."))
    failed_on = clock.local(task.attempt.submitted_at or task.created_at).date()
    if coached_on < failed_on:
        raise CoachingRefused("coached_on", _l("The coaching date cannot be before the failed attempt (%(date)s).",
                                               date=failed_on.isoformat()))
    task.coached_on, task.notes = coached_on, notes.strip()
    task.completed_at, task.completed_by = clock.now(), evidence.actor_of(actor)
    evidence.record("exams.coaching_recorded", evidence.subject_of("employee", task.employee_id), {
        "attempt_id": task.attempt_id, "coached_on": coached_on, "notes": task.notes}, actor=actor)
    db.session.commit()


def escalate_overdue_coaching(now) -> int:
    """Coaching not recorded by its due time goes to HR (once per task)."""
    overdue = db.session.scalars(select(CoachingTask).where(
        CoachingTask.completed_at.is_(None), CoachingTask.escalated_at.is_(None), CoachingTask.due_at <= now)).all()
    hr_people = hr_employee_ids()
    for task in overdue:
        task.escalated_at = now
        evidence.record("exams.coaching_escalated", evidence.subject_of("employee", task.employee_id),
                        {"attempt_id": task.attempt_id, "manager_id": task.manager_id, "due_at": task.due_at})
    db.session.commit()
    for task in overdue:
        for hr_id in hr_people:
            notify.send(f"exam-coaching-overdue:{task.id}", hr_id, "exam_coaching_overdue",
                        {"employee": task.employee.name, "manager": task.manager.name if task.manager else "—",
                         "due": clock.local(task.due_at).strftime("%Y-%m-%d %H:%M")}, ["inapp"],
                        evidence_subject=evidence.subject_of("employee", task.employee_id))
    return len(overdue)


def answer_key(item: dict) -> dict[str, list[str]]:
    """The right choices for every answer slot of a paper item (server side only)."""
    units = item["parts"] if item["type"] == "scenario" else [item]
    return {slot: _key(unit) for slot, unit in zip(answer_keys(item), units, strict=True)}


def _key(unit: dict) -> list[str]:
    if unit["type"] == "truefalse":
        return [str(unit["answer"]).lower()]
    return [o["key"] for o in unit["options"] if o["correct"]]


def _original_ids(unit: dict, keys: list[str]) -> list[str]:
    """Shuffled positions back to the bank's option ids, so the sheet reads the same for everyone."""
    if unit["type"] == "truefalse":
        return list(keys)
    by_key = {o["key"]: o["id"] for o in unit["options"]}
    return sorted(by_key[k] for k in keys if k in by_key)


def blocked_new_hires() -> list[dict]:
    """New hires not yet active, with the reason: not started, in progress, waiting for coaching,
    may retake, or failed every attempt. Three queries, whatever the headcount."""
    exam = next((e for e in current_exams() if e.is_onboarding), None)
    hires = db.session.scalars(select(Employee).where(Employee.status == "onboarding")
                               .options(joinedload(Employee.department)).order_by(Employee.hire_date)).all()
    ids = [e.id for e in hires]
    attempts: dict[int, list[ExamAttempt]] = {}
    open_tasks: set[int] = set()
    if exam and ids:
        for attempt in db.session.scalars(select(ExamAttempt).where(
                ExamAttempt.exam_slug == exam.slug, ExamAttempt.employee_id.in_(ids)).order_by(ExamAttempt.number)):
            attempts.setdefault(attempt.employee_id, []).append(attempt)
        open_tasks = set(db.session.scalars(select(CoachingTask.employee_id).join(
            ExamAttempt, ExamAttempt.id == CoachingTask.attempt_id).where(
            ExamAttempt.exam_slug == exam.slug, CoachingTask.employee_id.in_(ids),
            CoachingTask.completed_at.is_(None), CoachingTask.due_at > clock.now())))
    rows = []
    for hire in hires:
        tries = attempts.get(hire.id, [])
        if not exam:
            reason = "no_exam"
        elif not tries:
            reason = "not_started"
        elif tries[-1].submitted_at is None:
            reason = "in_progress"
        elif hire.id in open_tasks:
            reason = "waiting_for_coaching"
        elif len(tries) >= exam.max_attempts:
            reason = "failed_all"
        else:
            reason = "may_retake"
        rows.append({"employee": hire, "reason": reason, "attempts": len(tries),
                     "best": max((a.score for a in tries if a.score is not None), default=None)})
    return rows


def question_analytics(slug: str) -> list[dict]:
    """Per question of an exam: how often it was drawn and the share answered fully right.

    Reads submitted attempts in one query; the weakest rules come first, so HR knows what to
    teach better.
    """
    stats: dict[str, dict] = {}
    for paper, results in db.session.execute(
            select(ExamPaper.questions, ExamAttempt.results).join(ExamAttempt, ExamAttempt.id == ExamPaper.attempt_id)
            .where(ExamAttempt.exam_slug == slug, ExamAttempt.submitted_at.is_not(None))):
        for item in paper:
            row = stats.setdefault(item["id"], {"id": item["id"], "clause": question_clause(item),
                                                "stem": item["stem"], "drawn": 0, "right": 0})
            row["drawn"] += 1
            row["right"] += 1 if (results or {}).get(str(item["n"]), {}).get("full") else 0
    rows = list(stats.values())
    for row in rows:
        row["share"] = row["right"] / row["drawn"]
    return sorted(rows, key=lambda r: (r["share"], r["id"]))


def public_item(item: dict) -> dict:
    """A paper item as the learner may see it before submission: no key, no explanation."""
    shown = {"n": item.get("n"), "type": item["type"], "stem": item["stem"]}
    if "options" in item:
        shown["options"] = [{"key": o["key"], "zh": o["zh"], "en": o["en"]} for o in item["options"]]
    if "parts" in item:
        shown["parts"] = [{"id": p["id"], **{k: v for k, v in public_item(p).items() if k != "n"}}
                          for p in item["parts"]]
    return shown
