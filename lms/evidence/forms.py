"""Forms of the evidence pages."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField
from wtforms.validators import DataRequired, Regexp

# chain.IDENTIFIER's pattern, ending in \Z: "$" would also accept a trailing newline.
SUBJECT = r"^[a-z0-9][a-z0-9_.:-]{0,99}\Z"


class VerifyForm(FlaskForm):
    """Starting a verification is a POST with a CSRF token."""


class PackForm(FlaskForm):
    """Downloading an evidence pack is a recorded action, so it is a POST with a CSRF token."""

    subject = HiddenField(_l("Subject"), validators=[DataRequired(), Regexp(SUBJECT)])
