"""Form fields every domain shares: a date a person types, checked the way people expect."""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from wtforms import DateField
from wtforms.validators import StopValidation

# Any date a person enters lies here (ARCHITECTURE: "within 1900–2100 for anything").
EARLIEST_DATE, LATEST_DATE = date(1900, 1, 1), date(2100, 12, 31)


class DateInput(DateField):
    """A typed date: "2026-02-30" is "not a valid date" (never "this field is required", which
    DataRequired says when it finds no parsed value), and it lies within 1900–2100. The rules of
    what a date may be (not in the future for a coaching, not in the past for a due date) belong to
    the services that act on it."""

    def __init__(self, label=None, validators=None, **kwargs):
        kwargs.setdefault("render_kw", {}).setdefault("placeholder", "2026-06-03")
        super().__init__(label, validators, **kwargs)

    def process_formdata(self, valuelist):
        text = " ".join(valuelist).strip() if valuelist else ""
        if not text:
            self.data = None
            return
        super().process_formdata([text[:40]])  # a date is short; nothing longer is even parsed

    def pre_validate(self, form):
        if self.process_errors:  # already copied into self.errors: say it in our words instead
            self.errors[:] = [_l("Not a valid date: enter it as year-month-day, e.g. 2026-06-03.")]
            raise StopValidation()
        if self.data is not None and not EARLIEST_DATE <= self.data <= LATEST_DATE:
            raise StopValidation(_l("The date must lie within 1900–2100."))
