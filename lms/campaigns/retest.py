"""Re-testing what each person got wrong: the personalised draw of a refresher, progress per clause."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from lms.campaigns import services
from lms.exams import services as exams
from lms.exams.content import question_clause
from lms.exams.models import ExamAttempt, ExamVersion
from lms.extensions import db


def wrong_clauses(attempt: ExamAttempt) -> set[str]:
    """The clauses of every question or scenario part answered wrongly in a graded attempt."""
    wrong = set()
    answers = attempt.answers or {}
    for item in attempt.paper:
        units = item["parts"] if item["type"] == "scenario" else [item]
        key = exams.answer_key(item)
        for unit, slot in zip(units, exams.answer_keys(item), strict=True):
            if sorted(answers.get(slot, [])) != sorted(key[slot]):
                wrong.add(unit.get("clause") or question_clause(item))
    return wrong


def last_graded_attempt(employee_id: int) -> ExamAttempt | None:
    return db.session.scalars(select(ExamAttempt).where(
        ExamAttempt.employee_id == employee_id, ExamAttempt.submitted_at.is_not(None))
        .order_by(ExamAttempt.submitted_at.desc(), ExamAttempt.id.desc()).limit(1)).first()


def personal_draw(exam: ExamVersion, employee_id: int, extra: int) -> dict[str, int]:
    """The exam's counts, and for each clause wrong in the last graded attempt that count + `extra`."""
    draw = dict(exam.draw)
    last = last_graded_attempt(employee_id)
    if last is not None:
        for clause in wrong_clauses(last):
            draw[clause] = exam.draw.get(clause, 0) + extra
    return draw


def refresher_cycle(employee_id: int, slug: str) -> exams.AttemptCycle | None:
    """The cycle policy: an open assignment of this exam starts a cycle with a personalised draw."""
    assignment = services.open_assignment(employee_id, slug)
    if assignment is None:
        return None
    exam = exams.current_exam(slug)
    return exams.AttemptCycle(since=assignment.assigned_at,
                              draw=personal_draw(exam, employee_id, assignment.retest_extra) if exam else None)


def clause_progress(employee_id: int) -> list[dict]:
    """Per clause, right/asked in each graded attempt in order: how the person does across cycles."""
    attempts = list(db.session.scalars(select(ExamAttempt).where(
        ExamAttempt.employee_id == employee_id, ExamAttempt.submitted_at.is_not(None))
        .order_by(ExamAttempt.submitted_at, ExamAttempt.id).options(selectinload(ExamAttempt.stored_paper))))
    clauses: dict[str, list] = {}
    for index, attempt in enumerate(attempts):
        wrong = wrong_clauses(attempt)
        asked: dict[str, int] = {}
        right: dict[str, int] = {}
        answers = attempt.answers or {}
        for item in attempt.paper:
            units = item["parts"] if item["type"] == "scenario" else [item]
            key = exams.answer_key(item)
            for unit, slot in zip(units, exams.answer_keys(item), strict=True):
                clause = unit.get("clause") or question_clause(item)
                asked[clause] = asked.get(clause, 0) + 1
                if sorted(answers.get(slot, [])) == sorted(key[slot]):
                    right[clause] = right.get(clause, 0) + 1
        for clause in asked:
            row = clauses.setdefault(clause, [None] * len(attempts))
            row[index] = {"right": right.get(clause, 0), "asked": asked[clause], "all_right": clause not in wrong}
    return [{"clause": clause, "cycles": cells, "attempts": attempts} for clause, cells in sorted(clauses.items())]


def register() -> None:
    """Hook into exams (which must not import campaigns): cycles, and completion on a pass."""
    if refresher_cycle not in exams.cycle_policies:
        exams.cycle_policies.append(refresher_cycle)
    if services.complete_by_attempt not in exams.pass_listeners:
        exams.pass_listeners.append(services.complete_by_attempt)


register()
