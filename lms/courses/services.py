"""Content sync, enrolment, reading progress, attestation and discussion."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import load_only, selectinload

from lms import clock, evidence
from lms.config import PROJECT_DIR
from lms.courses.content import ContentError, ContentProblem, read_content
from lms.courses.models import (
    DISCUSSED_KINDS,
    Attestation,
    Chapter,
    ChapterProgress,
    Course,
    CourseVersion,
    Enrollment,
    Post,
    RuleClause,
    RuleSet,
)
from lms.extensions import db
from lms.people.models import Employee

CONTENT_DIR = PROJECT_DIR / "content"
ONBOARDING = "onboarding"
MAX_READING_SECONDS = 30 * 60


# ---------------------------------------------------------------- content sync


@dataclass(frozen=True)
class SyncReport:
    lines: list[str]
    new_versions: int


def _known_rule_versions() -> dict[str, set[str]]:
    known: dict[str, set[str]] = {}
    for version, clause_id in db.session.execute(
        select(RuleSet.version, RuleClause.clause_id).join(RuleClause.rule_set)
    ):
        known.setdefault(version, set()).add(clause_id)
    return known


def sync_content(root: Path = CONTENT_DIR, actor=None) -> SyncReport:
    """Load content/ as new immutable versions where it changed; all of it or nothing."""
    content = read_content(root, _known_rule_versions(), set(db.session.scalars(select(Course.slug))))
    lines: list[str] = []
    new_versions = 0
    try:
        rule_sets = {r.version: r for r in db.session.scalars(select(RuleSet))}
        for parsed in content.rule_sets:
            existing = rule_sets.get(parsed.version)
            if existing and existing.sha256 != parsed.sha256:
                raise ContentError([ContentProblem(parsed.path, 1, f"rule set {parsed.version} was adopted with "
                                   "different content; adopted rules never change — save the change as a new "
                                   "version file")])
            if existing:
                lines.append(f"rules {parsed.version}: unchanged")
                continue
            rule_set = RuleSet(version=parsed.version, title_zh=parsed.title["zh"], title_en=parsed.title["en"],
                               adopted_on=parsed.adopted_on, effective_from=parsed.effective_from,
                               procedure_zh=parsed.procedure["zh"], procedure_en=parsed.procedure["en"],
                               sha256=parsed.sha256)
            rule_set.clauses = [RuleClause(
                position=i, clause_id=c["id"], title_zh=c["title"]["zh"], title_en=c["title"]["en"],
                text_zh=c["text"]["zh"], text_en=c["text"]["en"], basis_zh=c["basis"]["zh"] or None,
                basis_en=c["basis"]["en"] or None, values=c["values"]) for i, c in enumerate(parsed.clauses)]
            db.session.add(rule_set)
            rule_sets[parsed.version] = rule_set
            evidence.record("courses.rules_loaded", f"rules:{parsed.version}", {
                "version": parsed.version, "sha256": parsed.sha256, "adopted_on": parsed.adopted_on,
                "clauses": [c["id"] for c in parsed.clauses]}, actor=actor)
            lines.append(f"rules {parsed.version}: loaded ({len(parsed.clauses)} clauses, sha256 {parsed.sha256[:12]})")
        courses = {c.slug: c for c in db.session.scalars(select(Course).options(selectinload(Course.versions)))}
        for parsed in content.courses:
            course = courses.get(parsed.slug)
            if course is None:
                course = Course(slug=parsed.slug, kind=parsed.kind)
                db.session.add(course)
            elif course.kind != parsed.kind:
                raise ContentError([ContentProblem(parsed.path, 1, f"{parsed.slug} was a {course.kind} course; "
                                                                  "a course keeps its kind")])
            latest = course.versions[-1] if course.versions else None
            if latest and latest.sha256 == parsed.sha256:
                lines.append(f"{parsed.slug}: unchanged (version {latest.number})")
                continue
            version = CourseVersion(
                number=(latest.number + 1) if latest else 1, sha256=parsed.sha256, title_zh=parsed.title["zh"],
                title_en=parsed.title["en"], summary_zh=parsed.summary["zh"], summary_en=parsed.summary["en"],
                audience=parsed.audience, rule_set=rule_sets.get(parsed.rules_version), source_path=parsed.path)
            version.chapters = [Chapter(
                position=i, key=c.key, title_zh=c.title["zh"], title_en=c.title["en"], markdown_zh=c.markdown["zh"],
                markdown_en=c.markdown["en"], html_zh=c.html["zh"], html_en=c.html["en"], rule_ids=c.rule_ids,
                sha256=c.sha256) for i, c in enumerate(parsed.chapters)]
            course.versions.append(version)
            db.session.flush()
            evidence.record("courses.version_loaded", f"course:{course.id}", {
                "slug": parsed.slug, "version": version.number, "sha256": parsed.sha256,
                "rules_version": parsed.rules_version, "chapters": {c.key: c.sha256 for c in parsed.chapters}},
                actor=actor)
            new_versions += 1
            lines.append(f"{parsed.slug}: new version {version.number} (sha256 {parsed.sha256[:12]})")
        from lms.exams.services import save_exam_content  # exams build on courses

        lines.extend(save_exam_content(content.banks, content.exams, actor))
        from lms.documents.services import save_templates  # documents build on the same content tree

        lines.extend(save_templates(content.templates, actor))
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    enrol_new_hires()
    return SyncReport(lines, new_versions)


# ---------------------------------------------------------------- reading the catalogue


def current_versions(with_chapters: bool = True) -> list[CourseVersion]:
    """The newest version of every course (its chapters loaded too unless only titles are wanted)."""
    newest = select(CourseVersion.course_id, func.max(CourseVersion.number).label("number")) \
        .group_by(CourseVersion.course_id).subquery()
    chapters = [selectinload(CourseVersion.chapters)] if with_chapters else []
    return list(db.session.scalars(
        select(CourseVersion).join(newest, (CourseVersion.course_id == newest.c.course_id)
                                   & (CourseVersion.number == newest.c.number))
        .options(*chapters, selectinload(CourseVersion.course))
        .order_by(CourseVersion.course_id)
    ))


def current_version(course_id: int) -> CourseVersion:
    return db.session.scalars(
        select(CourseVersion).where(CourseVersion.course_id == course_id)
        .options(selectinload(CourseVersion.chapters)).order_by(CourseVersion.number.desc()).limit(1)
    ).one()


def chapters_teaching(course_slug: str, clause_ids: set[str]) -> list[Chapter]:
    """The chapters of a course's current version that teach any of these rule clauses, in order."""
    if not clause_ids:
        return []
    newest = select(CourseVersion.id).join(Course).where(Course.slug == course_slug) \
        .order_by(CourseVersion.number.desc()).limit(1).scalar_subquery()
    # Titles and keys only, in one query: the chapters' texts are the bulk of their rows.
    chapters = db.session.scalars(
        select(Chapter).where(Chapter.course_version_id == newest).order_by(Chapter.position)
        .options(load_only(Chapter.key, Chapter.title_zh, Chapter.title_en, Chapter.rule_ids, Chapter.position)))
    return [c for c in chapters if clause_ids & set(c.rule_ids or [])]


