"""Every change to people, accounts and tokens goes through here."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from lms import clock, evidence
from lms.commits import commit_without_waiting_for_disk
from lms.extensions import db
from lms.people import departments, sensitive, signin
from lms.people.models import ApiToken, Department, Employee, TokenHolder, User
from lms.people.records import MESSAGES, FieldError, InvalidEmployeeData, parse_employee


def _hasher() -> PasswordHasher:
    """argon2id with the library's defaults; tests may lower the cost (LMS_ARGON2_*)."""
    config = current_app.config
    return PasswordHasher(
        time_cost=config.get("LMS_ARGON2_TIME_COST", 3),
        memory_cost=config.get("LMS_ARGON2_MEMORY_KIB", 65536),
        parallelism=config.get("LMS_ARGON2_PARALLELISM", 4),
    )


@dataclass(frozen=True)
class ImportReport:
    created: int
    updated: int


# ---------------------------------------------------------------- employees


def _validate_batch(
    records: Sequence[tuple[int, dict]], *, allow_existing: bool, today: date
) -> list[tuple[int, dict]]:
    """Parse and cross-check every record; raise InvalidEmployeeData listing every problem."""
    errors: list[FieldError] = []
    parsed: list[tuple[int, dict]] = []
    first_row_of: dict[str, int] = {}
    first_row_of_id: dict[str, int] = {}
    for row, raw in records:
        values, field_errors = parse_employee(raw, today)
        errors.extend(FieldError(row, field, message) for field, message in field_errors.items())
        number = values.get("employee_no")
        if number:
            if number in first_row_of:
                errors.append(FieldError(row, "employee_no", MESSAGES["duplicate_no"]
                                         % {"no": number, "row": first_row_of[number]}))
            else:
                first_row_of[number] = row
        national_id = values.get("national_id")
        if national_id:
            values["national_id_digest"] = sensitive.digest(national_id)
            if national_id in first_row_of_id:
                errors.append(FieldError(row, "national_id", MESSAGES["duplicate_national_id_file"]
                                         % {"row": first_row_of_id[national_id]}))
            else:
                first_row_of_id[national_id] = row
        parsed.append((row, values))

    # One query for the whole organisation: number → (manager number, national ID digest).
    known = {
        number: (manager_no, digest)
        for number, manager_no, digest in db.session.execute(
            select(Employee.employee_no, _manager_no_column(), Employee.national_id_digest)
        )
    }
    owner_of_digest = {digest: number for number, (_, digest) in known.items() if digest}
    managers = {number: manager_no for number, (manager_no, _) in known.items()}
    for row, values in parsed:
        number = values.get("employee_no")
        if number and number in known and not allow_existing:
            errors.append(FieldError(row, "employee_no", MESSAGES["exists"] % {"no": number},
                                     code="exists"))
        digest = values.get("national_id_digest")
        owner = owner_of_digest.get(digest) if digest else None
        if owner and owner != number:
            errors.append(FieldError(row, "national_id", MESSAGES["duplicate_national_id_db"] % {"no": owner}))
        if number and values.get("manager_no"):
            managers[number] = values["manager_no"]
        elif number:
            managers.setdefault(number, None)

    errors.extend(_department_parent_errors(parsed))
    for row, values in parsed:
        number, manager_no = values.get("employee_no"), values.get("manager_no")
        if not number or not manager_no:
            continue
        if manager_no == number:
            errors.append(FieldError(row, "manager_no", MESSAGES["self_manager"]))
        elif manager_no not in managers:
            errors.append(FieldError(row, "manager_no", MESSAGES["unknown_manager"] % {"no": manager_no}))
        else:
            chain = departments.cycle_through(number, managers)  # the same walk, over managers
            if chain:
                errors.append(FieldError(row, "manager_no", MESSAGES["manager_cycle"]
                                         % {"chain": " → ".join(chain)}))
    if errors:
        raise InvalidEmployeeData(sorted(errors, key=lambda e: (e.row, e.field)))
    return parsed


