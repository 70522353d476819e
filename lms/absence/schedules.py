"""Working hours: shift groups, who works in which, when a given day's shift starts, and which
shift day a punch belongs to.

Everyone without an assignment works the default group; with no group marked default that is
the standard 09:00–18:00. Times are company-local (LMS_TIMEZONE) and a shift ends on the day
it starts. Which days are working days is each group's pattern (`PATTERNS`; see `workdays`).

The shift day of a punch (`shift_day`): a punch belongs to the day whose shift it is nearest,
measured from the middle of the shift, and never to a later date than its own. For 09:00–18:00
the middle is 13:30, so the cut-off is 01:30: a clock-out at 00:30 ends the previous day's
shift and proves nothing about the new day; a punch at 01:30 or later is the new day's. The
cut-off is the midpoint between one day's shift end and the next day's start, from the
group's own hours: no separate setting to keep in step with them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, select, update

from lms import clock, evidence
from lms.absence.models import ShiftAssignment, ShiftGroup
from lms.bulk import among
from lms.extensions import db
from lms.people.models import Employee

STANDARD_HOURS = (time(9, 0), time(18, 0))
PATTERNS = ("calendar", "weekly", "roster")
PATTERN_LABELS = {"calendar": _l("national working-day calendar"), "weekly": _l("fixed weekdays"),
                  "roster": _l("roster, entered per month")}
WEEKDAY_LABELS = {"1": _l("Mon"), "2": _l("Tue"), "3": _l("Wed"), "4": _l("Thu"), "5": _l("Fri"), "6": _l("Sat"),
                  "7": _l("Sun")}


@dataclass(frozen=True)
class Shift:
    """The hours of one group (id None: the built-in standard day)."""

    group_id: int | None
    name: str
    starts_at: time
    ends_at: time
    pattern: str = "calendar"
    weekdays: str = "12345"  # ISO weekday digits, for the weekly pattern
    observes_holidays: bool = True  # weekly: a national holiday is a rest day

    def start_on(self, day: date) -> datetime:
        """The UTC instant this shift starts on `day`."""
        return clock.as_utc(datetime.combine(day, self.starts_at))

    @property
    def day_cutoff(self) -> timedelta:
        """How long after midnight a punch still belongs to the previous day's shift (module docstring)."""
        start = timedelta(hours=self.starts_at.hour, minutes=self.starts_at.minute, seconds=self.starts_at.second)
        end = timedelta(hours=self.ends_at.hour, minutes=self.ends_at.minute, seconds=self.ends_at.second)
        if end <= start:  # a night shift ending the next morning
            end += timedelta(days=1)
        return max((start + end) / 2 - timedelta(hours=12), timedelta(0))

    def shift_day(self, instant: datetime) -> date:
        """The shift day a punch at `instant` belongs to (module docstring)."""
        return (clock.local(instant).replace(tzinfo=None) - self.day_cutoff).date()


class ScheduleError(ValueError):
    """A shift group or assignment that cannot be saved; the message names what is wrong."""


def default_shift() -> Shift:
    """The shift of everyone without an assignment: the default group's, else the standard day."""
    group = db.session.scalar(select(ShiftGroup).where(ShiftGroup.is_default.is_(True)))
    if group is None:
        return Shift(None, str(_l("Standard shift")), *STANDARD_HOURS)
    return _shift(group)


def _shift(group: ShiftGroup) -> Shift:
    return Shift(group.id, group.name, group.starts_at, group.ends_at, group.pattern, group.weekdays,
                 group.observes_holidays)


def shifts_by_group() -> dict[int | None, Shift]:
    """Every group's shift by id, with the default under None: one query."""
    groups = db.session.scalars(select(ShiftGroup)).all()
    result: dict[int | None, Shift] = {group.id: _shift(group) for group in groups}
    default = next((g for g in groups if g.is_default), None)
    result[None] = _shift(default) if default else Shift(None, str(_l("Standard shift")), *STANDARD_HOURS)
    return result


def groups_with_counts() -> tuple[list[tuple[ShiftGroup, int]], int]:
    """Every group by name with how many employees are assigned to it, and how many are on the default.

    Employees who have left (status terminated) are not counted.
    """
    rows = db.session.execute(
        select(ShiftGroup, func.count(Employee.id))
        .outerjoin(ShiftAssignment, ShiftAssignment.shift_group_id == ShiftGroup.id)
        .outerjoin(Employee, (Employee.id == ShiftAssignment.employee_id) & (Employee.status != "terminated"))
        .group_by(ShiftGroup.id).order_by(ShiftGroup.name)).all()
    default_group = next((group.id for group, _ in rows if group.is_default), None)
    unassigned = db.session.scalar(select(func.count(Employee.id)).outerjoin(
        ShiftAssignment, ShiftAssignment.employee_id == Employee.id).where(
        ShiftAssignment.employee_id.is_(None), Employee.status != "terminated"))
    if default_group is None:
        return [(group, count) for group, count in rows], unassigned
    return [(group, count + unassigned if group.id == default_group else count) for group, count in rows], unassigned


