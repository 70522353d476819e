"""HR's pages: the city rules, an employee's social insurance and pay, the monthly payroll ledger."""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from lms import clock
from lms.documents import files
from lms.evidence.labels import actor_names
from lms.extensions import db
from lms.insurance import cities, payroll, stop
from lms.insurance.cities import InsuranceError
from lms.insurance.forms import CityRuleForm, FilingForm, LossForm
from lms.insurance.models import INSURANCE_TYPES, RATE_COLUMNS, LossClaim
from lms.people.access import roles_required
from lms.people.models import Employee

bp = Blueprint("insurance", __name__, url_prefix="/insurance", template_folder="templates")

def type_labels() -> dict[str, str]:
    return {"pension": _("Pension"), "medical": _("Medical (incl. maternity)"), "unemployment": _("Unemployment"),
            "work_injury": _("Work injury")}


@bp.app_template_global()
def social_insurance_warnings(person: Employee) -> list[str]:
    """What HR must know on the employee's record once the employment has ended: uninsured days, a late or
    missing filing, a city without a rule."""
    if person.status != "terminated" or current_user.role not in ("hr", "admin"):
        return []
    try:
        return [w for w in stop.compute(person).warnings if w not in cities.warnings_of(
            cities.in_force(person.work_city, person.terminated_on))]
    except InsuranceError as exc:
        return [str(exc)]


# ---------------------------------------------------------------- city rules


@bp.route("/cities", methods=["GET", "POST"])
@roles_required("hr", "admin")
def city_rules():
    """Every city's rule in force, the cities employees work in that have none, and a form for a new row."""
    form = CityRuleForm(formdata=request.form if request.method == "POST" else None, valid_from=clock.today(),
                        checked_on=clock.today(), city=request.args.get("city", ""))
    status = 200
    if request.method == "POST":
        if form.validate():
            values = {"valid_from": form.valid_from.data, "cutoff_day": form.cutoff_day.data,
                      "cutoff_inclusive": form.cutoff_inclusive.data, "source": form.source.data,
                      "checked_on": form.checked_on.data,
                      "rates": {kind: {share: form[f"{kind}_{share}"].data for share in ("employer", "personal")
                                       if f"{kind}_{share}" in RATE_COLUMNS} for kind, _p in INSURANCE_TYPES},
                      **{column: form[column].data for column in ("base_floor", "base_ceiling", "minimum_wage")}}
            try:
                rule = cities.save_rule(form.city.data, values, current_user)
            except InsuranceError as exc:
                db.session.rollback()
                field = exc.field if exc.field in form else "city"
                form[field].errors = [*form[field].errors, str(exc)]
            else:
                flash(_("The rule for %(city)s is saved, in force from %(day)s.", city=rule.city,
                        day=rule.valid_from.isoformat()), "success")
                return redirect(url_for("insurance.city_rules"))
        status = 422
    rules = cities.current_rules()
    return render_template("insurance/cities.html", rules=rules, missing=cities.cities_without_rules(), form=form,
                           type_labels=type_labels(), names=actor_names(r.checked_by for r in rules if r.checked_by)
                           ), status


@bp.get("/cities/<city>")
@roles_required("hr", "admin")
def city_history(city: str):
    rows = cities.history(city)
    if not rows:
        abort(404)
    return render_template("insurance/city.html", city=rows[0].city, rows=rows, type_labels=type_labels(),
                           names=actor_names(r.created_by for r in rows))


# ---------------------------------------------------------------- one employee


def _employee_or_404(employee_id: int) -> Employee:
    employee = db.session.get(Employee, employee_id)
    if employee is None:
        abort(404)
    return employee


