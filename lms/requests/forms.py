"""Self-service forms."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, MultipleFileField
from wtforms import HiddenField, SelectChoice, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, Length, Optional

from lms.absence.leave import LEAVE_TYPE_LABELS
from lms.forms import DateInput
from lms.requests.leave_requests import REQUEST_LEAVE_TYPES


class LeaveRequestForm(FlaskForm):
    kind = SelectField(_l("Request"), choices=[SelectChoice("leave", _l("Time off")),
                                               SelectChoice("trip", _l("Business trip or out of office"))])
    type = SelectField(_l("Type of leave"),
                       choices=[SelectChoice(t, LEAVE_TYPE_LABELS[t]) for t in REQUEST_LEAVE_TYPES])
    start = DateInput(_l("First day"), validators=[DataRequired()])
    end = DateInput(_l("Last day"), validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])
    extends = SelectField(_l("Extends (续假)"), choices=[], validators=[Optional()])
    follows_report = SelectField(_l("Follows up the emergency report of"), choices=[], validators=[Optional()])
    attachments = MultipleFileField(_l("Attachments (PDF, JPEG or PNG, e.g. a medical certificate)"),
                                    validators=[FileAllowed(["pdf", "jpg", "jpeg", "png"])])


class DecisionForm(FlaskForm):
    note = StringField(_l("Note"), validators=[Length(max=500)])


class CorrectionForm(FlaskForm):
    day = DateInput(_l("Day without a punch"), validators=[DataRequired()])
    arrived = TimeField(_l("When you arrived"), validators=[DataRequired()])
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class EmergencyForm(FlaskForm):
    reason = TextAreaField(_l("What happened, and when you expect to be back"),
                           validators=[DataRequired(), Length(max=2000)])


class DetailsForm(FlaskForm):
    mobile = StringField(_l("Mobile"), validators=[Length(max=20)])
    email = StringField(_l("E-mail"), validators=[Length(max=254)])
    contact_address = TextAreaField(_l("Contact address (where letters reach you)"), validators=[Length(max=500)])
    emergency_name = StringField(_l("Emergency contact"), validators=[Length(max=80)])
    emergency_relation = StringField(_l("Relation"), validators=[Length(max=40)])
    emergency_phone = StringField(_l("Emergency contact's phone"), validators=[Length(max=20)])


class ConfirmForm(FlaskForm):
    text_sha256 = HiddenField()


class AwayForm(FlaskForm):
    start = DateInput(_l("Away from"), validators=[DataRequired()])
    end = DateInput(_l("Until"), validators=[DataRequired()])


class ScanForm(FlaskForm):
    address = TextAreaField(_l("Address confirmed on paper"), validators=[DataRequired(), Length(max=500)])
    scan = FileField(_l("Scan of the signed confirmation"), validators=[FileAllowed(["pdf", "jpg", "jpeg", "png"])])
