"""/api/v1/courses and /api/v1/employees/{employee_no}/training."""

from __future__ import annotations

import io

from flask import send_file
from flask.views import MethodView
from flask_babel import gettext as _
from marshmallow import Schema, fields
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from lms.api import Blueprint, DecimalString
from lms.api.auth import token_required
from lms.api.employees import ErrorResponse
from lms.courses.models import Attestation, Chapter, CourseVersion, Enrollment
from lms.exams.models import Certificate
from lms.extensions import db
from lms.people.models import Employee
from lms.ui import api_error

blp = Blueprint("api_courses", __name__, url_prefix="/api/v1",
                description="Courses, versions, and each employee's training record (SPEC §2).")


class ChapterOut(Schema):
    key = fields.String()
    title_zh = fields.String()
    title_en = fields.String()
    rules = fields.List(fields.String(), attribute="rule_ids")
    sha256 = fields.String()


class VersionOut(Schema):
    course = fields.Function(lambda v: v.course.slug)
    kind = fields.Function(lambda v: v.course.kind)
    number = fields.Integer()
    sha256 = fields.String()
    title_zh = fields.String()
    title_en = fields.String()
    audience = fields.List(fields.String())
    rules_version = fields.Function(lambda v: v.rule_set.version if v.rule_set else None)
    loaded_at = fields.DateTime()
    chapters = fields.List(fields.Nested(ChapterOut))


class VersionList(Schema):
    items = fields.List(fields.Nested(VersionOut))


class EnrollmentOut(Schema):
    course = fields.Function(lambda e: e.course.slug)
    source = fields.String()
    assigned_by = fields.String()
    enrolled_at = fields.DateTime()
    due_on = fields.Date(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    completed_version = fields.Function(lambda e: e.completed_version_number)


class AttestationOut(Schema):
    course = fields.Function(lambda a: a.chapter.course_version.course.slug)
    course_version = fields.Function(lambda a: a.chapter.course_version.number)
    chapter = fields.Function(lambda a: a.chapter.key)
    chapter_sha256 = fields.String()
    displayed_sha256 = fields.String()
    rules_version = fields.Function(
        lambda a: a.chapter.course_version.rule_set.version if a.chapter.course_version.rule_set else None)
    rules = fields.Function(lambda a: a.chapter.rule_ids)
    locale = fields.String()
    attested_at = fields.DateTime()
    evidence_seq = fields.Integer()


class CertificateOut(Schema):
    number = fields.String()
    verification_code = fields.String()
    issued_at = fields.DateTime()
    exam = fields.String(attribute="exam_slug")
    score = DecimalString()
    course_versions = fields.List(fields.Dict())
    rules_version = fields.String(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)
    pdf_sha256 = fields.String()
    pdf_url = fields.Function(lambda c: f"/api/v1/certificates/{c.number}.pdf")


class TrainingOut(Schema):
    employee_no = fields.String()
    enrollments = fields.List(fields.Nested(EnrollmentOut))
    attestations = fields.List(fields.Nested(AttestationOut))
    certificates = fields.List(fields.Nested(CertificateOut))


@blp.route("/courses")
class Courses(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.response(200, VersionList)
    @blp.alt_response(401, schema=ErrorResponse)
    def get(self):
        """Every version of every course, oldest first (versions are immutable)."""
        versions = db.session.scalars(
            select(CourseVersion).options(joinedload(CourseVersion.course), joinedload(CourseVersion.rule_set),
                                          selectinload(CourseVersion.chapters))
            .order_by(CourseVersion.course_id, CourseVersion.number)
        ).all()
        return {"items": versions}


@blp.route("/employees/<string:employee_no>/training")
class Training(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.response(200, TrainingOut)
    @blp.alt_response(404, schema=ErrorResponse)
    def get(self, employee_no: str):
        """An employee's enrolments and attestations (知悉确认), each naming the exact version."""
        employee = db.session.scalars(select(Employee).where(Employee.employee_no == employee_no)).first()
        if employee is None:
            return api_error(404, _("No employee has number %(no)s.", no=employee_no), field="employee_no")
        enrollments = db.session.scalars(
            select(Enrollment).where(Enrollment.employee_id == employee.id)
            .options(joinedload(Enrollment.course)).order_by(Enrollment.enrolled_at)
        ).all()
        numbers = dict(db.session.execute(select(CourseVersion.id, CourseVersion.number).where(
            CourseVersion.id.in_([e.completed_version_id for e in enrollments if e.completed_version_id]))).all())
        for enrollment in enrollments:
            enrollment.completed_version_number = numbers.get(enrollment.completed_version_id)
        attestations = db.session.scalars(
            select(Attestation).where(Attestation.employee_id == employee.id)
            .options(joinedload(Attestation.chapter).joinedload(Chapter.course_version)
                     .joinedload(CourseVersion.course),
                     joinedload(Attestation.chapter).joinedload(Chapter.course_version)
                     .joinedload(CourseVersion.rule_set))
            .order_by(Attestation.attested_at)
        ).all()
        issued = db.session.scalars(select(Certificate).where(Certificate.employee_id == employee.id)
                                    .order_by(Certificate.issued_at)).all()
        return {"employee_no": employee.employee_no, "enrollments": enrollments, "attestations": attestations,
                "certificates": issued}


@blp.route("/certificates/<string:number>.pdf")
class CertificatePdf(MethodView):
    decorators = [token_required("hr", "admin")]

    @blp.response(200, description="The certificate PDF.", content_type="application/pdf")
    @blp.alt_response(404, schema=ErrorResponse)
    def get(self, number: str):
        """The certificate as issued (PDF with its Chinese font embedded)."""
        certificate = db.session.scalars(select(Certificate).where(Certificate.number == number)).first()
        if certificate is None:
            return api_error(404, _("No certificate has number %(number)s.", number=number), field="number")
        return send_file(io.BytesIO(certificate.pdf), mimetype="application/pdf", download_name=f"{number}.pdf")



