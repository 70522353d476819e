"""Form fields every domain shares: a date a person types, checked the way people expect."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, DateTimeLocalField
from wtforms.validators import StopValidation

from lms.inputs import within_date_range


class _TypedDate:
    """What DateInput and DateTimeInput share: empty is no value (DataRequired then says "required"),
    a wrong value is `invalid` in our words (never "this field is required", which DataRequired says
    when it finds no parsed value), and a value lies within 1900–2100."""

    invalid = ""

    def process_formdata(self, valuelist):
        text = " ".join(valuelist).strip() if valuelist else ""
        if not text:
            self.data = None
            return
        super().process_formdata([text[:40]])  # a date is short; nothing longer is even parsed

    def pre_validate(self, form):
        if self.process_errors:  # already copied into self.errors: say it in our words instead
            self.errors[:] = [self.invalid]
            raise StopValidation()
        if self.data is not None and not within_date_range(self.data):
            raise StopValidation(_l("The date must lie within 1900–2100."))


class DateInput(_TypedDate, DateField):
    """A typed date: "2026-02-30" is "not a valid date". The rules of what a date may be (not in the
    future for a coaching, not in the past for a due date) belong to the services that act on it."""

    invalid = _l("Not a valid date: enter it as year-month-day, e.g. 2026-06-03.")

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {}).setdefault("placeholder", "2026-06-03")
        super().__init__(label, validators, **kwargs)


class DateTimeInput(_TypedDate, DateTimeLocalField):
    """A typed date and time (`<input type="datetime-local">`), checked like DateInput."""

    invalid = _l("Not a valid date and time: enter it as year-month-day hour:minute, e.g. 2026-06-03 09:30.")

    def __init__(self, label=None, validators=None, **kwargs):
        # The browser sends 2026-06-03T09:30 (seconds when it likes); a person typing may use a space.
        kwargs.setdefault("format", ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"])
        super().__init__(label, validators, **kwargs)