def current_rule_set() -> RuleSet | None:
    """The rule set in force: the latest adopted whose effective date has come."""
    return db.session.scalars(
        select(RuleSet).where(RuleSet.effective_from <= clock.today())
        .options(selectinload(RuleSet.clauses)).order_by(RuleSet.effective_from.desc()).limit(1)
    ).first()


# ---------------------------------------------------------------- enrolment


class EnrolRefused(ValueError):
    """An enrolment that cannot be made: the field at fault and the words for the person."""

    def __init__(self, field: str, message):
        super().__init__(str(message))
        self.field, self.message = field, str(message)


def enrol(employee_ids: list[int], course_id: int, *, source: str, actor=None, due_on: date | None = None) -> int:
    """Enrol employees in a course (already enrolled: the due date is updated). Returns how many are new.
    A due date in the past is refused (EnrolRefused)."""
    if due_on is not None and due_on < clock.today():
        raise EnrolRefused("due_on", _l("The due date is in the past."))
    existing = {e.employee_id: e for e in db.session.scalars(
        select(Enrollment).where(Enrollment.course_id == course_id, Enrollment.employee_id.in_(employee_ids)))}
    assigned_by = evidence.actor_of(actor)
    created = 0
    for employee_id in employee_ids:
        enrollment = existing.get(employee_id)
        if enrollment is None:
            db.session.add(Enrollment(employee_id=employee_id, course_id=course_id, source=source,
                                      assigned_by=assigned_by, due_on=due_on))
            created += 1
        elif due_on is not None:
            enrollment.due_on = due_on
    if employee_ids:
        evidence.record_many(((
            "courses.enrolled", evidence.subject_of("employee", employee_id),
            {"course_id": course_id, "source": source, "due_on": due_on}) for employee_id in employee_ids), actor=actor)
    db.session.commit()
    return created


def onboarding_courses() -> list[CourseVersion]:
    return [v for v in current_versions() if ONBOARDING in (v.audience or [])]


def enrol_new_hires() -> int:
    """Every employee still in onboarding is enrolled in every onboarding course (idempotent)."""
    total = 0
    for version in onboarding_courses():
        enrolled = select(Enrollment.employee_id).where(Enrollment.course_id == version.course_id)
        missing = list(db.session.scalars(
            select(Employee.id).where(Employee.status == ONBOARDING, Employee.id.not_in(enrolled))))
        if missing:
            total += enrol(missing, version.course_id, source=ONBOARDING)
    return total


def enrollments_for(employee_id: int) -> list[Enrollment]:
    return list(db.session.scalars(
        select(Enrollment).where(Enrollment.employee_id == employee_id)
        .options(selectinload(Enrollment.course)).order_by(Enrollment.enrolled_at)
    ))


# ---------------------------------------------------------------- reading and attesting