def _department_parent_errors(parsed: list[tuple[int, dict]]) -> list[FieldError]:
    """A department given two parents in one file, or a parent that closes a cycle of departments."""
    errors: list[FieldError] = []
    wanted: dict[str, str] = {}
    first_row: dict[str, int] = {}
    for row, values in parsed:
        department, parent = values.get("department"), values.get("parent_department")
        if not department or not parent:
            continue
        if department in wanted and wanted[department] != parent:
            errors.append(FieldError(row, "parent_department", departments.MESSAGES["two_parents"] % {
                "name": department, "other": wanted[department], "row": first_row[department]}))
            continue
        wanted.setdefault(department, parent)
        first_row.setdefault(department, row)
    problems = departments.check_parents(wanted)
    errors.extend(FieldError(row, "parent_department", problems[values["department"]]) for row, values in parsed
                  if values.get("parent_department") and values.get("department") in problems)
    return errors


def _manager_no_column():
    manager = db.aliased(Employee)
    return (
        select(manager.employee_no).where(manager.id == Employee.manager_id).scalar_subquery()
    )


def _department_named(name: str, known: dict[str, Department]) -> Department:
    if name not in known:
        known[name] = Department(name=name)
        db.session.add(known[name])
    return known[name]


def _apply(employee: Employee, values: dict, known: dict[str, Department]) -> None:
    # A blank cell leaves the stored value as it is, so a partial roster never erases data.
    for field, value in values.items():
        if value is None or field in ("employee_no", "manager_no", "national_id_digest", "parent_department"):
            continue
        if field == "department":
            employee.department = _department_named(value, known)
        elif field == "national_id":
            employee.national_id_encrypted = sensitive.encrypt(value)
            employee.national_id_digest = values["national_id_digest"]
        else:
            setattr(employee, field, value)


def save_employees(records: Sequence[tuple[int, dict]], *, allow_existing: bool = True, actor=None,
                   source: str = "import") -> ImportReport:
    """Validate all records, then create or update them in one transaction (or not at all).

    Each created or updated employee gets an evidence event naming the fields it received
    (not their values: national ID numbers never enter the log) and where they came from.
    """
    parsed = _validate_batch(records, allow_existing=allow_existing, today=clock.today())
    try:
        known_departments = {d.name: d for d in db.session.scalars(select(Department))}
        numbers = [values["employee_no"] for _, values in parsed]
        existing = {
            e.employee_no: e for e in db.session.scalars(select(Employee).where(Employee.employee_no.in_(numbers)))
        }
        changes = []
        for _, values in parsed:
            employee = existing.get(values["employee_no"])
            if employee is None:
                employee = Employee(employee_no=values["employee_no"], status="onboarding")
                db.session.add(employee)
                existing[employee.employee_no] = employee
                changes.append(("people.employee_created", employee, values))
            else:
                changes.append(("people.employee_updated", employee, values))
            _apply(employee, values, known_departments)
            if values.get("parent_department"):  # checked above: no cycle, one parent per department
                employee.department.parent = _department_named(values["parent_department"], known_departments)
        db.session.flush()
        wanted = {v["manager_no"] for _, v in parsed if v.get("manager_no")} - existing.keys()
        if wanted:
            existing.update(
                (e.employee_no, e)
                for e in db.session.scalars(select(Employee).where(Employee.employee_no.in_(wanted)))
            )
        for _, values in parsed:
            if values.get("manager_no"):
                existing[values["employee_no"]].manager = existing[values["manager_no"]]
        evidence.record_many(
            ((kind, evidence.subject_of("employee", employee.id),
              {"employee_no": employee.employee_no, "source": source,
               "fields": sorted(f for f, v in values.items() if v is not None and f != "national_id_digest")})
             for kind, employee, values in changes),
            actor=actor)
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    created = sum(1 for kind, _, _ in changes if kind == "people.employee_created")
    if created:
        from lms.courses.services import enrol_new_hires  # courses builds on people, not the reverse

        enrol_new_hires()
    return ImportReport(created=created, updated=len(changes) - created)


