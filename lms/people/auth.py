"""Signing in and out."""

from __future__ import annotations

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from lms.extensions import limiter
from lms.people import services
from lms.people.forms import LoginForm
from lms.people.signin import SignInRefused
from lms.web import safe_next

bp = Blueprint("auth", __name__)


def _login_limit() -> str:
    return current_app.config["LMS_LOGIN_LIMIT"]


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("web.home"))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = services.authenticate(form.username.data, form.password.data)
        except SignInRefused as refused:
            flash(refused.message(), "error")
            return render_template("auth/login.html", form=form), 429, {"Retry-After": str(refused.retry_after)}
        if user is not None:
            login_user(user)
            return redirect(safe_next(request.args.get("next"), url_for("web.home")))
        flash(_("Wrong username or password."), "error")
    status = 401 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash(_("You have signed out."), "info")
    return redirect(url_for("auth.login"))
