"""Campaign pages: HR's list, new campaign, preview and launch, dashboards; managers assign."""

from __future__ import annotations

from flask import Blueprint

from lms.campaigns import models, retest  # noqa: F401 - models for the metadata, retest hooks into exams

bp = Blueprint("campaigns", __name__, url_prefix="/campaigns", template_folder="templates")
