"""Template helpers and error pages shared by every HTML page and the JSON API."""

from __future__ import annotations

import json
import logging
import re
from datetime import date, datetime

from flask import Flask, current_app, g, jsonify, render_template, request
from flask_babel import format_datetime, get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup, escape
from sqlalchemy.exc import DBAPIError
from werkzeug.exceptions import HTTPException

from lms import clock
from lms.inputs import BadInput

log = logging.getLogger(__name__)

ROLE_LABELS = {"employee": _l("Employee"), "manager": _l("Manager"), "hr": _l("HR"), "admin": _l("Administrator")}
STATUS_LABELS = {"onboarding": _l("Onboarding"), "active": _l("Active"),
                 "termination_pending": _l("Termination pending (notice not yet served)"),
                 "terminated": _l("Terminated")}
JOB_FAMILY_LABELS = {
    "sales": _l("Sales"), "logistics": _l("Logistics"), "production": _l("Production"),
    "office": _l("Office"), "rd": _l("R&D"), "service": _l("Customer service"),
    "management": _l("Management"), "other": _l("Other"),
}
COURSE_KIND_LABELS = {"handbook": _l("Handbook"), "scenario": _l("Scenario"), "case": _l("Case analysis")}
# Where a record came from (Leave.source, Punch.source, …: "page", "csv:dingtalk", "request:12"), in words.
SOURCE_LABELS = {
    "page": _l("entered on the page"), "csv": _l("imported file"), "xlsx": _l("imported file"),
    "upload": _l("imported file"), "cli": _l("imported by command"), "api": _l("from the HR system (API)"),
    "demo": _l("demo data"), "correction": _l("missed-punch correction"), "replay": _l("scenario replay"),
    "employee": _l("the employee"), "hr": _l("HR"), "campaign": _l("refresher campaign"),
    "request": _l("leave request"), "case": _l("absence case"),
}


def source_label(source: str | None) -> str:
    """A record's source in words; an unknown one as "other"."""
    if not source:
        return ""
    label = SOURCE_LABELS.get(source.partition(":")[0])
    return str(label) if label else _("other")


ERROR_TEXT = {
    400: (_l("Bad request"), _l("The request could not be understood. Reload the page and try again.")),
    401: (_l("Sign-in required"), _l("Please sign in to see this page.")),
    403: (_l("Not allowed"), _l("Your role does not allow this page.")),
    404: (_l("Not found"), _l("There is nothing here, or it is not yours to see.")),
    405: (_l("Method not allowed"), _l("This address does not accept that kind of request.")),
    413: (_l("Too large"), _l("The upload is larger than the allowed size.")),
    422: (_l("Invalid input"), _l("Some of the input is not valid.")),
    429: (_l("Too many attempts"), _l("Too many attempts. Wait a minute and try again.")),
    500: (_l("Server error"), _l("Something went wrong on our side. The error has been logged.")),
    503: (_l("Temporarily unavailable"), _l("The service is temporarily unavailable. Try again in a minute.")),
}
# What a request is told when the database itself fails (database_fault), beside the 503.
DATABASE_FAULT_TEXT = {
    "unreachable": _l("The database cannot be reached right now. Try again in a minute."),
    "read_only": _l("The database is read-only right now, so this change was not saved. "
                    "Try again later, or tell the administrator."),
    "full": _l("The database server is out of disk space, so this change was not saved. "
               "Tell the administrator."),
}


def database_fault(exc: DBAPIError) -> str | None:
    """"unreachable", "read_only" or "full" when the database itself is failing, not the statement; else None.

    PostgreSQL by SQLSTATE (25006 read-only transaction; class 53 insufficient resources, e.g. 53100
    disk full; class 08 and 57P shutdowns: the connection is gone) or a connection that never opened;
    SQLite by its error name (SQLITE_READONLY*, SQLITE_FULL, SQLITE_CANTOPEN/BUSY/IOERR*).
    """
    if exc.connection_invalidated:
        return "unreachable"
    original = exc.orig
    sqlstate = getattr(original, "sqlstate", None)
    if type(original).__module__.startswith("psycopg"):
        if sqlstate is None:  # psycopg's own OperationalError: no server answered
            return "unreachable" if type(original).__name__ == "OperationalError" else None
        if sqlstate == "25006":
            return "read_only"
        if sqlstate.startswith("53"):
            return "full"
        return "unreachable" if sqlstate.startswith(("08", "57P")) else None
    name = getattr(original, "sqlite_errorname", "") or ""
    if name.startswith("SQLITE_READONLY"):
        return "read_only"
    if name == "SQLITE_FULL":
        return "full"
    return "unreachable" if name.startswith(("SQLITE_CANTOPEN", "SQLITE_BUSY", "SQLITE_IOERR")) else None


def localtime(value: datetime | None) -> str:
    """A stored UTC instant shown in the company's time zone."""
    if value is None:
        return ""
    return format_datetime(clock.local(value), "yyyy-MM-dd HH:mm:ss")


def short_date(day: date) -> str:
    """A date in words without its year: 6月21日, 6/21 in English."""
    return _("%(month)s/%(day)s", month=day.month, day=day.day)


COMMAND = re.compile(r"flask(?: [a-z][a-z-]*)+(?: --[a-z-]+(?: [0-9]+)?)?")


