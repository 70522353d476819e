"""Pages that belong to no single domain: the home page, the language switch, health."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select, text

from lms import config
from lms.extensions import db
from lms.people import services
from lms.people.access import visible_employees
from lms.people.models import Department, Employee

bp = Blueprint("web", __name__)


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
    return render_template("home.html", team_size=team_size, counts=counts)


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


@bp.get("/healthz")
def healthz():
    """Liveness and database reachability for load balancers (no data shown)."""
    db.session.execute(text("SELECT 1"))
    return {"status": "ok"}
