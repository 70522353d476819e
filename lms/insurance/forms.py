"""Forms of the insurance pages (CSRF through FlaskForm)."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, DecimalField, IntegerField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from lms.forms import DateInput

RATE = [Optional(), NumberRange(0, 100)]
MONEY = [Optional(), NumberRange(0, 9999999)]


class CityRuleForm(FlaskForm):
    city = StringField(_l("City"), validators=[DataRequired(), Length(max=40)])
    valid_from = DateInput(_l("In force from"), validators=[DataRequired()])
    cutoff_day = IntegerField(_l("Cut-off day of the month (增减员截止日)"),
                              validators=[DataRequired(), NumberRange(1, 31)])
    cutoff_inclusive = BooleanField(_l("A change filed on the cut-off day itself still counts for that month"),
                                    default=True)
    pension_employer = DecimalField(_l("Pension, employer %"), validators=RATE)
    pension_personal = DecimalField(_l("Pension, personal %"), validators=RATE)
    medical_employer = DecimalField(_l("Medical (incl. maternity), employer %"), validators=RATE)
    medical_personal = DecimalField(_l("Medical, personal %"), validators=RATE)
    unemployment_employer = DecimalField(_l("Unemployment, employer %"), validators=RATE)
    unemployment_personal = DecimalField(_l("Unemployment, personal %"), validators=RATE)
    work_injury_employer = DecimalField(_l("Work injury, employer %"), validators=RATE)
    base_floor = DecimalField(_l("Base floor"), validators=MONEY)
    base_ceiling = DecimalField(_l("Base ceiling"), validators=MONEY)
    minimum_wage = DecimalField(_l("Monthly minimum wage"), validators=MONEY)
    source = TextAreaField(_l("Source (the office's notice or page)"), validators=[DataRequired(), Length(max=1000)])
    checked_on = DateInput(_l("Checked on"), validators=[DataRequired()])


class FilingForm(FlaskForm):
    filed_on = DateInput(_l("Filed on"), validators=[DataRequired()])
    receipt = FileField(_l("Receipt (scan or photo)"))


class LossForm(FlaskForm):
    amount = DecimalField(_l("Amount"), places=2, validators=[DataRequired(), NumberRange(0.01, 9999999)])
    reason = TextAreaField(_l("What was lost, and how the amount was found"), validators=[DataRequired(),
                                                                                          Length(max=2000)])
