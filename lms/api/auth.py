"""Bearer-token authentication for integrations."""

from __future__ import annotations

from functools import wraps

from flask import g, request
from flask_babel import gettext as _

from lms.people import services
from lms.ui import api_error


def _bearer():
    scheme, _sep, plain = request.headers.get("Authorization", "").partition(" ")
    return services.authenticate_token(plain.strip()) if scheme.lower() == "bearer" and plain else None


def _unauthorised():
    response, status = api_error(401, _("A valid bearer token is required."), field="Authorization")
    response.headers["WWW-Authenticate"] = 'Bearer realm="lms"'
    return response, status


def person_required(view):
    """Require a personal token (from POST /api/v1/auth/token) of someone with an employee record."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        token = _bearer()
        if token is None:
            return _unauthorised()
        if token.user is None or token.user.employee_id is None:
            return api_error(403, _("This endpoint needs a personal token of an employee."))
        g.api_token, g.api_user = token, token.user
        return view(*args, **kwargs)

    return wrapped


def token_required(*roles: str):
    """Require `Authorization: Bearer <token>` for a token whose role is one of `roles`."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            token = _bearer()
            if token is None:
                return _unauthorised()
            if token.role not in roles:
                return api_error(403, _("This token's role may not use this endpoint."))
            g.api_token = token
            return view(*args, **kwargs)

        wrapped.allowed_roles = roles
        return wrapped

    return decorator
