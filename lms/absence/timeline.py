"""A case's timeline as HR reads it: what happened per day, one line per step in words.

The evidence log keeps one event per fact (a message written, handed to the SMS provider,
delivered, read). HR reads them as one line per message and day — "第一次提醒 · 短信 已送达 ·
李敏（员工）" — with the raw events behind a fold.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime

from flask_babel import gettext as _
from sqlalchemy import select

from lms import clock
from lms.absence.cases import parse_step_key
from lms.evidence.labels import event_label
from lms.extensions import db
from lms.notify.views import channel_label, delivery_status_label

# What each delivery event says about the channel's state, in the order a message goes through them.
NOTIFY_STATUS = {"notify.attempt": "sending", "notify.sent": "sent", "notify.delivered": "delivered",
                 "notify.read": "read", "notify.failed": "failed", "notify.delivery_failed": "failed",
                 "notify.gave_up": "failed", "notify.retry_requested": "sending"}


@dataclass
class Line:
    at: datetime
    words: str
    events: list = field(default_factory=list)


@dataclass
class Day:
    day: date
    lines: list[Line] = field(default_factory=list)


def group_timeline(events: Iterable, actors: dict[str, str], step_labels: dict, role_labels: dict,
                   summary: Callable) -> list[Day]:
    """The events (in order) grouped per local day; a message's events on one day make one line."""
    events = list(events)
    numbers = {e.payload.get("recipient") for e in events if e.kind.startswith("notify.")} - {None}
    names = _names(numbers)
    days: dict[date, Day] = {}
    messages: dict[tuple, tuple[Line, dict]] = {}
    for event in events:
        local = clock.local(event.occurred_at)
        day = days.setdefault(local.date(), Day(local.date()))
        step_key = event.payload.get("step_key") if event.kind.startswith("notify.") else None
        if step_key:
            key = (local.date(), step_key, event.payload.get("recipient"))
            if key not in messages:
                line = Line(local, "")
                day.lines.append(line)
                messages[key] = (line, {"step_key": step_key, "recipient": event.payload.get("recipient"),
                                        "channels": {}})
            line, state = messages[key]
            line.events.append(event)
            status = NOTIFY_STATUS.get(event.kind)
            if event.kind == "notify.message_created":
                for channel in event.payload.get("channels") or []:
                    state["channels"].setdefault(channel, "pending")
            elif status and event.payload.get("channel"):
                state["channels"][event.payload["channel"]] = status
            line.words = _message_words(state, names, step_labels, role_labels)
            continue
        words = event_label(event.kind)
        gist = summary(event)
        if gist:
            words = f"{words}：{gist}" if _is_zh() else f"{words}: {gist}"
        day.lines.append(Line(local, f"{words} · {actors.get(event.actor, '')}", [event]))
    return list(days.values())


def _is_zh() -> bool:
    from lms.ui import current_locale

    return current_locale() == "zh_CN"


def _names(numbers: set[str]) -> dict[str, str]:
    from lms.people.models import Employee

    if not numbers:
        return {}
    return dict(db.session.execute(select(Employee.employee_no, Employee.name)
                                   .where(Employee.employee_no.in_(numbers))).all())


def _message_words(state: dict, names: dict[str, str], step_labels: dict, role_labels: dict) -> str:
    parsed = parse_step_key(state["step_key"])
    if parsed:
        step, role = parsed
        what = str(step_labels.get(step.split(":")[0], _("Message")))
        who = names.get(state["recipient"], "")
        who = f"{who}（{role_labels[role]}）" if role in role_labels and who else who
    else:
        what, who = _("Message"), names.get(state["recipient"], "")
    channels = ", ".join(f"{channel_label(channel)} {delivery_status_label(status)}"
                         for channel, status in state["channels"].items())
    return " · ".join(part for part in (what, channels, who) if part)
