"""The application factory."""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, request, session
from flask_login import current_user
from sqlalchemy import event
from sqlalchemy.engine import Engine

from lms import config, sqltypes
from lms.extensions import babel, csrf, db, include_in_autogenerate, limiter, login_manager, migrate, rest_api
from lms.inputs import register_inputs
from lms.logs import register_logging
from lms.ui import register_ui


def create_app(overrides: Mapping | None = None) -> Flask:
    """Build the app from the environment, with `overrides` (tests) applied on top."""
    app = Flask(__name__, instance_path=str(config.INSTANCE_DIR))
    app.config.update(config.from_environment())
    if overrides:
        app.config.update(overrides)
        if "DATABASE_URL" in overrides:
            app.config["SQLALCHEMY_DATABASE_URI"] = config.normalise_database_url(overrides["DATABASE_URL"])
    config.check_production(app.config)  # before anything uses a secret: refuses defaults, naming the variable
    register_logging(app)
    register_extensions(app)
    register_inputs(app)  # before the blueprints: their <int:…> routes use its converter
    register_blueprints(app)
    register_security(app)
    register_ui(app)
    register_commands(app)
    return app


def select_locale() -> str:
    """The signed-in user's language, else the `lang` cookie, else the company default."""
    from flask import current_app, has_request_context

    if not has_request_context():  # CLI commands and jobs speak the company default
        return current_app.config["LMS_LOCALE"]
    if current_user and current_user.is_authenticated and current_user.locale in config.LOCALES:
        return current_user.locale
    if request.path.startswith("/api/"):
        # Integrations speak English unless they ask for Chinese (marshmallow's own messages are English).
        best = request.accept_languages.best_match(["en", "zh_CN", "zh"], default="en")
        return "en" if best == "en" else "zh_CN"
    chosen = session.get("lang") or request.cookies.get("lang")
    if chosen in config.LOCALES:
        return chosen
    return current_app.config["LMS_LOCALE"]


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(config.PROJECT_DIR / "migrations"), render_as_batch=True, compare_type=True,
                     include_object=include_in_autogenerate)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message_category = "info"
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    limiter.init_app(app)
    rest_api.init_app(app, spec_kwargs={"components": {"securitySchemes": {
        "bearerAuth": {"type": "http", "scheme": "bearer"}}}, "security": [{"bearerAuth": []}]})

    from flask_babel import lazy_gettext as _l

    login_manager.login_message = _l("Please sign in to see this page.")

    from lms.people.models import User

    @login_manager.user_loader
    def load_user(user_id: str):
        return db.session.get(User, int(user_id))


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """WAL lets readers and one writer work at once; every commit waits for the disk (FULL) unless
    lms.commits says otherwise; SQLite leaves foreign keys off unless asked; lms_local_day (see lms.sqltypes)
    is a Python function there."""
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.close()
        dbapi_connection.create_function("lms_local_day", 3, sqltypes.sqlite_local_day, deterministic=True)


@event.listens_for(Engine, "connect")
def _postgresql_settings(dbapi_connection, connection_record):
    """No JIT: our statements are short, and a filter with a correlated EXISTS (the absence scan's
    anti-join) is estimated costly enough to be JIT-compiled — 100+ ms of compiling for a 30 ms query."""
    if type(dbapi_connection).__module__.startswith("psycopg"):
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET jit = off")
        dbapi_connection.commit()  # a SET inside a transaction rolled back would be undone


def register_blueprints(app: Flask) -> None:
    from lms.absence import (
        case_views,  # noqa: F401 - its routes hang on the absence blueprint
        dispute_views,  # noqa: F401 - the same, for dispute files
        service_views,  # noqa: F401 - the same, for service of notices
        termination_views,  # noqa: F401 - the same, for termination
        union_views,  # noqa: F401 - the same, for the union procedure
    )
    from lms.absence.views import bp as absence_bp
    from lms.api import register_api
    from lms.campaigns.views import bp as campaigns_bp
    from lms.courses.views import bp as courses_bp
    from lms.documents.views import bp as documents_bp
    from lms.evidence.views import bp as evidence_bp
    from lms.exams.views import bp as exams_bp
    from lms.exams.views import verify_bp
    from lms.insurance.views import bp as insurance_bp
    from lms.notify.views import bp as notify_bp
    from lms.people.auth import bp as auth_bp
    from lms.people.views import bp as people_bp
    from lms.requests.views import bp as requests_bp
    from lms.web import bp as web_bp

    app.register_blueprint(web_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(people_bp)
    app.register_blueprint(evidence_bp)
    app.register_blueprint(courses_bp)
    app.register_blueprint(exams_bp)
    app.register_blueprint(verify_bp)
    app.register_blueprint(absence_bp)
    app.register_blueprint(notify_bp)
    app.register_blueprint(documents_bp)
    app.register_blueprint(requests_bp)
    app.register_blueprint(campaigns_bp)
    app.register_blueprint(insurance_bp)
    register_api(app)


def register_security(app: Flask) -> None:
    proxies = app.config.get("LMS_PROXY_COUNT") or 0
    if proxies:
        # Behind a TLS proxy the client's address (rate limits, logs) and scheme come from its X-Forwarded-* headers,
        # trusted from exactly that many proxies (a client cannot forge its way past them).
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)

    @app.after_request
    def security_headers(response):
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        headers.setdefault(
            "Content-Security-Policy",
            "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
            "frame-ancestors 'none'; form-action 'self'; base-uri 'self'",
        )
        if app.config["SESSION_COOKIE_SECURE"]:
            headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response


def register_commands(app: Flask) -> None:
    from lms.absence.cli import absence_cli
    from lms.backup import backup_cli
    from lms.campaigns.cli import campaigns_cli
    from lms.courses.cli import content_cli
    from lms.demo import demo_cli
    from lms.evidence.cli import evidence_cli
    from lms.jobs import register_job_commands
    from lms.notify.cli import notify_cli
    from lms.people.cli import api_token_cli, people_cli, users_cli

    app.cli.add_command(absence_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(campaigns_cli)
    app.cli.add_command(people_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(api_token_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(content_cli)
    app.cli.add_command(evidence_cli)
    app.cli.add_command(notify_cli)
    register_job_commands(app)
    _guard_against_database_faults(app.cli)


def _guard_against_database_faults(group) -> None:
    """Every `flask …` command of ours, on a failing database (unreachable, read-only, full), ends with
    what happened in one line and exit status 1 instead of a traceback; other errors are left alone."""
    import functools

    import click
    from sqlalchemy.exc import DBAPIError

    from lms.ui import DATABASE_FAULT_TEXT, database_fault

    for command in group.commands.values():
        if isinstance(command, click.Group):
            _guard_against_database_faults(command)
            continue
        callback = command.callback
        if callback is None or getattr(callback, "_guarded", False):
            continue

        @functools.wraps(callback)
        def guarded(*args, _callback=callback, **kwargs):
            try:
                return _callback(*args, **kwargs)
            except DBAPIError as exc:
                fault = database_fault(exc)
                if fault is None:
                    raise
                raise click.ClickException(f"{DATABASE_FAULT_TEXT[fault]} ({exc.orig})") from exc

        guarded._guarded = True
        command.callback = guarded
