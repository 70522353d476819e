"""My courses, reading chapters and attesting, enrolment, team progress and discussion."""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import Select, func, select
from sqlalchemy.orm import defer, joinedload

from lms import clock
from lms.courses import services
from lms.courses.forms import AttestForm, CompleteForm, EnrolForm, HideForm, PostForm
from lms.courses.models import (
    DISCUSSED_KINDS,
    Attestation,
    ChapterProgress,
    Course,
    CourseVersion,
    Enrollment,
    Post,
)
from lms.exams import path
from lms.extensions import db
from lms.people.access import roles_required, visible_employees
from lms.people.models import Employee
from lms.ui import current_locale

bp = Blueprint("courses", __name__, url_prefix="/courses", template_folder="templates")


def _course(slug: str) -> Course:
    course = db.session.scalars(select(Course).where(Course.slug == slug)).first()
    if course is None:
        abort(404)
    return course


def _own_enrollment(course: Course) -> Enrollment | None:
    if current_user.employee_id is None:
        return None
    return db.session.scalars(select(Enrollment).where(
        Enrollment.course_id == course.id, Enrollment.employee_id == current_user.employee_id)).first()


def _readable(course: Course) -> Enrollment | None:
    """The reader's enrolment; HR, admins and managers may also preview a course they are not in."""
    enrollment = _own_enrollment(course)
    if enrollment is None and current_user.role not in ("hr", "admin", "manager"):
        abort(404)
    return enrollment


def _progress(enrollment: Enrollment | None) -> dict[str, ChapterProgress]:
    if enrollment is None:
        return {}
    return {p.chapter_key: p for p in db.session.scalars(
        select(ChapterProgress).where(ChapterProgress.enrollment_id == enrollment.id))}


@bp.get("/")
@login_required
def my_courses():
    """The signed-in employee's courses with progress and due dates."""
    enrollments = services.enrollments_for(current_user.employee_id) if current_user.employee_id else []
    versions = {v.course_id: v for v in services.current_versions()}
    done = dict(db.session.execute(
        select(ChapterProgress.enrollment_id, func.count(ChapterProgress.id))
        .where(ChapterProgress.enrollment_id.in_([e.id for e in enrollments]),
               ChapterProgress.completed_at.is_not(None))
        .group_by(ChapterProgress.enrollment_id)).all()) if enrollments else {}
    catalogue = list(versions.values()) if current_user.role in ("hr", "admin", "manager") else []
    return render_template("courses/my_courses.html", enrollments=enrollments, versions=versions, done=done,
                           catalogue=catalogue, locale=current_locale())


@bp.get("/<slug>")
@login_required
def course(slug: str):
    course = _course(slug)
    enrollment = _readable(course)
    version = services.current_version(course.id)
    attested = set(db.session.scalars(select(Attestation.chapter_sha256).where(
        Attestation.employee_id == current_user.employee_id,
        Attestation.chapter_sha256.in_([c.sha256 for c in version.chapters])))) if current_user.employee_id else set()
    return render_template("courses/course.html", course=course, version=version, enrollment=enrollment,
                           progress=_progress(enrollment), attested=attested, locale=current_locale())


def _chapter(version, key: str):
    chapter = next((c for c in version.chapters if c.key == key), None)
    if chapter is None:
        abort(404)
    return chapter


def _onwards(slug: str, version, key: str) -> str:
    """Where a reader goes after finishing a chapter: the next one; after the last, back to it,
    where the exam now waits."""
    keys = [c.key for c in version.chapters]
    position = keys.index(key)
    following = keys[position + 1] if position + 1 < len(keys) else key
    return url_for("courses.chapter", slug=slug, key=following, _anchor=None if following != key else "next")


@bp.get("/<slug>/chapters/<key>")
@login_required
def chapter(slug: str, key: str):
    course = _course(slug)
    enrollment = _readable(course)
    version = services.current_version(course.id)
    chapter = _chapter(version, key)
    if enrollment is not None:
        services.record_chapter_view(enrollment, chapter)
    keys = [c.key for c in version.chapters]
    position = keys.index(key)
    return render_template(
        "courses/chapter.html", course=course, version=version, chapter=chapter, enrollment=enrollment,
        locale=current_locale(), progress=_progress(enrollment).get(key),
        attested=bool(current_user.employee_id) and services.has_attested(current_user.employee_id, chapter),
        previous_key=keys[position - 1] if position > 0 else None,
        next_key=keys[position + 1] if position + 1 < len(keys) else None,
        attest_form=AttestForm(chapter_sha256=chapter.sha256), complete_form=CompleteForm(),
        exam=_exam_after(course, enrollment) if position + 1 == len(keys) else None,
    )


def _exam_after(course: Course, enrollment: Enrollment | None):
    """On the last chapter: the course's exam, if the reader may take it now."""
    exam = path.course_exam(course.slug)
    if exam is None or enrollment is None:
        return None
    state = path.exam_state(enrollment.employee_id, exam)
    return state if state.may_start else None


