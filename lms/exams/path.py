"""The learner's path through a course and its exam: the one next step, the state of each exam, the
chapters to re-read after a failed attempt. Read-only: the pages ask, the services act."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms.courses import services as courses
from lms.courses.models import Attestation, Chapter, ChapterProgress, CourseVersion, Enrollment
from lms.exams import services
from lms.exams.models import Certificate, CoachingTask, ExamAttempt, ExamVersion
from lms.extensions import db

STATE_LABELS = {
    "start": _l("not taken yet"), "continue": _l("in progress"), "make_up": _l("make-up open"),
    "coaching": _l("waiting for coaching"), "failed_all": _l("failed every attempt"), "passed": _l("passed"),
}


@dataclass
class ExamState:
    """Where a person stands with one exam.

    kind: "start" (never tried), "continue" (an attempt is open), "make_up" (failed, may try again
    now), "coaching" (failed, the make-up waits for the manager's coaching), "failed_all" (no attempt
    left), "passed".
    """

    exam: ExamVersion
    kind: str
    attempts: list[ExamAttempt]
    open_attempt: ExamAttempt | None = None
    task: CoachingTask | None = None
    certificate: Certificate | None = None

    @property
    def may_start(self) -> bool:
        return self.kind in ("start", "continue", "make_up")

    @property
    def last(self) -> ExamAttempt | None:
        return self.attempts[-1] if self.attempts else None


def exam_state(employee_id: int, exam: ExamVersion) -> ExamState:
    """The person's state in `exam`, by the same rule start_attempt applies."""
    tries = services.attempts_of(employee_id, exam.slug)
    opened = next((a for a in tries if services.is_open(a)), None)
    if opened is not None:
        return ExamState(exam, "continue", tries, open_attempt=opened)
    cycle = services.current_cycle(employee_id, exam.slug)
    refused = services.refusal(employee_id, exam, tries, cycle)
    if refused == "passed":
        passed = next(a for a in reversed(tries) if a.is_passed)
        certificate = db.session.scalars(select(Certificate).where(Certificate.attempt_id == passed.id)).first()
        return ExamState(exam, "passed", tries, certificate=certificate)
    if refused == "no_attempts_left":
        return ExamState(exam, "failed_all", tries)
    if refused == "waiting_for_coaching":
        return ExamState(exam, "coaching", tries, task=services.coaching_blocks(employee_id, exam.slug))
    this_cycle = [a for a in tries if cycle is None or a.started_at >= cycle.since]
    return ExamState(exam, "make_up" if this_cycle else "start", tries)


def course_exam(course_slug: str) -> ExamVersion | None:
    """The exam a course leads to on its last page: its onboarding exam (refreshers come by campaign)."""
    return next((e for e in services.current_exams() if e.course_slug == course_slug and e.is_onboarding), None)


def is_chapter_done(chapter: Chapter, progress: ChapterProgress | None, attested: set[str]) -> bool:
    """A chapter that teaches rules is done when confirmed; any other when marked read."""
    if chapter.rule_ids:
        return chapter.sha256 in attested
    return bool(progress and progress.completed_at)


@dataclass
class CourseStatus:
    """One of the person's courses: chapters done, the next chapter, the exam it leads to."""

    enrollment: Enrollment
    version: CourseVersion
    done: int
    next_chapter: Chapter | None
    next_opened: bool
    exam: ExamState | None
    certificates: list[Certificate] = field(default_factory=list)


def course_statuses(employee_id: int) -> list[CourseStatus]:
    """Every course the person is enrolled in, the onboarding course first."""
    enrollments = courses.enrollments_for(employee_id)
    if not enrollments:
        return []
    versions = {v.course_id: v for v in courses.current_versions()}
    progress = {(p.enrollment_id, p.chapter_key): p for p in db.session.scalars(
        select(ChapterProgress).where(ChapterProgress.enrollment_id.in_([e.id for e in enrollments])))}
    attested = set(db.session.scalars(select(Attestation.chapter_sha256).where(
        Attestation.employee_id == employee_id)))
    statuses = []
    for enrollment in enrollments:
        version = versions.get(enrollment.course_id)
        if version is None:
            continue
        pending = [c for c in version.chapters
                   if not is_chapter_done(c, progress.get((enrollment.id, c.key)), attested)]
        exam = course_exam(enrollment.course.slug)
        nxt = pending[0] if pending else None
        statuses.append(CourseStatus(
            enrollment=enrollment, version=version, done=len(version.chapters) - len(pending), next_chapter=nxt,
            next_opened=nxt is not None and (enrollment.id, nxt.key) in progress,
            exam=exam_state(employee_id, exam) if exam else None))
    statuses.sort(key=lambda s: (s.exam is None, s.enrollment.enrolled_at))
    return statuses


@dataclass
class NextStep:
    """What the person should do now: kind is one of "read", "confirm", "exam", "continue", "coaching",
    "make_up", "failed_all", "certificate" (passed: download it), or "done" (nothing open)."""

    kind: str
    course: CourseStatus | None = None


def next_step(employee_id: int, statuses: list[CourseStatus] | None = None) -> NextStep:
    """The first open step over the person's courses: read or confirm the next chapter, then the exam."""
    statuses = course_statuses(employee_id) if statuses is None else statuses
    for status in statuses:
        if status.next_chapter is not None:
            confirm = bool(status.next_chapter.rule_ids) and status.next_opened
            return NextStep("confirm" if confirm else "read", status)
        if status.exam is not None and status.exam.kind != "passed":
            kind = {"start": "exam"}.get(status.exam.kind, status.exam.kind)
            return NextStep(kind, status)
    passed = next((s for s in statuses if s.exam is not None and s.exam.certificate is not None), None)
    if passed is not None:
        return NextStep("certificate", passed)
    return NextStep("done")


def chapters_to_reread(attempt: ExamAttempt) -> list[Chapter]:
    """The chapters of the exam's course that teach the rules of the questions this attempt missed."""
    return courses.chapters_teaching(attempt.exam_version.course_slug, services.missed_clauses(attempt))