def _progress(enrollment: Enrollment, chapter: Chapter, now) -> ChapterProgress:
    """The reading record of a chapter, created (and its first opening recorded) if new."""
    progress = db.session.scalars(select(ChapterProgress).where(
        ChapterProgress.enrollment_id == enrollment.id, ChapterProgress.chapter_key == chapter.key)).first()
    if progress is None:
        progress = ChapterProgress(enrollment_id=enrollment.id, chapter_key=chapter.key, first_opened_at=now,
                                   last_seen_at=now, seconds_spent=0)
        db.session.add(progress)
        evidence.record("courses.chapter_opened", evidence.subject_of("employee", enrollment.employee_id), {
            "course_version_id": chapter.course_version_id, "chapter": chapter.key, "chapter_sha256": chapter.sha256})
    return progress


def record_chapter_view(enrollment: Enrollment, chapter: Chapter) -> ChapterProgress:
    """The first opening of a chapter, and the latest one (time spent is counted up to completion)."""
    now = clock.now()
    progress = _progress(enrollment, chapter, now)
    progress.last_seen_at = now
    db.session.commit()
    return progress


def has_attested(employee_id: int, chapter: Chapter) -> bool:
    return db.session.scalar(select(func.count(Attestation.id)).where(
        Attestation.employee_id == employee_id, Attestation.chapter_sha256 == chapter.sha256)) > 0


def attest(enrollment: Enrollment, chapter: Chapter, locale: str, ip: str | None, user_agent: str | None,
           actor) -> Attestation:
    """知悉确认: record exactly which text the employee confirmed, and complete the chapter."""
    if not chapter.rule_ids:
        raise ValueError("this chapter teaches no rules, so there is nothing to attest")
    displayed = chapter.html(locale)
    displayed_sha256 = hashlib.sha256(displayed.encode("utf-8")).hexdigest()
    version = chapter.course_version
    event = evidence.record("courses.attested", evidence.subject_of("employee", enrollment.employee_id), {
        "course": version.course.slug, "course_version": version.number, "course_version_sha256": version.sha256,
        "chapter": chapter.key, "chapter_sha256": chapter.sha256, "displayed_sha256": displayed_sha256,
        "locale": locale, "rules_version": version.rule_set.version if version.rule_set else None,
        "rules": chapter.rule_ids, "ip": ip, "user_agent": (user_agent or "")[:200],
    }, actor=actor)
    attestation = Attestation(employee_id=enrollment.employee_id, chapter_id=chapter.id,
                              chapter_sha256=chapter.sha256, displayed_sha256=displayed_sha256, locale=locale, ip=ip,
                              user_agent=(user_agent or "")[:300], attested_at=clock.now(), evidence_seq=event.seq)
    db.session.add(attestation)
    db.session.flush()
    _complete_chapter(enrollment, chapter)
    return attestation


def complete_chapter(enrollment: Enrollment, chapter: Chapter) -> None:
    """Mark a chapter read (chapters that teach rules complete by attestation instead)."""
    if chapter.rule_ids:
        raise ValueError("a chapter that teaches rules is completed by attesting it")
    _complete_chapter(enrollment, chapter)


def _complete_chapter(enrollment: Enrollment, chapter: Chapter) -> None:
    now = clock.now()
    progress = _progress(enrollment, chapter, now)
    if progress.completed_at is None:
        # Time spent: from the last opening to finishing, capped so a tab left open overnight
        # does not count as hours of reading.
        progress.seconds_spent += min(int((now - progress.last_seen_at).total_seconds()), MAX_READING_SECONDS)
        progress.completed_at = progress.last_seen_at = now
    db.session.flush()
    version = chapter.course_version
    done = set(db.session.scalars(select(ChapterProgress.chapter_key).where(
        ChapterProgress.enrollment_id == enrollment.id, ChapterProgress.completed_at.is_not(None))))
    if enrollment.completed_at is None and {c.key for c in version.chapters} <= done:
        enrollment.completed_at, enrollment.completed_version_id = now, version.id
        evidence.record("courses.completed", evidence.subject_of("employee", enrollment.employee_id), {
            "course": version.course.slug, "course_version": version.number, "sha256": version.sha256})
    db.session.commit()


# ---------------------------------------------------------------- discussion


def post(course: Course, author_id: int, body: str, parent_id: int | None = None) -> Post:
    if course.kind not in DISCUSSED_KINDS:
        raise ValueError("only scenario and case courses have a discussion")
    body = body.strip()
    if not body:
        raise ValueError("a post needs text")
    if parent_id is not None:
        parent = db.session.get(Post, parent_id)
        if parent is None or parent.course_id != course.id:
            raise ValueError("the post replied to is not in this course")
    item = Post(course_id=course.id, author_id=author_id, parent_id=parent_id, body=body[:4000])
    db.session.add(item)
    db.session.commit()
    return item


def hide_post(item: Post, reason: str, actor) -> None:
    """HR hides a post: kept, with who hid it, when and why."""
    if item.hidden_at is not None:
        return
    item.hidden_at, item.hidden_by, item.hidden_reason = clock.now(), evidence.actor_of(actor), reason.strip()
    evidence.record("courses.post_hidden", f"course:{item.course_id}",
                    {"post_id": item.id, "author": item.author_id, "reason": item.hidden_reason}, actor=actor)
    db.session.commit()
