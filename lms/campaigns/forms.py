"""Forms of the campaign pages (CSRF through FlaskForm)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FieldList, Form, FormField, IntegerField, RadioField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from lms.forms import DateInput
from lms.people.models import JOB_FAMILIES
from lms.ui import JOB_FAMILY_LABELS


class RuleForm(Form):
    """One target rule; an empty row is ignored."""

    job_family = SelectField(_l("Job family"), choices=[("", "—"), *[(f, JOB_FAMILY_LABELS[f]) for f in JOB_FAMILIES]],
                             validators=[Optional()])
    # The view lists the departments in tree order; a rule naming one takes its sub-departments too.
    department = SelectField(_l("Department (with its sub-departments)"), validators=[Optional()])
    position = StringField(_l("Position"), validators=[Optional(), Length(max=80)])
    tenure_months_min = IntegerField(_l("Tenure from (months)"), validators=[Optional(), NumberRange(0, 1200)])
    tenure_months_max = IntegerField(_l("Tenure up to (months)"), validators=[Optional(), NumberRange(0, 1200)])
    course = SelectField(_l("Course"), validators=[Optional()])
    exam = SelectField(_l("Exam"), validators=[Optional()])


class CampaignForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    kind = SelectField(_l("Kind"), choices=[("refresher", _l("Refresher")), ("annual", _l("Annual assessment"))])
    launch_on = DateInput(_l("Launch date"), validators=[DataRequired()])
    due_on = DateInput(_l("Due date"), validators=[DataRequired()])
    remind_days_before = IntegerField(_l("Reminder, days before the due date"), default=3,
                                      validators=[DataRequired(), NumberRange(0, 60)])
    grace_days = IntegerField(_l("Days overdue before HR is told"), default=5,
                              validators=[DataRequired(), NumberRange(0, 60)])
    rules = FieldList(FormField(RuleForm), min_entries=6, max_entries=6)


class LaunchForm(FlaskForm):
    pass


class AssignForm(FlaskForm):
    scope = RadioField(_l("Assign to"), default="chosen", choices=[
        ("chosen", _l("The people ticked below")), ("team", _l("My whole team (every level)")),
        ("direct", _l("My direct reports"))])
    # A checklist of the team: people are picked, never typed.
    employee_no = SelectMultipleField(_l("People"), validators=[Optional()],
                                      widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    course = SelectField(_l("Course"), validators=[DataRequired()])
    exam = SelectField(_l("Exam"), validators=[DataRequired()])
    due_on = DateInput(_l("Due date"), validators=[DataRequired()])