@bp.post("/<slug>/chapters/<key>/attest")
@login_required
def attest(slug: str, key: str):
    course = _course(slug)
    enrollment = _own_enrollment(course)
    if enrollment is None:
        abort(404)
    chapter = _chapter(services.current_version(course.id), key)
    form = AttestForm()
    if not form.validate_on_submit() or not chapter.rule_ids:
        abort(400)
    if form.chapter_sha256.data != chapter.sha256:
        flash(_("This chapter has changed since you opened it. Please read the current text and confirm again."),
              "error")
        return redirect(url_for("courses.chapter", slug=slug, key=key))
    if not services.has_attested(enrollment.employee_id, chapter):
        services.attest(enrollment, chapter, current_locale(), request.remote_addr,
                        request.headers.get("User-Agent"), current_user)
    flash(_("Thank you. Your confirmation has been recorded."), "success")
    return redirect(_onwards(slug, chapter.course_version, key))


@bp.post("/<slug>/chapters/<key>/complete")
@login_required
def complete(slug: str, key: str):
    course = _course(slug)
    enrollment = _own_enrollment(course)
    if enrollment is None or not CompleteForm().validate_on_submit():
        abort(404 if enrollment is None else 400)
    chapter = _chapter(services.current_version(course.id), key)
    try:
        services.complete_chapter(enrollment, chapter)
    except ValueError:
        abort(400)
    return redirect(_onwards(slug, chapter.course_version, key))


# ---------------------------------------------------------------- enrolment and team views


NUMBER_MAX = Employee.employee_no.type.length


def _parse_numbers(text: str) -> list[str]:
    return [n for n in re.split(r"[\s,，;；]+", text) if n]


@bp.route("/<slug>/enrol", methods=["GET", "POST"])
@roles_required("hr", "admin", "manager")
def enrol(slug: str):
    """HR enrols anyone; a manager enrols people in their own team."""
    course = _course(slug)
    form = EnrolForm()
    status = 200
    if form.validate_on_submit():
        numbers = _parse_numbers(form.employee_numbers.data)
        too_long = [n for n in numbers if len(n) > NUMBER_MAX]
        visible = visible_employees(current_user).where(Employee.employee_no.in_(
            [n for n in numbers if len(n) <= NUMBER_MAX]))
        found = {e.employee_no: e for e in db.session.scalars(visible)}
        unknown = [n for n in numbers if n not in found and len(n) <= NUMBER_MAX]
        if too_long:
            form.employee_numbers.errors.append(
                _("An employee number has at most %(max)s characters.", max=NUMBER_MAX))
        if unknown:
            shown = ", ".join(unknown[:10]) + (_(" and %(n)s more", n=len(unknown) - 10) if len(unknown) > 10 else "")
            form.employee_numbers.errors.append(_("Not found or not in your team: %(numbers)s", numbers=shown))
        if too_long or unknown:
            status = 422
        else:
            try:
                created = services.enrol([e.id for e in found.values()], course.id,
                                         source="hr" if current_user.sees_everyone else "manager",
                                         actor=current_user, due_on=form.due_on.data)
            except services.EnrolRefused as refusal:
                getattr(form, refusal.field).errors.append(refusal.message)
                status = 422
            else:
                flash(_("%(new)s enrolled, %(total)s in all.", new=created, total=len(found)), "success")
                return redirect(url_for("courses.team", course=course.slug))
    elif form.errors:
        status = 422
    version = services.current_version(course.id)
    return render_template("courses/enrol.html", course=course, version=version, form=form,
                           locale=current_locale()), status


@bp.get("/team")
@roles_required("hr", "admin", "manager")
def team():
    """Progress of the viewer's people in one course (HR: everyone), with a bounded number of queries."""
    versions = every_version = services.current_versions()
    if not versions:
        return render_template("courses/team.html", versions=[], rows=[], selected=None, locale=current_locale())
    people = _team(current_user)
    # A manager's team works through the courses it is enrolled in; HR sees every course.
    enrolled = set(db.session.scalars(select(Enrollment.course_id).join(people, people.c.id == Enrollment.employee_id)
                                      .distinct()))
    if current_user.role == "manager" and enrolled:
        versions = [v for v in versions if v.course_id in enrolled]
    slug = request.args.get("course") or versions[0].course.slug
    selected = next((v for v in versions if v.course.slug == slug), None)
    if selected is None:
        abort(404)
    completed = select(ChapterProgress.enrollment_id, func.count(ChapterProgress.id).label("done")) \
        .where(ChapterProgress.completed_at.is_not(None)).group_by(ChapterProgress.enrollment_id).subquery()
    rows = db.session.execute(
        select(Employee, Enrollment, completed.c.done)
        .join(people, people.c.id == Employee.id)
        .outerjoin(Enrollment, (Enrollment.employee_id == Employee.id) & (Enrollment.course_id == selected.course_id))
        .outerjoin(completed, completed.c.enrollment_id == Enrollment.id)
        .options(joinedload(Employee.department))
        .order_by(Employee.employee_no).limit(2000)
    ).all()
    return render_template("courses/team.html", versions=versions, rows=rows, selected=selected,
                           locale=current_locale(), **_exam_columns(selected, people, every_version))


