"""Campaign pages: HR's list, a new campaign, preview and launch, the dashboard with its chart and CSV;
managers assign refreshers to their team; everyone sees their own refreshers; the compliance record."""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from lms import clock
from lms.campaigns import models, reports, retest, services, templates  # noqa: F401 - retest hooks into exams
from lms.campaigns.forms import AssignForm, CampaignForm, LaunchForm
from lms.campaigns.models import Campaign
from lms.courses.clauses import clause_titles
from lms.courses.services import current_versions
from lms.exams.services import current_exams
from lms.extensions import db
from lms.inputs import db_int
from lms.paging import page_of
from lms.people import departments as department_tree
from lms.people.access import report_ids_cte, roles_required, visible_employees
from lms.people.models import Employee
from lms.ui import current_locale

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns", template_folder="templates")



def _course_choices() -> list[tuple[str, str]]:
    locale = current_locale()
    return [(v.course.slug, v.title(locale)) for v in current_versions(with_chapters=False)]


def _exam_choices() -> list[tuple[str, str]]:
    locale = current_locale()
    return [(e.slug, e.title(locale)) for e in current_exams()]


def _series_labels() -> dict[str, str]:
    return {"assigned": _("Assigned"), "completed": _("Completed"), "overdue": _("Overdue"),
            "passed_first_try": _("Passed at first try")}


@bp.app_template_global()
def refresher_cycles(employee_id: int) -> list[dict]:
    """Every cycle of a person's refreshers, in words, for their record page (history is never overwritten)."""
    assignments = services.assignments_of(employee_id)
    if not assignments:  # most people: no need for the catalogue's titles
        return []
    today, exams, courses = clock.today(), dict(_exam_choices()), dict(_course_choices())
    return [{"exam": exams.get(a.exam_slug, a.exam_slug), "course": courses.get(a.course_slug, a.course_slug),
             "assigned_on": clock.local(a.assigned_at).date(), "due_on": a.due_on, "status": a.status(today),
             "status_label": _status_label(a.status(today))} for a in assignments]


def _status_label(status: str) -> str:
    return {"assigned": _("Assigned"), "completed": _("Completed"), "overdue": _("Overdue")}[status]


# ---------------------------------------------------------------- HR: campaigns


@bp.get("/")
@roles_required("hr", "admin")
def index():
    """Every campaign with its counts, and the templates HR may launch by hand."""
    campaigns = list(db.session.scalars(select(Campaign).order_by(Campaign.launch_on.desc(), Campaign.id.desc())))
    found = reports.campaign_counts(clock.today())
    counts = {c.id: found.get(c.id, dict.fromkeys(reports.SERIES, 0)) for c in campaigns}
    return render_template("campaigns/index.html", campaigns=campaigns, counts=counts,
                           templates=templates.read_templates(), locale=current_locale(), form=LaunchForm())


@bp.route("/new", methods=["GET", "POST"])
@roles_required("hr", "admin")
def new():
    form = CampaignForm()
    tree = [("", "—"), *[(n.department.name, "└ " * n.depth + n.department.name) for n in department_tree.tree_order()]]
    for row in form.rules:
        row.department.choices = tree
        row.course.choices = [("", "—"), *_course_choices()]
        row.exam.choices = [("", "—"), *_exam_choices()]
    problems: list[tuple[str, str]] = []
    if form.validate_on_submit():
        rules = [{k: v for k, v in row.data.items() if v not in (None, "")} for row in form.rules]
        rules = [r for r in rules if r]
        try:
            campaign = services.create_campaign({
                "name": form.name.data, "kind": form.kind.data, "launch_on": form.launch_on.data,
                "due_on": form.due_on.data, "rules": rules, "remind_days_before": form.remind_days_before.data,
                "grace_days": form.grace_days.data}, actor=current_user)
        except services.CampaignError as exc:
            problems = exc.errors
        else:
            return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    status = 422 if problems or form.errors else 200
    return render_template("campaigns/new.html", form=form, problems=problems), status


@bp.get("/<int:campaign_id>")
@roles_required("hr", "admin")
def show(campaign_id: int):
    """A draft: the preview (who gets what, counts per rule, who matches none). Launched: the dashboard."""
    campaign = db.session.get(Campaign, campaign_id) or abort(404)
    if campaign.state == "draft":
        return render_template("campaigns/preview.html", campaign=campaign, preview=services.preview(campaign),
                               form=LaunchForm(), courses=dict(_course_choices()), exams=dict(_exam_choices()))
    today = clock.today()
    department = request.args.get("department") or None
    found = reports.rows(campaign_id=campaign.id, department=department)
    groups = reports.by_department(found, today)
    labels = _series_labels()
    chart = reports.bar_chart_svg(groups, labels, _("Completion by department"))
    overdue = [row for row in found if row.status(today) == "overdue"]
    return render_template("campaigns/dashboard.html", campaign=campaign, counts=reports.counts(found, today),
                           groups=groups, chart=chart, overdue=overdue, labels=labels, department=department,
                           rows=found, today=today, status_label=_status_label)