@bp.get("/employees/<int:employee_id>")
@roles_required("hr", "admin")
def employee(employee_id: int, filing_form: FilingForm | None = None, loss_form: LossForm | None = None,
             status: int = 200):
    """The stop (or why it cannot be computed), its filing, the final settlement, the cost of each absence month."""
    person = _employee_or_404(employee_id)
    stop_state = stop_refused = settlement = settlement_refused = None
    if person.status == "terminated":
        try:
            stop_state = stop.compute(person)
        except InsuranceError as exc:
            stop_refused = str(exc)
        try:
            settlement = payroll.settlement(person)
        except InsuranceError as exc:
            settlement_refused = str(exc)
    costs = payroll.cost_during_absence(person)
    claims = db.session.scalars(select(LossClaim).where(LossClaim.employee_id == person.id)
                                .order_by(LossClaim.id)).all()
    return render_template("insurance/employee.html", person=person, stop=stop_state, stop_refused=stop_refused,
                           filing=stop.latest_filing(person.id), settlement=settlement,
                           settlement_refused=settlement_refused, costs=costs, claims=claims,
                           labels=payroll.KIND_LABELS,
                           filing_form=filing_form or FilingForm(formdata=None, filed_on=clock.today()),
                           loss_form=loss_form or LossForm(formdata=None)), status


@bp.post("/employees/<int:employee_id>/filing")
@roles_required("hr", "admin")
def record_filing(employee_id: int):
    person = _employee_or_404(employee_id)
    form = FilingForm()
    if form.validate_on_submit():
        try:
            upload = form.receipt.data
            receipt = files.store(upload.read(), upload.filename, current_user, _("the receipt")) \
                if upload and upload.filename else None
            stop.record_filing(person, form.filed_on.data, current_user, receipt)
        except (InsuranceError, files.FileRefused) as exc:
            db.session.rollback()
            form.filed_on.errors = [*form.filed_on.errors, str(exc)]
        else:
            flash(_("The stop filing is recorded."), "success")
            return redirect(url_for("insurance.employee", employee_id=person.id))
    return employee(person.id, filing_form=form, status=422)


@bp.post("/employees/<int:employee_id>/losses")
@roles_required("hr", "admin")
def record_loss(employee_id: int):
    person = _employee_or_404(employee_id)
    form = LossForm()
    if form.validate_on_submit():
        try:
            payroll.record_loss(person, form.amount.data, form.reason.data, current_user)
        except InsuranceError as exc:
            db.session.rollback()
            form[exc.field or "amount"].errors = [*form[exc.field or "amount"].errors, str(exc)]
        else:
            flash(_("The loss is recorded; the final settlement deducts what the law allows."), "success")
            return redirect(url_for("insurance.employee", employee_id=person.id))
    return employee(person.id, loss_form=form, status=422)


@bp.get("/employees/<int:employee_id>/receipt")
@roles_required("hr", "admin")
def receipt(employee_id: int):
    filing = stop.latest_filing(_employee_or_404(employee_id).id)
    if filing is None or filing.receipt_file_id is None:
        abort(404)
    stored = db.session.get(files.StoredFile, filing.receipt_file_id)
    return Response(stored.data, mimetype=stored.content_type,
                    headers={"Content-Disposition": f"inline; filename=receipt-{filing.id}"})


# ---------------------------------------------------------------- the ledger


def parse_month(text: str | None) -> date | None:
    try:
        month = datetime.strptime(text or "", "%Y-%m").date()  # noqa: DTZ007 - a month, no time
    except ValueError:
        return None
    return month if 1900 <= month.year <= 2100 else None


@bp.get("/ledger")
@roles_required("hr", "admin")
def ledger_page():
    month = parse_month(request.args.get("month")) if request.args.get("month") else clock.today().replace(day=1)
    if month is None:
        flash(_("The month is written YYYY-MM, e.g. 2026-06."), "error")
        return render_template("insurance/ledger.html", book=None, month_text=request.args.get("month", "")[:20],
                               labels=payroll.KIND_LABELS), 422
    book = payroll.ledger(month)
    if request.args.get("format") == "csv":
        return Response(payroll.ledger_csv(book), mimetype="text/csv; charset=utf-8", headers={
            "Content-Disposition": f"attachment; filename=payroll-ledger-{payroll.month_text(month)}.csv"})
    return render_template("insurance/ledger.html", book=book, month_text=payroll.month_text(month),
                           labels=payroll.KIND_LABELS)
