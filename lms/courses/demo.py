"""Demo records for courses: the shipped content, everyone enrolled in the handbook, some progress."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from lms import clock
from lms.courses import services
from lms.courses.models import Course, Enrollment
from lms.extensions import db
from lms.people.models import Employee

# Employees who have read the whole handbook and confirmed the rules (the demo employee among them).
FINISHED = ("E0002", "E0010", "E0011", "E0012", "E0013", "E0014", "E0024", "E0025")


def load_course_demo() -> None:
    services.sync_content()
    handbook = db.session.scalars(select(Course).where(Course.slug == "employee-handbook")).first()
    if handbook is None:
        return
    staff = list(db.session.scalars(select(Employee.id).where(Employee.status == "active")))
    services.enrol(staff, handbook.id, source="hr", due_on=clock.today() + timedelta(days=14))
    version = services.current_version(handbook.id)
    finished = db.session.scalars(
        select(Enrollment).join(Employee, Employee.id == Enrollment.employee_id)
        .where(Enrollment.course_id == handbook.id, Employee.employee_no.in_(FINISHED))
    ).all()
    for enrollment in finished:
        for chapter in version.chapters:
            services.record_chapter_view(enrollment, chapter)
            if chapter.rule_ids:
                services.attest(enrollment, chapter, "zh_CN", "127.0.0.1", "demo", actor=None)
            else:
                services.complete_chapter(enrollment, chapter)