@bp.post("/<int:campaign_id>/launch")
@roles_required("hr", "admin")
def launch(campaign_id: int):
    db.session.get(Campaign, campaign_id) or abort(404)
    if not LaunchForm().validate_on_submit():
        abort(400)
    try:
        campaign = services.launch(campaign_id, actor=current_user)
    except services.CampaignStateError:
        flash(_("This campaign has been launched already."), "error")
    else:
        assigned = reports.campaign_counts(clock.today()).get(campaign.id, {}).get("assigned", 0)
        flash(_("Launched: %(n)s people assigned.", n=assigned), "success")
    return redirect(url_for("campaigns.show", campaign_id=campaign_id))


@bp.post("/templates/<slug>/launch")
@roles_required("hr", "admin")
def launch_template(slug: str):
    if templates.template(slug) is None:
        abort(404)
    if not LaunchForm().validate_on_submit():
        abort(400)
    try:
        campaign = templates.launch_template_now(slug, current_user)
    except services.CampaignStateError:
        flash(_("This template has been launched for the current period already."), "error")
        return redirect(url_for("campaigns.index"))
    return redirect(url_for("campaigns.show", campaign_id=campaign.id))


@bp.get("/<int:campaign_id>/report.csv")
@roles_required("hr", "admin")
def report_csv(campaign_id: int):
    """The dashboard's table as CSV: per department, then every assignment."""
    campaign = db.session.get(Campaign, campaign_id) or abort(404)
    today = clock.today()
    found = reports.rows(campaign_id=campaign.id)
    labels = _series_labels()
    lines = [[g["department"], g["assigned"], g["completed"], g["overdue"], g["passed_first_try"]]
             for g in reports.by_department(found, today)]
    text = reports.csv_text([_("Department"), labels["assigned"], labels["completed"], labels["overdue"],
                             labels["passed_first_try"]], lines)
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="campaign-{campaign.id}-{today.isoformat()}.csv"'})


