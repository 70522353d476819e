"""Forms for signing in, importing people and managing accounts."""

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import PasswordField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=256)])


class ImportForm(FlaskForm):
    file = FileField(
        _l("Employee file (.csv or .xlsx)"),
        validators=[FileRequired(), FileAllowed(["csv", "xlsx"], _l("Upload a .csv or .xlsx file."))],
    )


class NewUserForm(FlaskForm):
    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(min=3, max=64),
                    Regexp(r"^[A-Za-z0-9_.@-]+$", message=_l("Letters, digits and . _ @ - only."))],
    )
    password = PasswordField(_l("Initial password"), validators=[DataRequired(), Length(min=10, max=256)])
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice("employee", _l("Employee")), SelectChoice("manager", _l("Manager")),
                 SelectChoice("hr", _l("HR")), SelectChoice("admin", _l("Administrator"))],
    )
    employee_no = StringField(_l("Employee number (optional)"), validators=[Optional(), Length(max=32)])


class RevealForm(FlaskForm):
    """An empty form: revealing a national ID is a recorded action, so it is a POST with CSRF."""


class DepartmentParentForm(FlaskForm):
    """HR places a department under another (or at the top level); the choices are set by the view."""

    department = SelectField(_l("Department"), validators=[DataRequired()])
    parent = SelectField(_l("Parent department"), validators=[Optional()])
