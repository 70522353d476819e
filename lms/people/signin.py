"""Failed sign-ins counted per account in the database, so the limit holds across processes and machines
whatever the rate limiter's storage (its memory:// default counts per gunicorn worker).

After DELAY_AFTER failures in a row, each further try waits DELAY after the last failure; after
LOCK_AFTER the account is locked for LOCK_FOR, HR is told (notify) and the evidence log records it.
A success clears the count. Refusals come before the password is checked: a guess made while
waiting is not even tried. A username no account has is counted the same way (SignInFailure, without
the HR notice and the evidence: there is no account to speak of), so delays and locks answer the same
for every name and do not tell which usernames exist.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, or_, update

from lms import clock, evidence, notify
from lms.bulk import insert_ignoring_conflicts
from lms.extensions import db
from lms.people.access import hr_employee_ids
from lms.people.models import SignInFailure, User

DELAY_AFTER = 5
DELAY = timedelta(seconds=30)
LOCK_AFTER = 10
LOCK_FOR = timedelta(minutes=15)
FORGET_UNKNOWN_AFTER = timedelta(days=1)  # a made-up name's count is kept this long after its last failure


class SignInRefused(Exception):
    """Too many failed sign-ins for this account: try again in `retry_after` seconds."""

    def __init__(self, retry_after: int, locked: bool):
        super().__init__(f"sign-in refused for {retry_after}s")
        self.retry_after = retry_after
        self.locked = locked

    def message(self) -> str:
        """Why the sign-in was not even tried, and when to try again (the page and the API say the same)."""
        if self.locked:
            return _("Too many failed sign-ins: this account is locked for %(minutes)s minute(s). HR has been "
                     "told.", minutes=max(1, -(-self.retry_after // 60)))
        return _("Too many failed sign-ins for this account: wait %(seconds)s seconds before trying again.",
                 seconds=self.retry_after)


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((clock.as_utc(moment) - now).total_seconds()))


def check_allowed(user: User | SignInFailure) -> None:
    """Raise SignInRefused while the account (or the unknown name) is locked, or waiting out the delay
    after repeated failures."""
    now = clock.now()
    if user.locked_until is not None and clock.as_utc(user.locked_until) > now:
        raise SignInRefused(_seconds_until(user.locked_until, now), locked=True)
    if user.failed_sign_ins >= DELAY_AFTER and user.last_failed_sign_in_at is not None:
        ready_at = clock.as_utc(user.last_failed_sign_in_at) + DELAY
        if ready_at > now:
            raise SignInRefused(_seconds_until(ready_at, now), locked=False)


def record_failure(user: User) -> None:
    """Count a wrong password (one atomic UPDATE, whichever process answers); lock at LOCK_AFTER."""
    now = clock.now()
    failures = db.session.execute(
        update(User).where(User.id == user.id)
        .values(failed_sign_ins=User.failed_sign_ins + 1, last_failed_sign_in_at=now)
        .returning(User.failed_sign_ins)).scalar_one()
    locked = failures >= LOCK_AFTER and db.session.execute(
        update(User).where(User.id == user.id, or_(User.locked_until.is_(None), User.locked_until <= now))
        .values(locked_until=now + LOCK_FOR, failed_sign_ins=0)).rowcount == 1
    if locked:
        evidence.record("people.account_locked", evidence.subject_of("user", user.id), {
            "username": user.username, "failures": failures, "locked_until": now + LOCK_FOR})
    db.session.commit()
    if locked:
        _tell_hr(user, now + LOCK_FOR)


def _name_hmac(username: str) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    return hmac.new(key, username.strip().casefold().encode(), hashlib.sha256).hexdigest()


def unknown_name(username: str) -> SignInFailure:
    """The count of a username no account has (a blank one if it has not failed lately)."""
    return db.session.get(SignInFailure, _name_hmac(username)) or SignInFailure(
        failed_sign_ins=0, last_failed_sign_in_at=None, locked_until=None)


def record_unknown_failure(username: str) -> None:
    """Count a failure for a name no account has, exactly as record_failure counts an account's."""
    now = clock.now()
    key = _name_hmac(username)
    table = SignInFailure.__table__
    db.session.execute(delete(SignInFailure).where(
        SignInFailure.last_failed_sign_in_at < now - FORGET_UNKNOWN_AFTER))  # bounded, whatever is typed
    insert_ignoring_conflicts(table, [{"name_hmac": key, "failed_sign_ins": 0, "last_failed_sign_in_at": now}],
                              [table.c.name_hmac], index_elements=["name_hmac"])
    failures = db.session.execute(
        update(SignInFailure).where(SignInFailure.name_hmac == key)
        .values(failed_sign_ins=SignInFailure.failed_sign_ins + 1, last_failed_sign_in_at=now)
        .returning(SignInFailure.failed_sign_ins).execution_options(synchronize_session=False)).scalar_one()
    if failures >= LOCK_AFTER:
        db.session.execute(update(SignInFailure).where(
            SignInFailure.name_hmac == key,
            or_(SignInFailure.locked_until.is_(None), SignInFailure.locked_until <= now))
            .values(locked_until=now + LOCK_FOR, failed_sign_ins=0).execution_options(synchronize_session=False))
    db.session.commit()


def record_success(user: User) -> None:
    """A right password clears the count (the caller commits)."""
    user.failed_sign_ins = 0
    user.last_failed_sign_in_at = None
    user.locked_until = None


def _tell_hr(user: User, until: datetime) -> None:
    name = user.employee.name if user.employee else user.username
    for hr_id in hr_employee_ids():
        notify.send(f"account-locked:{user.id}:{until.isoformat()}", hr_id, "account_locked",
                    {"name": name, "username": user.username, "failures": LOCK_AFTER,
                     "until": clock.local(until).strftime("%Y-%m-%d %H:%M")}, ["inapp"],
                    evidence_subject=evidence.subject_of("user", user.id))