@bp.get("/departments")
@roles_required("hr", "admin")
def departments():
    """Completion and overdue per department (each with its sub-departments) across all campaigns and
    manager assignments, or one campaign; a department's overdue people with their manager; CSV."""
    today = clock.today()
    campaigns = list(db.session.scalars(select(Campaign).where(Campaign.state == "running")
                                        .order_by(Campaign.launch_on.desc(), Campaign.id.desc())))
    campaign_id = request.args.get("campaign", type=int)
    if campaign_id is not None and campaign_id not in {c.id for c in campaigns}:
        abort(404)
    groups = reports.department_tree_counts(today, campaign_id)
    labels = _series_labels()
    if request.args.get("format") == "csv":
        lines = [[g["department"], g["parent"] or "", *[g[key] for key in reports.SERIES],
                  "" if g["completion"] is None else g["completion"], *[g["own"][key] for key in reports.SERIES]]
                 for g in groups]
        own = _("(this department only)")
        header = [_("Department"), _("Parent department"), *[labels[k] for k in reports.SERIES],
                  _("Completion rate (percent)"), *[f"{labels[k]} {own}" for k in reports.SERIES]]
        text = reports.csv_text(header, lines)
        return Response(text, mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="departments-{today.isoformat()}.csv"'})
    chosen = next((g for g in groups if g["id"] == request.args.get("department", type=int)), None)
    if request.args.get("department") and chosen is None:
        abort(404)
    overdue = reports.rows(campaign_id=campaign_id, department_id=chosen["id"], status="overdue") if chosen else []
    chart = reports.bar_chart_svg(groups, labels, _("Completion by department")) if groups else ""
    return render_template("campaigns/departments.html", groups=groups, labels=labels, chart=chart,
                           campaigns=campaigns, campaign_id=campaign_id, chosen=chosen, overdue=overdue,
                           series=reports.SERIES)


# ---------------------------------------------------------------- managers assign


@bp.route("/team", methods=["GET", "POST"])
@roles_required("manager", "hr", "admin")
def team():
    """A manager assigns a refresher to one report or the whole team (every level or direct reports only);
    HR to anyone. The team's refreshers below, with their status."""
    form = AssignForm()
    people = list(db.session.scalars(
        visible_employees(current_user).where(Employee.status != "terminated",
                                              Employee.id != (current_user.employee_id or 0))
        .order_by(Employee.employee_no).limit(5000)))
    form.employee_no.choices = [(e.employee_no, f"{e.name}（{e.department.name}）") for e in people]
    form.course.choices = _course_choices()
    form.exam.choices = _exam_choices()
    problems: list[tuple[str, str]] = []
    if form.validate_on_submit():
        ids = _chosen(form, people)
        try:
            if not ids:
                raise services.CampaignError([("employee_no", _("Nobody to assign to: tick the people or choose the "
                                                                "whole team."))])
            assigned = services.assign(ids, form.course.data, form.exam.data, form.due_on.data, current_user,
                                       source="hr" if current_user.sees_everyone else "manager")
        except services.CampaignError as exc:
            problems = exc.errors
        else:
            flash(_("Refresher assigned to %(n)s people.", n=len(assigned)), "success")
            return redirect(url_for("campaigns.team"))
    status = 422 if problems or (request.method == "POST" and form.errors) else 200
    today = clock.today()
    found = reports.rows(employee_ids=[e.id for e in people]) if people else []
    groups = reports.by_department(found, today)
    labels = _series_labels()
    chart = reports.bar_chart_svg(groups, labels, _("Completion by department")) if groups else ""
    return render_template("campaigns/team.html", form=form, problems=problems, rows=found, today=today,
                           status_label=_status_label, courses=dict(_course_choices()), groups=groups,
                           counts=reports.counts(found, today), labels=labels, chart=chart,
                           exams=dict(_exam_choices())), status


def _chosen(form: AssignForm, people: list[Employee]) -> list[int]:
    if form.scope.data == "chosen":
        chosen = set(form.employee_no.data or [])
        return [e.id for e in people if e.employee_no in chosen]
    if current_user.employee_id is None:  # HR without a record of their own has no team
        return []
    if form.scope.data == "direct":
        return [e.id for e in people if e.manager_id == current_user.employee_id]
    below = report_ids_cte(current_user.employee_id)
    return list(db.session.scalars(select(Employee.id).where(Employee.id.in_(select(below.c.id)),
                                                             Employee.status != "terminated")))


# ---------------------------------------------------------------- the employee's own


@bp.get("/mine")
@login_required
def mine():
    """My refreshers, every cycle, and how I do per rule clause across them."""
    if current_user.employee_id is None:
        abort(404)
    today = clock.today()
    assignments = services.assignments_of(current_user.employee_id)
    return render_template("campaigns/mine.html", assignments=assignments, today=today, status_label=_status_label,
                           exams=dict(_exam_choices()), courses=dict(_course_choices()),
                           refresher=refresher_progress(current_user.employee_id))


@bp.app_template_global()
def refresher_progress(employee_id: int, exam_slug: str | None = None) -> dict | None:
    """How the person does per rule clause across cycles (graded attempts in order), for "My refreshers"
    and an exam's result page; None when they have no refresher (of that exam)."""
    if exam_slug is not None and not any(a.exam_slug == exam_slug for a in services.assignments_of(employee_id)):
        return None
    progress = retest.clause_progress(employee_id)
    if not progress:
        return None
    exams = dict(_exam_choices())
    heads = [(exams.get(a.exam_slug, a.exam_slug), clock.local(a.submitted_at).date().isoformat())
             for a in progress[0]["attempts"]]
    return {"progress": progress, "heads": heads, "clauses": clause_titles()}


# ---------------------------------------------------------------- the compliance record


@bp.get("/compliance")
@roles_required("manager", "hr", "admin")
def compliance():
    """The yearly leave-procedure compliance record of everyone the viewer may see, a page at a time, by
    department (sub-departments included) and only those with a finding if asked; CSV with ?format=csv has
    every person the filters keep."""
    try:
        year = int(request.args.get("year") or clock.today().year)
    except ValueError:
        abort(404)
    if not 2000 <= year <= 2100:
        abort(404)
    query = visible_employees(current_user)
    department_id = request.args.get("department", type=db_int)
    if department_id:
        query = query.where(Employee.department_id.in_(department_tree.subtree_of_id(department_id)))
    findings_only = request.args.get("findings") == "1"
    if findings_only:
        query = query.where(reports.with_finding(year))
    query = query.order_by(Employee.employee_no)
    headings = [_("Leave requests"), _("Requested late"), _("Absence days (旷工)"), _("Exams passed first time"),
                _("Exams passed after make-up"), _("Refreshers"), _("Refreshers overdue")]
    if request.args.get("format") == "csv":
        people = list(db.session.scalars(query))
        records = reports.compliance_many([e.id for e in people], year)
        lines = [[e.employee_no, e.name, e.department.name, *[records[e.id][f] for f in reports.COMPLIANCE_FIELDS]]
                 for e in people]
        text = reports.csv_text([_("No."), _("Name"), _("Department"), *headings], lines)
        return Response(text, mimetype="text/csv", headers={
            "Content-Disposition": f'attachment; filename="compliance-{year}.csv"'})
    people, page, pages, total = page_of(query, request.args.get("page", 1, type=db_int), scalars=True)
    records = reports.compliance_many([e.id for e in people], year)
    departments = department_tree.tree_order() if current_user.sees_everyone else []
    return render_template("campaigns/compliance.html", people=people, records=records, year=year,
                           headings=headings, fields=reports.COMPLIANCE_FIELDS, this_year=clock.today().year,
                           total=total, page=page, pages=pages,
                           departments=departments, department_id=department_id, findings_only=findings_only)
