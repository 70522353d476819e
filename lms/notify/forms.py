"""Forms of the notification pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectChoice, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length


class ChannelCheckForm(FlaskForm):
    employee_no = StringField(_l("Employee number"), validators=[DataRequired(), Length(max=32)])
    channels = SelectMultipleField(
        _l("Channels"), validators=[DataRequired()],
        choices=[SelectChoice("inapp", _l("In-app inbox")), SelectChoice("sms", _l("SMS")),
                 SelectChoice("email", _l("E-mail"))],
    )


class RetryForm(FlaskForm):
    """A POST with a CSRF token: asking for another try is an HR action on record."""


class ContactHRForm(FlaskForm):
    body = TextAreaField(_l("Your message to HR"), validators=[DataRequired(), Length(max=2000)])
