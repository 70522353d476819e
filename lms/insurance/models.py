"""City rules for social insurance, the stop filings (减员) and HR's claims for losses.

A city rule is never changed: a correction or a new year's rates is a new row from a date, so every
past computation can be repeated with the rule that was in force then.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from lms.extensions import db
from lms.people.models import Employee
from lms.sqltypes import UTCDateTime

# (type, has a personal share): 医疗 includes 生育 since the two were merged; 工伤 is the employer's alone.
INSURANCE_TYPES = (("pension", True), ("medical", True), ("unemployment", True), ("work_injury", False))
RATE_COLUMNS = tuple(f"{kind}_{share}" for kind, personal in INSURANCE_TYPES
                     for share in (("employer", "personal") if personal else ("employer",)))


class CityRule(db.Model):
    """One city's 增减员 cut-off and contribution rates (percent of the base) from `valid_from` on."""

    # No unique (city, valid_from): a correction of a row is a later row with the same date; the last one wins.
    __table_args__ = (CheckConstraint("cutoff_day BETWEEN 1 AND 31", name="cutoff_day_in_month"),
                      Index("ix_city_rule_city_valid_from", "city", "valid_from"))

    id: Mapped[int] = mapped_column(primary_key=True)
    city: Mapped[str] = mapped_column(String(40))  # normalised: 北京市 → 北京 (see cities.normalise)
    valid_from: Mapped[date]
    cutoff_day: Mapped[int]
    # True: a change filed on the cut-off day itself still counts for that month.
    cutoff_inclusive: Mapped[bool] = mapped_column(default=True)
    pension_employer: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    pension_personal: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    medical_employer: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    medical_personal: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    unemployment_employer: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    unemployment_personal: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    work_injury_employer: Mapped[Decimal | None] = mapped_column(Numeric(6, 3))
    base_floor: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    base_ceiling: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    minimum_wage: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))  # monthly, for deductions (第十六条)
    source: Mapped[str] = mapped_column(Text)
    verified: Mapped[bool] = mapped_column(default=False)  # False: shipped from the seed, HR has not confirmed it
    checked_on: Mapped[date | None]
    checked_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(100))

    @property
    def has_rates(self) -> bool:
        return all(getattr(self, column) is not None for column in RATE_COLUMNS)


class StopFiling(db.Model):
    """The 减员 (停缴) filing made for an employee whose employment ended: when, by whom, its receipt."""

    __table_args__ = (Index("ix_stop_filing_employee_id", "employee_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"))
    filed_on: Mapped[date]
    receipt_file_id: Mapped[int | None] = mapped_column(ForeignKey("stored_file.id"))
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)

    employee: Mapped[Employee] = relationship()


class LossClaim(db.Model):
    """A loss the employee caused that HR wants deducted from the final pay (《工资支付暂行规定》第十六条)."""

    __table_args__ = (CheckConstraint("amount > 0", name="amount_positive"),
                      Index("ix_loss_claim_employee_id", "employee_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    employee_id: Mapped[int] = mapped_column(ForeignKey("employee.id"))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    reason: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(100))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