def _team(user) -> Select:
    """The people a team page lists, as a subquery: those the viewer sees, still employed, never the manager himself."""
    people = visible_employees(user).where(Employee.status != "terminated")
    if user.role == "manager" and user.employee_id is not None:
        people = people.where(Employee.id != user.employee_id)
    return people.subquery()


def _exam_columns(version: CourseVersion, people, versions: list[CourseVersion]) -> dict:
    """Per person: the latest exam result of the course, the certificate, the current refresher (three queries)."""
    # Exams and campaigns build on courses: read here, where the team page shows them side by side.
    from lms.campaigns.models import Assignment
    from lms.exams.models import Certificate, ExamAttempt, ExamVersion

    slugs = select(ExamVersion.slug).where(ExamVersion.course_slug == version.course.slug).distinct()
    results: dict[int, ExamAttempt] = {}
    for attempt in db.session.scalars(
            select(ExamAttempt).join(people, people.c.id == ExamAttempt.employee_id)
            .where(ExamAttempt.exam_slug.in_(slugs), ExamAttempt.submitted_at.is_not(None))
            .order_by(ExamAttempt.submitted_at)):
        results[attempt.employee_id] = attempt  # the latest wins
    certificates = {c.employee_id: c for c in db.session.scalars(
        select(Certificate).join(people, people.c.id == Certificate.employee_id)
        .where(Certificate.exam_slug.in_(slugs), Certificate.revoked_at.is_(None))
        .options(defer(Certificate.pdf)).order_by(Certificate.issued_at))}
    refreshers = {a.employee_id: a for a in db.session.scalars(
        select(Assignment).join(people, people.c.id == Assignment.employee_id)
        .order_by(Assignment.assigned_at))}  # the newest assignment is the current one
    titles = {v.course.slug: v.title(current_locale()) for v in versions}
    return {"results": results, "certificates": certificates, "refreshers": refreshers, "course_titles": titles,
            "today": clock.today()}


@bp.get("/attestations")
@roles_required("hr", "admin", "manager")
def attestations():
    """Who has not yet attested the current text of every chapter that teaches the rules in force."""
    rule_set = services.current_rule_set()
    people = _team(current_user)
    # Only the courses the team is enrolled in: a chapter nobody was asked to read is not missing.
    enrolled = set(db.session.scalars(select(Enrollment.course_id).join(people, people.c.id == Enrollment.employee_id)
                                      .distinct()))
    current = services.current_versions()
    chapters = [c for v in current if v.course_id in enrolled for c in v.chapters
                if c.rule_ids and v.rule_set_id == (rule_set.id if rule_set else None)]
    course_of = {c.id: v for v in current for c in v.chapters}
    attested = {(employee_id, sha256) for employee_id, sha256 in db.session.execute(
        select(Attestation.employee_id, Attestation.chapter_sha256)
        .join(people, people.c.id == Attestation.employee_id)
        .where(Attestation.chapter_sha256.in_([c.sha256 for c in chapters])))} if chapters else set()
    employees = db.session.scalars(
        select(Employee).join(people, people.c.id == Employee.id).options(joinedload(Employee.department))
        .order_by(Employee.employee_no).limit(5000)).all()
    missing = [(e, [c for c in chapters if (e.id, c.sha256) not in attested]) for e in employees]
    missing = [(e, cs) for e, cs in missing if cs]
    return render_template("courses/attestations.html", rule_set=rule_set, chapters=chapters, missing=missing,
                           course_of=course_of, locale=current_locale())


# ---------------------------------------------------------------- discussion


@bp.route("/<slug>/discussion", methods=["GET", "POST"])
@login_required
def discussion(slug: str):
    course = _course(slug)
    if course.kind not in DISCUSSED_KINDS:
        abort(404)
    _readable(course)
    form = PostForm()
    if form.validate_on_submit():
        if current_user.employee_id is None:
            abort(403)
        parent = int(form.parent_id.data) if (form.parent_id.data or "").isdigit() else None
        try:
            services.post(course, current_user.employee_id, form.body.data, parent)
        except ValueError:
            abort(400)
        return redirect(url_for("courses.discussion", slug=slug))
    posts = db.session.scalars(select(Post).where(Post.course_id == course.id)
                               .options(joinedload(Post.author)).order_by(Post.created_at, Post.id)).all()
    replies: dict[int, list[Post]] = {}
    for item in posts:
        if item.parent_id:
            replies.setdefault(item.parent_id, []).append(item)
    return render_template("courses/discussion.html", course=course, version=services.current_version(course.id),
                           posts=[p for p in posts if not p.parent_id], replies=replies, form=form,
                           hide_form=HideForm(), locale=current_locale())


@bp.post("/posts/<int:post_id>/hide")
@roles_required("hr", "admin")
def hide(post_id: int):
    item = db.session.get(Post, post_id)
    if item is None:
        abort(404)
    form = HideForm()
    if not form.validate_on_submit():
        abort(400)
    services.hide_post(item, form.reason.data, current_user)
    course = db.session.get(Course, item.course_id)
    return redirect(url_for("courses.discussion", slug=course.slug))