def shift_for(employee_id: int) -> Shift:
    """The shift an employee works."""
    group = db.session.scalar(select(ShiftGroup).join(ShiftAssignment).where(
        ShiftAssignment.employee_id == employee_id))
    return _shift(group) if group else default_shift()


def assigned_groups(employee_ids: Iterable[int]) -> dict[int, int]:
    """{employee id: shift group id} of those with an assignment (the others work the default)."""
    assigned: dict[int, int] = {}
    for condition in among(ShiftAssignment.employee_id, sorted(set(employee_ids))):
        assigned.update(db.session.execute(select(ShiftAssignment.employee_id, ShiftAssignment.shift_group_id)
                                           .where(condition)).all())
    return assigned


def shifts_for(employee_ids: Iterable[int], shifts: dict[int | None, Shift] | None = None) -> dict[int, Shift]:
    """The shift of each employee, in a query per thousand employees."""
    shifts = shifts if shifts is not None else shifts_by_group()
    ids = list(employee_ids)
    assigned = assigned_groups(ids)
    return {e: shifts.get(assigned.get(e), shifts[None]) for e in ids}


def normal_weekdays(weekdays: Iterable[str | int]) -> str:
    """ISO weekday digits, sorted and once each ("6", 1, "3" → "136"); raises ScheduleError."""
    digits = {str(d).strip() for d in weekdays}
    if not digits or not digits <= set(WEEKDAY_LABELS):
        raise ScheduleError(_l("Choose the weekdays worked (Monday to Sunday)."))
    return "".join(sorted(digits))


def save_shift_group(name: str, starts_at: time, ends_at: time, *, is_default: bool = False, actor=None,
                     group_id: int | None = None, pattern: str = "calendar", weekdays: Iterable[str | int] = "12345",
                     observes_holidays: bool = True) -> ShiftGroup:
    """Create a shift group (or change one); marking it default unmarks the previous default.

    `pattern` says which days are working days: `calendar` (the national working-day calendar),
    `weekly` (`weekdays`, ISO digits; national holidays off if `observes_holidays`) or `roster`.
    """
    name = name.strip()
    if not name:
        raise ScheduleError(_l("Give the shift group a name."))
    if ends_at <= starts_at:
        raise ScheduleError(_l("The shift must end after it starts, on the same day."))
    if pattern not in PATTERNS:
        raise ScheduleError(_l("Unknown working-day pattern."))
    weekdays = normal_weekdays(weekdays) if pattern == "weekly" else "12345"
    clash = db.session.scalar(select(ShiftGroup).where(ShiftGroup.name == name, ShiftGroup.id != (group_id or 0)))
    if clash is not None:
        raise ScheduleError(_l("A shift group named “%(name)s” exists already.", name=name))
    group = db.session.get(ShiftGroup, group_id) if group_id else ShiftGroup()
    if group is None:
        raise ScheduleError(_l("No such shift group."))
    if is_default:
        db.session.execute(update(ShiftGroup).where(ShiftGroup.is_default.is_(True)).values(is_default=False))
    group.name, group.starts_at, group.ends_at, group.is_default = name, starts_at, ends_at, is_default
    group.pattern, group.weekdays, group.observes_holidays = pattern, weekdays, bool(observes_holidays)
    db.session.add(group)
    db.session.flush()
    evidence.record("absence.shift_group_saved", f"shift_group:{group.id}", {
        "name": name, "starts_at": starts_at.isoformat("minutes"), "ends_at": ends_at.isoformat("minutes"),
        "is_default": is_default, "pattern": pattern,
        **({"weekdays": weekdays, "observes_holidays": bool(observes_holidays)} if pattern == "weekly" else {})},
        actor=actor)
    db.session.commit()
    return group


def assign(employee_nos: list[str], group_id: int | None, actor=None) -> int:
    """Put employees in a shift group (None: back to the default). All or nothing; returns how many."""
    wanted = sorted({no.strip() for no in employee_nos if no.strip()})
    found = dict(db.session.execute(select(Employee.employee_no, Employee.id).where(
        Employee.employee_no.in_(wanted))).all())
    missing = [no for no in wanted if no not in found]
    if missing:
        raise ScheduleError(_l("No employee with number %(nos)s.", nos=", ".join(missing)))
    if group_id is not None and db.session.get(ShiftGroup, group_id) is None:
        raise ScheduleError(_l("No such shift group."))
    ids = list(found.values())
    # One statement for the whole list, not one per employee.
    db.session.execute(delete(ShiftAssignment).where(ShiftAssignment.employee_id.in_(ids)))
    if group_id is not None:
        actor_ref, now = evidence.actor_of(actor), clock.now()
        db.session.execute(insert(ShiftAssignment), [
            {"employee_id": employee_id, "shift_group_id": group_id, "assigned_by": actor_ref, "assigned_at": now}
            for employee_id in ids])
    evidence.record("absence.shift_assigned", f"shift_group:{group_id or 'default'}",
                    {"employees": wanted}, actor=actor)
    db.session.commit()
    return len(wanted)
