"""/api/v1/absence/cases: absence cases, their steps and messages, and replies."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("api_absence", __name__, url_prefix="/api/v1/absence",
                description="Absence cases (SPEC §4). Tokens with role hr or admin.")
