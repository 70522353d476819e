"""Forms of the evidence pages."""

from flask_wtf import FlaskForm


class VerifyForm(FlaskForm):
    """Starting a verification is a POST with a CSRF token."""
