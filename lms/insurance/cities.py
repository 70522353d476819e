"""The city rules HR maintains: which row is in force on a day, saving a new row, naming a city.

A city is named as HR writes it in the employee's `work_city`; "北京" and "北京市" are one city. An
employee whose city has no rule blocks every computation with a message naming the city: the
product never guesses a cut-off or a rate.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from decimal import Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from lms import clock, evidence
from lms.extensions import db
from lms.insurance.models import INSURANCE_TYPES, RATE_COLUMNS, CityRule
from lms.people.models import Employee


class InsuranceError(ValueError):
    """A computation or an entry that cannot be made; the message says why. `field` names the input at fault."""

    def __init__(self, message, field: str | None = None):
        super().__init__(str(message))
        self.field = field


class NoCityRule(InsuranceError):
    """The employee's work city has no rule in force (or no work city at all)."""


def normalise(city: str | None) -> str:
    """The one spelling of a city: blanks trimmed, a trailing 市 dropped (北京市 → 北京)."""
    name = "".join((city or "").split())
    return name[:-1] if name.endswith("市") and len(name) > 1 else name


def in_force(city: str | None, on: date) -> CityRule:
    """The rule for `city` on `on`: the latest row from on or before that day (a later correction of the same
    date wins). NoCityRule names the city otherwise."""
    rule = rules_in_force([city], on).get(normalise(city))
    if rule is None:
        raise NoCityRule(_missing(city))
    return rule


def rules_in_force(cities: Iterable[str | None], on: date) -> dict[str, CityRule]:
    """Normalised city → the rule in force on `on`, for many cities in one query."""
    names = {normalise(city) for city in cities} - {""}
    if not names:
        return {}
    rows = db.session.scalars(select(CityRule).where(CityRule.city.in_(names), CityRule.valid_from <= on)
                              .order_by(CityRule.valid_from, CityRule.id)).all()
    return {row.city: row for row in rows}  # the last row per city is the one in force


def history(city: str) -> list[CityRule]:
    return db.session.scalars(select(CityRule).where(CityRule.city == normalise(city))
                              .order_by(CityRule.valid_from.desc(), CityRule.id.desc())).all()


def current_rules(on: date | None = None) -> list[CityRule]:
    """Every city's rule in force today (or on `on`), by city."""
    cities = db.session.scalars(select(CityRule.city).distinct()).all()
    return sorted(rules_in_force(cities, on or clock.today()).values(), key=lambda rule: rule.city)


def cities_without_rules() -> list[tuple[str, int]]:
    """Work cities of people still employed that have no rule at all, with how many people each."""
    known = set(db.session.scalars(select(CityRule.city).distinct()))
    counts: dict[str, int] = {}
    for city, people in db.session.execute(select(Employee.work_city, func.count()).where(
            Employee.status != "terminated").group_by(Employee.work_city)):
        name = normalise(city)
        if name and name not in known:
            counts[name] = counts.get(name, 0) + people
    return sorted(counts.items())


def _missing(city: str | None):
    if not normalise(city):
        return _l("The employee has no work city: enter it before social insurance can be computed.")
    return _l("No social-insurance rule for the city “%(city)s”: HR must enter its cut-off day and rates "
              "(Social insurance → City rules) before anything is computed for it.", city=normalise(city))


def warnings_of(rule: CityRule) -> list[str]:
    if rule.verified:
        return []
    return [str(_l("%(city)s's cut-off day (the %(day)s) is from the seed article and unverified: HR should confirm "
                   "it with the social-insurance office and save the rule.", city=rule.city, day=rule.cutoff_day))]


def rates_of(rule: CityRule, city: str | None = None) -> CityRule:
    """The rule, once it has every rate; a clear refusal naming the city otherwise."""
    if not rule.has_rates:
        raise NoCityRule(_l("The social-insurance rule for “%(city)s” has no contribution rates yet: HR must enter "
                            "them before costs are computed.", city=rule.city))
    return rule


# ---------------------------------------------------------------- saving a rule