def create_employee(values: dict, actor=None, source: str = "api") -> Employee:
    """Create one employee from API or form input; an existing number is an error."""
    save_employees([(1, values)], allow_existing=False, actor=actor, source=source)
    return db.session.scalars(select(Employee).where(Employee.employee_no == values["employee_no"])).one()


NATIONAL_ID_VIEWED = "people.national_id_viewed"


def reveal_national_id(viewer: User, employee: Employee, ip: str | None, user_agent: str | None) -> str | None:
    """The full national ID for a viewer allowed to see it; every reveal is an evidence event."""
    if not viewer.may_unmask:
        raise PermissionError("only HR may see full national ID numbers")
    if not employee.national_id_encrypted:
        return None
    number = sensitive.decrypt(employee.national_id_encrypted)
    evidence.record(NATIONAL_ID_VIEWED, evidence.subject_of("employee", employee.id),
                    {"field": "national_id", "employee_no": employee.employee_no, "ip": ip,
                     "user_agent": (user_agent or "")[:200]}, actor=viewer)
    db.session.commit()
    return number


def masked_national_id(employee: Employee) -> str | None:
    if not employee.national_id_encrypted:
        return None
    return sensitive.mask(sensitive.decrypt(employee.national_id_encrypted))


def activate(employee_id: int, reason: str, actor=None, commit: bool = True) -> bool:
    """The onboarding gate: a new hire becomes active (once). Returns whether the status changed."""
    employee = db.session.get(Employee, employee_id)
    if employee is None or employee.status != "onboarding":
        return False
    employee.status = "active"
    evidence.record("people.activated", evidence.subject_of("employee", employee_id),
                    {"employee_no": employee.employee_no, "from": "onboarding", "to": "active", "reason": reason},
                    actor=actor)
    if commit:
        db.session.commit()
    return True


# ---------------------------------------------------------------- accounts


def create_user(username: str, password: str, role: str, employee_id: int | None = None) -> User:
    """A new account with an argon2 password hash."""
    user = User(username=username.strip(), password_hash=_hasher().hash(password), role=role,
                employee_id=employee_id)
    db.session.add(user)
    db.session.commit()
    return user


def set_password(user: User, password: str) -> None:
    user.password_hash = _hasher().hash(password)
    db.session.commit()


def authenticate(username: str, password: str) -> User | None:
    """The enabled account matching the credentials, or None (same cost either way). Raises
    signin.SignInRefused while the account waits out failed sign-ins (counted in the database)."""
    hasher = _hasher()
    user = db.session.scalars(select(User).where(User.username == username.strip())).first()
    # An unknown username is delayed, locked and verified like a known one: neither the answers nor
    # their timing reveal which accounts exist.
    signin.check_allowed(user if user is not None else signin.unknown_name(username))
    stored = user.password_hash if user else hasher.hash("not-a-real-password")
    try:
        hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        if user is not None:
            signin.record_failure(user)
        else:
            signin.record_unknown_failure(username)
        return None
    if user is None or not user.is_enabled:
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher().hash(password)
    signin.record_success(user)
    user.last_login_at = clock.now()
    db.session.commit()
    return user


def set_locale(user: User, locale: str) -> None:
    user.locale = locale
    db.session.commit()


# ---------------------------------------------------------------- API tokens

API_TOKEN_ROLES = ("hr", "admin")


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_api_token(name: str, role: str) -> tuple[ApiToken, str]:
    """A new bearer token; the plain token is returned once and never stored."""
    if role not in API_TOKEN_ROLES:
        raise ValueError(f"API tokens take role {' or '.join(API_TOKEN_ROLES)}, not {role!r}")
    plain = "lms_" + secrets.token_urlsafe(32)
    token = ApiToken(name=name, role=role, token_digest=token_digest(plain))
    db.session.add(token)
    db.session.commit()
    return token, plain


