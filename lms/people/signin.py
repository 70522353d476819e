"""Failed sign-ins counted per account in the database, so the limit holds across processes and machines
whatever the rate limiter's storage (its memory:// default counts per gunicorn worker).

After DELAY_AFTER failures in a row, each further try waits DELAY after the last failure; after
LOCK_AFTER the account is locked for LOCK_FOR, HR is told (notify) and the evidence log records it.
A success clears the count. Refusals come before the password is checked: a guess made while
waiting is not even tried.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import or_, update

from lms import clock, evidence, notify
from lms.extensions import db
from lms.people.access import hr_employee_ids
from lms.people.models import User

DELAY_AFTER = 5
DELAY = timedelta(seconds=30)
LOCK_AFTER = 10
LOCK_FOR = timedelta(minutes=15)


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


def check_allowed(user: User) -> None:
    """Raise SignInRefused while the account is locked, or waiting out the delay after repeated failures."""
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