def _decimal(value, field: str, low: Decimal, high: Decimal, places: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite() or not low <= number <= high:
        raise InsuranceError(_l("%(field)s: a number from %(low)s to %(high)s.", field=field, low=low, high=high),
                             field)
    return number.quantize(Decimal(places))


def save_rule(city: str, values: dict, actor) -> CityRule:
    """A new row for `city` from `valid_from` (default today), entered and checked by HR: verified. `values`:
    cutoff_day, cutoff_inclusive, rates {type: {employer, personal}}, base_floor, base_ceiling, minimum_wage,
    source, checked_on, valid_from. Errors name the field; nothing is written on an error."""
    name = normalise(city)
    if not name or len(name) > 40:
        raise InsuranceError(_l("The city is a name of 1–40 characters."), "city")
    try:
        cutoff = int(values.get("cutoff_day"))
    except (TypeError, ValueError):
        cutoff = 0
    if not 1 <= cutoff <= 31:
        raise InsuranceError(_l("The cut-off day is a day of the month, 1–31."), "cutoff_day")
    source = (values.get("source") or "").strip()
    if not source:
        raise InsuranceError(_l("Name the source of the rule (the office's notice, its web page)."), "source")
    if len(source) > 1000:
        raise InsuranceError(_l("The source is longer than %(n)s characters.", n=1000), "source")
    checked_on = values.get("checked_on") or clock.today()
    if checked_on > clock.today():
        raise InsuranceError(_l("The day the rule was checked is in the future."), "checked_on")
    valid_from = values.get("valid_from") or clock.today()
    if not date(2000, 1, 1) <= valid_from <= date(2100, 12, 31):
        raise InsuranceError(_l("The rule's start date is outside 2000–2100."), "valid_from")
    rates = values.get("rates") or {}
    row = {}
    for kind, has_personal in INSURANCE_TYPES:
        given = rates.get(kind) or {}
        for share in ("employer", "personal") if has_personal else ("employer",):
            column = f"{kind}_{share}"
            row[column] = _decimal(given.get(share), column, Decimal(0), Decimal(100), "0.001")
    for column in ("base_floor", "base_ceiling", "minimum_wage"):
        row[column] = _decimal(values.get(column), column, Decimal(0), Decimal("9999999"), "0.01")
    if row["base_floor"] is not None and row["base_ceiling"] is not None and row["base_floor"] > row["base_ceiling"]:
        raise InsuranceError(_l("The base floor is above the ceiling."), "base_floor")
    rule = CityRule(city=name, valid_from=valid_from, cutoff_day=cutoff,
                    cutoff_inclusive=bool(values.get("cutoff_inclusive", True)), source=source, verified=True,
                    checked_on=checked_on, checked_by=evidence.actor_of(actor), created_at=clock.now(),
                    created_by=evidence.actor_of(actor), **row)
    db.session.add(rule)
    db.session.flush()
    evidence.record("insurance.city_rule_saved", evidence.subject_of("city_rule", rule.id), {
        "city": name, "valid_from": valid_from, "cutoff_day": cutoff, "cutoff_inclusive": rule.cutoff_inclusive,
        **{column: row[column] for column in (*RATE_COLUMNS, "base_floor", "base_ceiling", "minimum_wage")},
        "source": source, "checked_on": checked_on}, actor=actor)
    from lms.insurance import stop  # the filing to-dos waiting for this city get their due date now

    stop.date_waiting_filings(name)
    db.session.commit()
    return rule


def rule_out(rule: CityRule) -> dict:
    """A rule as the API and the page show it."""
    rates = {kind: {share: _rate_text(getattr(rule, f"{kind}_{share}"))
                    for share in (("employer", "personal") if personal else ("employer",))}
             for kind, personal in INSURANCE_TYPES}
    return {"city": rule.city, "valid_from": rule.valid_from.isoformat(), "cutoff_day": rule.cutoff_day,
            "cutoff_inclusive": rule.cutoff_inclusive, "rates": rates, "base_floor": _money_text(rule.base_floor),
            "base_ceiling": _money_text(rule.base_ceiling), "minimum_wage": _money_text(rule.minimum_wage),
            "source": rule.source, "verified": rule.verified,
            "checked_on": rule.checked_on.isoformat() if rule.checked_on else None, "checked_by": rule.checked_by,
            "warnings": warnings_of(rule)}


def _rate_text(value: Decimal | None) -> str | None:
    """16.000 → "16", 0.400 → "0.4": a percentage as HR wrote it."""
    return None if value is None else format(value.normalize(), "f")


def _money_text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)
