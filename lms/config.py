"""Settings read from the environment through small typed helpers.

Every variable is listed in the README's configuration table; tests pass a mapping of
overrides to `create_app` instead of touching the environment.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = Path(os.environ.get("LMS_INSTANCE_DIR", PROJECT_DIR / "instance"))


def env_str(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def _secret_key() -> str:
    """SECRET_KEY from the environment, else one generated once and kept under instance/.

    A development install never needs a secret in git; production sets SECRET_KEY (and generates nothing: an
    empty key there is refused by check_production).
    """
    key = env_str("SECRET_KEY")
    if key:
        return key
    if env_str("LMS_ENV") == "production":
        return ""
    path = INSTANCE_DIR / "secret_key"
    if not path.exists():
        INSTANCE_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


class ConfigError(RuntimeError):
    """A setting that makes the app unsafe to start (production with a default secret)."""


# Values that are not secrets: the suite's, the benchmarks' and the usual placeholders of a deployment template.
KNOWN_PLACEHOLDERS = {"test-secret", "test-data-key", "bench", "collect", "secret", "changeme", "change-me",
                      "dev", "development", "default", "xxx", "…", "..."}
MIN_SECRET_LENGTH = 32


def check_production(settings: Mapping) -> None:
    """In production (`LMS_ENV=production`), refuse to start on a secret that is not a real one.

    SECRET_KEY and LMS_DATA_KEY must come from the environment (not the key generated under instance/, not the
    data key falling back to SECRET_KEY: rotating one would then lose the other), be at least 32 characters and
    differ from each other; cookies must be HTTPS-only. `make run` and the tests are not production.
    Raises ConfigError naming the variable."""
    if settings.get("LMS_ENV") != "production" or settings.get("TESTING") or settings.get("DEBUG"):
        return
    problems = []
    for name in ("SECRET_KEY", "LMS_DATA_KEY"):
        value = env_str(name)
        if value is None:
            problems.append(f"{name} is not set in the environment")
        elif settings.get(name) != value:
            problems.append(f"{name} differs from the environment's value")
        elif value.strip().lower() in KNOWN_PLACEHOLDERS or len(value) < MIN_SECRET_LENGTH:
            problems.append(f"{name} is a placeholder or shorter than {MIN_SECRET_LENGTH} characters")
    if env_str("SECRET_KEY") and env_str("SECRET_KEY") == env_str("LMS_DATA_KEY"):
        problems.append("LMS_DATA_KEY equals SECRET_KEY (set two different values)")
    if not settings.get("SESSION_COOKIE_SECURE"):
        problems.append("LMS_SECURE_COOKIES is off (production is served over HTTPS)")
    if problems:
        raise ConfigError("Refusing to start with LMS_ENV=production: " + "; ".join(problems) + ". "
                          "Generate each secret with `python -c 'import secrets; print(secrets.token_urlsafe(48))'`.")


def normalise_database_url(url: str) -> str:
    """Let `postgresql://` URLs use psycopg 3, the only PostgreSQL driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def from_environment() -> dict:
    """The application settings as a mapping, read from the environment."""
    database_url = env_str("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'lms.sqlite3'}")
    redis_url = env_str("REDIS_URL")
    return {
        # `production` refuses to start on default secrets (check_production); anything else is development.
        "LMS_ENV": env_str("LMS_ENV", "development"),
        # Logs: `text` (default) or `json` (one JSON object a line, one line per request with its request id).
        "LMS_LOG_FORMAT": env_str("LMS_LOG_FORMAT", "text"),
        "SECRET_KEY": _secret_key(),
        # Derives the key that encrypts national ID numbers; defaults to SECRET_KEY so a
        # deployment that rotates SECRET_KEY can pin the data key separately.
        "LMS_DATA_KEY": env_str("LMS_DATA_KEY"),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "REDIS_URL": redis_url,
        "LMS_TIMEZONE": env_str("LMS_TIMEZONE", "Asia/Shanghai"),
        "LMS_LOCALE": env_str("LMS_LOCALE", "zh_CN"),
        "LMS_TICK_SECONDS": env_int("LMS_TICK_SECONDS", 60),
        "LMS_LOGIN_LIMIT": env_str("LMS_LOGIN_LIMIT", "10 per minute;50 per hour"),
        # Proxies in front of the app that set X-Forwarded-For/-Proto (a TLS proxy: 1). 0 trusts no such header.
        "LMS_PROXY_COUNT": env_int("LMS_PROXY_COUNT", 0),
        "LMS_GUESS_LIMIT": env_str("LMS_GUESS_LIMIT", "20 per minute;100 per hour"),
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        "RATELIMIT_HEADERS_ENABLED": True,  # a 429 says when to come back (Retry-After)
        "SESSION_COOKIE_SECURE": env_bool("LMS_SECURE_COOKIES", True),
        "REMEMBER_COOKIE_SECURE": env_bool("LMS_SECURE_COOKIES", True),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_HTTPONLY": True,
        "LMS_COACHING_DAYS": env_int("LMS_COACHING_DAYS", 3),
        # Working days the direct manager has to decide a request before a reminder goes out and their own
        # manager may decide it too (the rules name no number; the handbook says "a working day").
        "LMS_DECISION_WORKING_DAYS": env_int("LMS_DECISION_WORKING_DAYS", 1),
        "LMS_COMPANY_NAME": env_str("LMS_COMPANY_NAME", "示例科技有限公司"),
        # Without a union (recorded once by HR), whom the union gate asks to be notified instead:
        # employee_representatives (职工代表) or regional_union (所在地区的地方工会); local practice differs.
        "LMS_UNION_ALTERNATIVE": env_str("LMS_UNION_ALTERNATIVE", "employee_representatives"),
        # Social insurance after employment ends: pay_final_month (the month it ends in is paid) or
        # stop_before_cutoff (the seed's practice: stop that month when the end is before the city's cut-off).
        "LMS_SI_POLICY": env_str("LMS_SI_POLICY", "pay_final_month"),
        # The "联系人事" page: HR's hotline and mailbox (the HR officers' own numbers are listed as well).
        "LMS_HR_PHONE": env_str("LMS_HR_PHONE"),
        "LMS_HR_EMAIL": env_str("LMS_HR_EMAIL"),
        # Notifications (lms.notify)
        "LMS_BASE_URL": env_str("LMS_BASE_URL", "http://127.0.0.1:5000"),
        "LMS_SMTP_HOST": env_str("LMS_SMTP_HOST"),
        "LMS_SMTP_PORT": env_int("LMS_SMTP_PORT", 25),
        "LMS_SMTP_USER": env_str("LMS_SMTP_USER"),
        "LMS_SMTP_PASSWORD": env_str("LMS_SMTP_PASSWORD"),
        "LMS_SMTP_STARTTLS": env_bool("LMS_SMTP_STARTTLS", False),
        "LMS_MAIL_FROM": env_str("LMS_MAIL_FROM", "LMS <no-reply@lms.invalid>"),
        "LMS_SMS_DRIVER": env_str("LMS_SMS_DRIVER", "outbox"),
        "LMS_SMS_HTTP_URL": env_str("LMS_SMS_HTTP_URL"),
        "LMS_SMS_HTTP_TOKEN": env_str("LMS_SMS_HTTP_TOKEN"),
        "LMS_SMS_RECEIPT_SECRET": env_str("LMS_SMS_RECEIPT_SECRET"),
        "LMS_NOTIFY_MAX_ATTEMPTS": env_int("LMS_NOTIFY_MAX_ATTEMPTS", 5),
        "MAX_CONTENT_LENGTH": env_int("LMS_MAX_UPLOAD_MB", 10) * 1024 * 1024,
        "BABEL_DEFAULT_LOCALE": env_str("LMS_LOCALE", "zh_CN"),
        "BABEL_DEFAULT_TIMEZONE": env_str("LMS_TIMEZONE", "Asia/Shanghai"),
        "SQLALCHEMY_TRACK_MODIFICATIONS": False,
        # flask-smorest: the OpenAPI document lives beside the API it describes.
        "API_TITLE": "LMS API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
    }


LOCALES = ("zh_CN", "en")
ROLES = ("employee", "manager", "hr", "admin")
