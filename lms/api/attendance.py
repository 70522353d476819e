"""/api/v1/punches and /api/v1/leaves: attendance facts pushed by time clocks and HR systems."""

from __future__ import annotations

from flask_smorest import Blueprint

blp = Blueprint("api_attendance", __name__, url_prefix="/api/v1",
                description="Punches and leave (SPEC §4). Tokens with role hr or admin.")
