"""Bearer-token authentication for integrations."""

from __future__ import annotations

from functools import wraps

from flask import g, request
from flask_babel import gettext as _

from lms.people import services
from lms.ui import api_error


def _plain_token() -> str | None:
    scheme, _sep, plain = request.headers.get("Authorization", "").partition(" ")
    return plain.strip() if scheme.lower() == "bearer" and plain else None


def _bearer():
    plain = _plain_token()
    return services.authenticate_token(plain) if plain else None


def _unauthorised():
    response, status = api_error(401, _("A valid bearer token is required."), field="Authorization")
    response.headers["WWW-Authenticate"] = 'Bearer realm="lms"'
    return response, status


def _person_refusal(found: bool, employee_id: int | None):
    """401 without a valid token, 403 unless it is the personal token of someone with an employee record."""
    if not found:
        return _unauthorised()
    if employee_id is None:
        return api_error(403, _("This endpoint needs a personal token of an employee."))
    return None


def person_required(view):
    """Require a personal token (from POST /api/v1/auth/token) of someone with an employee record."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        token = _bearer()
        user = token.user if token is not None else None
        refused = _person_refusal(token is not None, user.employee_id if user is not None else None)
        if refused:
            return refused
        g.api_token, g.api_user = token, token.user
        return view(*args, **kwargs)

    return wrapped


def _with_holder(view, read):
    @wraps(view)
    def wrapped(*args, **kwargs):
        plain = _plain_token()
        holder, row = read(plain, **kwargs) if plain else (None, None)
        refused = _person_refusal(holder is not None, holder.employee_id if holder is not None else None)
        if refused:
            return refused
        g.api_holder, g.api_row = holder, row
        return view(*args, **kwargs)

    return wrapped


def employee_token_required(view):
    """person_required, setting g.api_holder (the token's and the person's ids, people.models.TokenHolder)
    rather than the token and user objects: for the exam endpoints an app calls dozens of times a sitting."""
    return _with_holder(view, lambda plain, **_view_args: (services.token_holder(plain), None))


def employee_token_reading(read):
    """employee_token_required for an endpoint that reads its own row in the same query as the token (the
    busiest one, saving answers): `read(plain_token, **view_args)` answers (holder or None, row or None),
    and the view finds the row in g.api_row."""
    return lambda view: _with_holder(view, read)


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
