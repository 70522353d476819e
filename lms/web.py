"""Pages that belong to no single domain: the home page, the language switch, liveness and health."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    abort,
    current_app,
    g,
    has_request_context,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from lms import config, health
from lms.exams import path
from lms.extensions import db
from lms.people import services
from lms.people.access import visible_employees
from lms.people.models import Department, Employee
from lms.ui import current_locale

bp = Blueprint("web", __name__)
log = logging.getLogger(__name__)


def safe_next(target: str | None, fallback: str) -> str:
    """Only same-site paths are followed after a form, never another host."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return fallback


@bp.get("/")
@login_required
def home():
    """The signed-in user's start page: their record and what their role lets them do."""
    team_size = None
    if current_user.role in ("manager", "hr", "admin"):
        visible = visible_employees(current_user).subquery()
        team_size = db.session.scalar(select(func.count()).select_from(visible))
    counts = None
    if current_user.sees_everyone:
        counts = {
            "employees": db.session.scalar(select(func.count(Employee.id))),
            "departments": db.session.scalar(select(func.count(Department.id))),
            "onboarding": db.session.scalar(
                select(func.count(Employee.id)).where(Employee.status == "onboarding")
            ),
        }
    statuses = path.course_statuses(current_user.employee_id) if current_user.employee_id else []
    step = path.next_step(current_user.employee_id, statuses) if current_user.employee_id else None
    return render_template("home.html", team_size=team_size, counts=counts, statuses=statuses, step=step,
                           locale=current_locale())


@bp.post("/language")
def set_language():
    """Switch the interface language (kept on the account when signed in)."""
    locale = request.form.get("locale", "")
    if locale not in config.LOCALES:
        abort(400)
    session["lang"] = locale
    if current_user.is_authenticated:
        services.set_locale(current_user, locale)
    return redirect(safe_next(request.form.get("next"), url_for("web.home")))


@bp.get("/livez")
def livez():
    """Liveness for load balancers: the process answers and the database is reachable (no data shown)."""
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}


def rate_limit_storage() -> str:
    """Where the rate limiter counts: "memory" (each process on its own) or "redis" (shared); never the URL."""
    return urlsplit(current_app.config.get("RATELIMIT_STORAGE_URI") or "memory://").scheme or "memory"


@bp.get("/healthz")
def healthz():
    """200 with {"status": "ok"} or {"status": "degraded", "reasons": [{"code", "message", …}]}; 503 when the
    database cannot be reached. Each answer names the rate limiter's storage ("rate_limit_storage": memory or
    redis). English unless the caller prefers Chinese; no personal data."""
    locale = request.accept_languages.best_match(["en", "zh_CN", "zh"], default="en")
    with force_locale("en" if locale == "en" else "zh_CN"):
        try:
            found = health.reasons()
        except DBAPIError:
            db.session.rollback()
            log.exception("/healthz: the database cannot be reached")
            return {"status": "down", "reasons": [{"code": "database_unreachable", "message": str(
                _l("The database cannot be reached."))}], "rate_limit_storage": rate_limit_storage()}, 503
        if not found:
            return {"status": "ok", "rate_limit_storage": rate_limit_storage()}
        return {"status": "degraded", "reasons": [reason.as_dict() for reason in found],
                "rate_limit_storage": rate_limit_storage()}


@bp.app_context_processor
def health_banner():
    """HR and admins see on every page what /healthz reports, in their language, with where to fix it."""
    if not has_request_context() or not current_user or not current_user.is_authenticated \
            or current_user.role not in ("hr", "admin"):
        return {}
    if "health_reasons" not in g:
        try:
            g.health_reasons = health.reasons()
        except DBAPIError:
            db.session.rollback()
            g.health_reasons = []
    return {"health_reasons": g.health_reasons}
