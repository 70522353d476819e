"""HR's working-day calendar: what each date is, per-date overrides, a whole year from the notice."""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from lms import clock
from lms.absence import calendar
from lms.people.access import roles_required
from lms.ui import current_locale

bp = Blueprint("absence", __name__, url_prefix="/absence", template_folder="templates")


class OverrideForm(FlaskForm):
    day = DateField(_l("Date"), validators=[DataRequired()])
    kind = SelectField(_l("This date is"), choices=[SelectChoice("workday", _l("a working day")),
                                                    SelectChoice("rest", _l("a rest day"))])
    name = StringField(_l("Why (e.g. 春节调休)"), validators=[DataRequired(), Length(max=80)])


class YearForm(FlaskForm):
    source = StringField(_l("Notice (e.g. 国办发明电〔2026〕X号)"), validators=[DataRequired(), Length(max=200)])
    notice = TextAreaField(_l("Dates, one per line"), validators=[DataRequired(), Length(max=20000)])


@bp.route("/calendar", methods=["GET", "POST"])
@roles_required("hr", "admin")
def calendar_page():
    year = request.args.get("year", type=int) or clock.today().year
    if not 2000 <= year <= 2100:
        abort(404)
    override_form, year_form = OverrideForm(prefix="one"), YearForm(prefix="year")
    year_problems: list[tuple[int, str]] = []
    if request.method == "POST":
        if request.form.get("action") == "override" and override_form.validate_on_submit():
            calendar.set_override(override_form.day.data, override_form.kind.data == "workday",
                                  override_form.name.data, current_user)
            flash(_("Saved."), "success")
            return redirect(url_for("absence.calendar_page", year=override_form.day.data.year))
        if request.form.get("action") == "year" and year_form.validate_on_submit():
            try:
                count = calendar.enter_year(year, year_form.notice.data, year_form.source.data, current_user)
            except calendar.YearError as exc:
                year_problems = exc.problems
            else:
                flash(_("%(n)s dates of %(year)s entered.", n=count, year=year), "success")
                return redirect(url_for("absence.calendar_page", year=year))
    days = [date(year, 1, 1) + timedelta(days=n) for n in range((date(year, 12, 31) - date(year, 1, 1)).days + 1)]
    infos = calendar.classify(days)
    special = [info for info in infos.values() if info.kind != calendar.UNKNOWN
               and (info.is_workday != (info.day.weekday() < 5) or info.source == "override")]
    unknown = sum(1 for info in infos.values() if info.kind == calendar.UNKNOWN)
    status = 422 if (year_problems or override_form.errors or year_form.errors) else 200
    return render_template("absence/calendar.html", year=year, special=special, unknown=unknown,
                           override_form=override_form, year_form=year_form, year_problems=year_problems,
                           locale=current_locale()), status
