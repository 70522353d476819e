"""Flask extensions, created unbound and attached in `create_app`."""

from flask import current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from marshmallow import Schema, fields
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

# Indexes over expressions, which SQLAlchemy cannot reflect: their migration writes them by
# hand, and autogenerate must not propose dropping them.
HAND_WRITTEN_INDEXES = frozenset({"ix_evidence_event_subject", "ix_evidence_event_kind"})


def include_in_autogenerate(obj, name, type_, reflected, compare_to) -> bool:
    return not (type_ == "index" and name in HAND_WRITTEN_INDEXES)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
# Public pages that look something up by a secret in the URL (a certificate's verification code, an SMS reply
# link): only misses count against LMS_GUESS_LIMIT, so guessing is slowed to a crawl while people opening their
# real code or link use up nothing (an address over the limit is refused everything until its window passes).
guess_limit = limiter.shared_limit(lambda: current_app.config["LMS_GUESS_LIMIT"], scope="public-lookup",
                                   deduct_when=lambda response: response.status_code >= 400)


class ErrorItem(Schema):
    row = fields.Integer(metadata={"description": "The row of a batch (1 = the first), when the problem has one."})
    field = fields.String()
    message = fields.String(required=True)


class ErrorBody(Schema):
    status = fields.Integer(required=True, metadata={"description": "The HTTP status, again."})
    message = fields.String(required=True)
    field = fields.String(metadata={"description": "The field (or header) at fault, when one is."})
    errors = fields.List(fields.Nested(ErrorItem), metadata={"description": "Every problem, when there are several."})


class ErrorResponse(Schema):
    """The one JSON error shape (lms.ui.api_error writes it): `{"error": {"status", "message", …}}`."""

    error = fields.Nested(ErrorBody, required=True)


class LmsApi(Api):
    """flask-smorest's Api without its app-wide JSON error handler: lms.ui answers errors
    as JSON under /api/ and as pages everywhere else — in the one shape the document names for
    every error status (ERROR_SCHEMA: the `default` response and each status's response)."""

    ERROR_SCHEMA = ErrorResponse

    def _register_error_handlers(self):
        pass


rest_api = LmsApi()
