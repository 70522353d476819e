"""Departments, employees, user accounts and API tokens."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms import clock
from lms.extensions import db
from lms.sqltypes import UTCDateTime

EMPLOYMENT_STATUSES = ("onboarding", "active", "terminated")
JOB_FAMILIES = ("sales", "logistics", "production", "office", "rd", "service", "management", "other")


class Department(db.Model):
    """A department; `parent_id` makes the departments a tree (never a cycle: lms.people.departments checks)."""

    __table_args__ = (Index("ix_department_parent_id", "parent_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("department.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)

    employees: Mapped[list[Employee]] = relationship(back_populates="department")
    parent: Mapped[Department | None] = relationship(remote_side=[id])


class Employee(db.Model):
    __table_args__ = (
        CheckConstraint(
            "status IN ('onboarding', 'active', 'termination_pending', 'terminated')", name="status_known"
        ),
        Index("ix_employee_manager_id", "manager_id"),
        Index("ix_employee_department_id", "department_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_no: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    department_id: Mapped[int] = mapped_column(ForeignKey("department.id"))
    position: Mapped[str | None] = mapped_column(String(80))
    job_family: Mapped[str | None] = mapped_column(String(32))
    manager_id: Mapped[int | None] = mapped_column(ForeignKey("employee.id"))
    hire_date: Mapped[date]
    # termination_pending: HR confirmed a termination whose notice is not served yet (still employed).
    status: Mapped[str] = mapped_column(String(20), default="onboarding")
    terminated_on: Mapped[date | None]  # the last day of employment (a dismissal: the notice's service date)
    mobile: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(254))
    household_address: Mapped[str | None] = mapped_column(Text)
    contact_address: Mapped[str | None] = mapped_column(Text)
    work_city: Mapped[str | None] = mapped_column(String(40))
    social_insurance_base: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    monthly_wage: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # the contract's monthly wage (应发)
    # Years worked before joining; with the service here they give the annual-leave entitlement (5/10/15 days).
    prior_work_years: Mapped[Decimal | None] = mapped_column(Numeric(4, 1))
    # Fernet token of the national ID number; see lms.people.sensitive.
    national_id_encrypted: Mapped[str | None] = mapped_column(Text)
    # Keyed hash of the number, so duplicates are found without decrypting every row.
    national_id_digest: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now, onupdate=clock.now)

    department: Mapped[Department] = relationship(back_populates="employees")
    manager: Mapped[Employee | None] = relationship(remote_side=[id], back_populates="reports")
    reports: Mapped[list[Employee]] = relationship(back_populates="manager")
    user: Mapped[User | None] = relationship(back_populates="employee")


class User(UserMixin, db.Model):
    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint("role IN ('employee', 'manager', 'hr', 'admin')", name="role_known"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default="employee")
    employee_id: Mapped[int | None] = mapped_column(ForeignKey("employee.id"), unique=True)
    locale: Mapped[str | None] = mapped_column(String(8))
    is_enabled: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Failed sign-ins since the last success (lms.people.signin): counted here, not in a process's memory.
    failed_sign_ins: Mapped[int] = mapped_column(default=0, server_default="0")
    last_failed_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    employee: Mapped[Employee | None] = relationship(back_populates="user")

    @property
    def is_active(self) -> bool:  # Flask-Login: a disabled account cannot sign in
        return self.is_enabled

    @property
    def sees_everyone(self) -> bool:
        return self.role in ("hr", "admin")

    @property
    def may_unmask(self) -> bool:
        """Only HR needs full national ID numbers (SPEC §1); admins see them masked."""
        return self.role == "hr"


class SignInFailure(db.Model):
    """Failed sign-ins for a username no account has, counted like an account's (lms.people.signin): a
    made-up name is delayed and locked exactly as a real one, so the answers do not tell which usernames
    exist. Keyed by an HMAC of the name, never the name: people type their password into the wrong field."""

    name_hmac: Mapped[str] = mapped_column(String(64), primary_key=True)
    failed_sign_ins: Mapped[int] = mapped_column(default=0)
    last_failed_sign_in_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ApiToken(db.Model):
    """An integration's token (role hr or admin), or a person's own short-lived token (user_id set)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # SHA-256 of the token: a leaked database does not leak usable tokens.
    token_digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=clock.now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User | None] = relationship()


@dataclass(frozen=True)
class TokenHolder:
    """A valid token as the exam endpoints need it, without loading it: its id (an evidence actor,
    "api-token:<id>", like the ApiToken) and the ids of the person it acts for."""

    token_id: int
    user_id: int | None
    employee_id: int | None


SEPARATION_KINDS = ("dismissal", "resignation", "mutual", "expiry")


class Separation(db.Model):
    """How an employment ends: a dismissal (《劳动合同法》第三十九条, confirmed by HR on an absence case, effective
    when its notice is served) or a resignation, a mutual agreement, an expiry (effective on the date HR
    records). `effective_on` is set once known; the termination certificate and the 15-day transfers
    (第五十条) follow from it."""

    __table_args__ = (CheckConstraint("kind IN ('dismissal', 'resignation', 'mutual', 'expiry')", name="kind_known"),
                      Index("ix_separation_employee_id", "employee_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"))
    kind: Mapped[str] = mapped_column(String(12))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("absence_case.id"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))  # the termination notice
    certificate_id: Mapped[int | None] = mapped_column(ForeignKey("document.id"))  # 《解除劳动合同证明》
    not_before: Mapped[date | None]  # a later date the notice states (never an earlier one than service)
    effective_on: Mapped[date | None]
    note: Mapped[str | None] = mapped_column(Text)
    review_note: Mapped[str | None] = mapped_column(Text)  # HR's review of a reply naming a hospital, the police…
    confirmed_by: Mapped[str] = mapped_column(String(100))
    confirmed_at: Mapped[datetime] = mapped_column(UTCDateTime)

    employee: Mapped[Employee] = relationship()