PERSONAL_TOKEN_HOURS = 12


def issue_personal_token(user: User) -> tuple[ApiToken, str]:
    """A token that acts as this person (their role, their records) for 12 hours: for apps."""
    plain = "lmsp_" + secrets.token_urlsafe(32)
    token = ApiToken(name=f"personal:{user.username}", role=user.role, user_id=user.id,
                     token_digest=token_digest(plain), expires_at=clock.now() + timedelta(hours=PERSONAL_TOKEN_HOURS))
    db.session.add(token)
    db.session.commit()
    return token, plain


# Built once: on the busiest API requests, building the statement cost more than running it.
_TOKEN_BY_DIGEST = (select(ApiToken).options(joinedload(ApiToken.user))
                    .where(ApiToken.token_digest == bindparam("digest")))
_tokens, _users = ApiToken.__table__, User.__table__
# The same check without the ORM, for the exam endpoints an app calls dozens of times a sitting:
# loading the token and its user as objects cost more than the query.
# What token_holder reads, for a query of its own or one that also reads the endpoint's row (holder_of):
# the columns, from the tokens with their users, where the digest is the bound "digest".
HOLDER_COLUMNS = (_tokens.c.id, _tokens.c.user_id, _tokens.c.expires_at, _tokens.c.last_used_at, _tokens.c.revoked_at,
                  _users.c.is_enabled, _users.c.employee_id)
TOKENS_WITH_USERS = _tokens.outerjoin(_users, _users.c.id == _tokens.c.user_id)
HOLDER_WHERE = _tokens.c.token_digest == bindparam("digest")
_HOLDER_BY_DIGEST = select(*HOLDER_COLUMNS).select_from(TOKENS_WITH_USERS).where(HOLDER_WHERE)
_NOTE_USE = update(_tokens).where(_tokens.c.id == bindparam("token_id")).values(last_used_at=bindparam("now"))


def _usable(token, user_enabled: bool | None, now) -> bool:
    """The one rule: not revoked, not expired, and a personal token's account still enabled."""
    if token.revoked_at is not None or (token.expires_at is not None and token.expires_at <= now):
        return False
    return token.user_id is None or bool(user_enabled)


def _note_use(token_id: int, last_used_at, now) -> None:
    # A write per request would double the database work of busy clients; a minute is precise enough,
    # and so is a commit that does not wait for the disk (a power cut loses a "last used" time at most).
    if last_used_at is None or now - last_used_at > timedelta(minutes=1):
        with commit_without_waiting_for_disk():
            db.session.execute(_NOTE_USE, {"token_id": token_id, "now": now})


def authenticate_token(plain: str) -> ApiToken | None:
    """The valid token (with its user loaded) for a plain bearer token, or None; notes its use."""
    token = db.session.scalars(_TOKEN_BY_DIGEST, {"digest": token_digest(plain)}).first()
    now = clock.now()
    if token is None or not _usable(token, token.user is not None and token.user.is_enabled, now):
        return None
    _note_use(token.id, token.last_used_at, now)
    return token


def token_holder(plain: str) -> TokenHolder | None:
    """authenticate_token's check and bookkeeping, answering with ids only (no ORM objects)."""
    return holder_of(db.session.execute(_HOLDER_BY_DIGEST, {"digest": token_digest(plain)}).first())


def holder_of(row) -> TokenHolder | None:
    """token_holder's check and bookkeeping for a row read with HOLDER_COLUMNS (None: no such token)."""
    now = clock.now()
    if row is None or not _usable(row, row.is_enabled, now):
        return None
    _note_use(row.id, row.last_used_at, now)
    return TokenHolder(row.id, row.user_id, row.employee_id)


def revoke_api_token(token_id: int) -> None:
    token = db.session.get(ApiToken, token_id)
    if token and token.revoked_at is None:
        token.revoked_at = clock.now()
        db.session.commit()