def with_code(text, *words: str) -> Markup:
    """A message naming a command (`flask worker`) or file columns (`employee_no`): those set as code."""
    escaped = str(escape(str(text)))  # escaped first: only our <code> tags are markup
    patterns = [COMMAND.pattern, *(rf"(?<![\w.]){re.escape(str(escape(w)))}(?![\w])" for w in words)]
    wrapped = re.sub("|".join(f"(?:{p})" for p in patterns), lambda m: f"<code>{m.group(0)}</code>", escaped)
    return Markup(wrapped)  # noqa: S704


def pretty_json(value) -> str:
    """Indented JSON that keeps Chinese readable (tojson would escape it to \\uXXXX)."""
    return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)


def current_locale() -> str:
    """The request's language as one of config.LOCALES (Babel reports zh_CN as zh_Hans_CN)."""
    return "zh_CN" if get_locale().language == "zh" else "en"


def external_url(endpoint: str, **values) -> str:
    """An absolute link under LMS_BASE_URL, buildable outside a request (ticks, jobs, PDFs)."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["LMS_BASE_URL"].rstrip("/") + path


def is_api_request() -> bool:
    return request.path.startswith("/api/")


def api_error(status: int, message: str, field: str | None = None, errors: list[dict] | None = None):
    """The one JSON error shape: {"error": {"status", "message", "field", "errors"}}."""
    body: dict = {"status": status, "message": str(message)}
    if field:
        body["field"] = field
    if errors:
        body["errors"] = errors
    return jsonify({"error": body}), status


def _validation_errors(exc: HTTPException) -> list[dict]:
    """webargs/marshmallow messages ({location: {field: [msg]}}) as a flat list."""
    messages = (getattr(exc, "data", None) or {}).get("messages") or {}
    flat: list[dict] = []

    def walk(node, path: list[str]):
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, [*path, str(key)])
        elif isinstance(node, list) and all(isinstance(item, str) for item in node):
            flat.extend({"field": ".".join(path), "message": text} for text in node)
        else:
            flat.append({"field": ".".join(path), "message": str(node)})

    for location_messages in messages.values():
        walk(location_messages, [])
    return flat


def register_ui(app: Flask) -> None:
    from lms.courses.clauses import clause_title
    from lms.evidence.labels import event_label

    app.jinja_env.globals.update(
        clause_title=clause_title,
        event_label=event_label,
        source_label=source_label,
        role_label=lambda role: ROLE_LABELS.get(role, role),
        status_label=lambda status: STATUS_LABELS.get(status, status),
        job_family_label=lambda family: JOB_FAMILY_LABELS.get(family, family),
        current_locale=current_locale,
        course_kind_label=lambda kind: COURSE_KIND_LABELS.get(kind, kind),
        local_today=clock.today,
    )
    app.jinja_env.filters["localtime"] = localtime
    app.jinja_env.filters["short_date"] = short_date
    app.jinja_env.filters["pretty_json"] = pretty_json
    app.jinja_env.filters["with_code"] = with_code

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException):
        status = exc.code or 500
        title, message = ERROR_TEXT.get(status, (exc.name, exc.description))
        if isinstance(exc, BadInput):  # the input policy names the field and what is wrong with it
            if is_api_request():
                return api_error(status, exc.description, field=exc.field)
            return render_template("errors/error.html", code=status, title=title, message=exc.description), status
        # werkzeug's own headers stay: a 405 names the methods the address accepts (Allow), a 429 when to
        # come back (Retry-After).
        headers = [(name, value) for name, value in exc.get_headers() if name.lower() != "content-type"]
        if is_api_request():
            errors = _validation_errors(exc)
            if errors:
                response, status = api_error(status, _l("The request has invalid fields."),
                                             field=errors[0]["field"], errors=errors)
            else:
                # abort(404, "No employee E9") carries its own message; werkzeug's defaults do not.
                custom = exc.description if exc.description != type(exc).description else None
                response, status = api_error(status, custom or message)
            response.headers.extend(headers)
            return response, status
        return render_template("errors/error.html", code=status, title=title, message=message), status, headers

    @app.teardown_appcontext
    def close_session_of_a_dead_connection(_exc) -> None:
        """Runs before Flask-SQLAlchemy's own removal: closing a session whose connection died with the
        server raises (its rollback cannot reach it), which would turn the answer already made into a
        500. SQLAlchemy has invalidated that connection by then, so a second close succeeds."""
        from lms.extensions import db

        try:
            db.session.close()
        except DBAPIError as exc:
            log.warning("the database connection died before the end of the request: %s", exc.orig)
            db.session.close()

    @app.errorhandler(DBAPIError)
    def database_error(exc: DBAPIError):
        """A failing database answers 503 with what happened (a page or the JSON error), never a 500;
        other database errors are bugs and stay 500s. The pool's pre-ping (config) reconnects next time."""
        from lms.extensions import db

        fault = database_fault(exc)
        if fault is None:
            raise exc  # a bug (a constraint, a bad statement): Flask's 500, as any other
        log.error("database %s: %s %s", fault, request.method, request.path, exc_info=exc)
        try:
            db.session.rollback()  # the transaction is gone either way; nothing of it was committed
        except DBAPIError:
            db.session.rollback()  # the first found the connection dead and invalidated it
        title, message = ERROR_TEXT[503][0], DATABASE_FAULT_TEXT[fault]
        if is_api_request():
            response, status = api_error(503, message)
        else:
            # The layout asks the database about the signed-in user (menus, badges): render for nobody.
            g._login_user = current_app.login_manager.anonymous_user()
            response = current_app.make_response(
                (render_template("errors/error.html", code=503, title=title, message=message), 503))
        response.headers["Retry-After"] = "60"
        return response, 503
