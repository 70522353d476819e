"""One employee's training on record, as HR reads it on the employee's page: enrolments, attestations
(when, which text version), exam attempts with their scores, certificates. A handful of queries, none per row."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import defer

from lms.courses.models import Attestation, Chapter, CourseVersion, Enrollment, RuleSet
from lms.exams.models import Certificate, ExamAttempt, ExamVersion
from lms.extensions import db


@dataclass
class TrainingRecord:
    enrollments: list[tuple[Enrollment, CourseVersion | None]]  # with the course's newest version (its title)
    attestations: list[tuple[Attestation, Chapter, CourseVersion, str | None]]  # … and the rules version
    attempts: list[tuple[ExamAttempt, ExamVersion]]
    certificates: list[Certificate]


def training_record(employee_id: int) -> TrainingRecord:
    """Everything the employee was taught and how it was proven, newest first where time matters."""
    enrollments = db.session.scalars(select(Enrollment).where(Enrollment.employee_id == employee_id)
                                     .order_by(Enrollment.enrolled_at)).all()
    newest = select(CourseVersion.course_id, func.max(CourseVersion.number).label("number")) \
        .where(CourseVersion.course_id.in_([e.course_id for e in enrollments])) \
        .group_by(CourseVersion.course_id).subquery()
    versions = {v.course_id: v for v in db.session.scalars(select(CourseVersion).join(
        newest, (CourseVersion.course_id == newest.c.course_id) & (CourseVersion.number == newest.c.number)))} \
        if enrollments else {}
    attestations = db.session.execute(
        select(Attestation, Chapter, CourseVersion, RuleSet.version)
        .join(Chapter, Chapter.id == Attestation.chapter_id)
        .join(CourseVersion, CourseVersion.id == Chapter.course_version_id)
        .outerjoin(RuleSet, RuleSet.id == CourseVersion.rule_set_id)
        .where(Attestation.employee_id == employee_id).order_by(Attestation.attested_at.desc())).all()
    attempts = db.session.execute(
        select(ExamAttempt, ExamVersion).join(ExamVersion, ExamVersion.id == ExamAttempt.exam_version_id)
        .where(ExamAttempt.employee_id == employee_id).order_by(ExamAttempt.started_at.desc())).all()
    certificates = db.session.scalars(
        select(Certificate).where(Certificate.employee_id == employee_id)
        .options(defer(Certificate.pdf)).order_by(Certificate.issued_at.desc())).all()
    return TrainingRecord([(e, versions.get(e.course_id)) for e in enrollments],
                          [tuple(row) for row in attestations], [tuple(row) for row in attempts], list(certificates))
