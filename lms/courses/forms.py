"""Forms of the course pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from lms.forms import DateInput


class AttestForm(FlaskForm):
    """知悉确认 — a POST with CSRF; the confirmation text is on the page."""

    chapter_sha256 = HiddenField(validators=[DataRequired()])


class CompleteForm(FlaskForm):
    pass


class EnrolForm(FlaskForm):
    employee_numbers = TextAreaField(_l("Employee numbers (one per line, or separated by commas)"),
                                     validators=[DataRequired(), Length(max=20000)])
    due_on = DateInput(_l("Due date"), validators=[Optional()])


class PostForm(FlaskForm):
    body = TextAreaField(_l("Your post"), validators=[DataRequired(), Length(max=4000)])
    parent_id = HiddenField()


class HideForm(FlaskForm):
    reason = TextAreaField(_l("Why is this post hidden?"), validators=[DataRequired(), Length(max=500)])
