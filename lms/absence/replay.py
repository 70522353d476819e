"""Replay a described situation through the real services on a throw-away database.

A scenario (YAML, see content/scenarios/README.md) names employees, leave, punches, replies and
HR actions with their times, and a span to run the scheduler over. The replay creates a fresh
SQLite database, loads the rules from a content tree, feeds each input at its time and runs the
same tick HR's server runs, step by step with the clock advanced. It has no workflow logic of
its own: the timeline it prints is read back from the evidence log.
"""

from __future__ import annotations

import logging
import tempfile
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

import yaml
from flask import current_app
from flask_migrate import upgrade
from sqlalchemy import select

from lms import clock, jobs
from lms.absence import calendar, cases, decisions, leave, punches, rosters, schedules
from lms.absence.models import AbsenceCase
from lms.courses.services import CONTENT_DIR, sync_content
from lms.evidence.models import EvidenceEvent
from lms.extensions import db
from lms.people import services as people
from lms.people.models import Employee

# The evidence kinds that make up a case's timeline, and how the timeline names them.
TIMELINE_KINDS = ("absence.case_opened", "absence.step_sent", "absence.step_skipped", "absence.day_counted",
                  "absence.threshold_reached", "absence.reply_received", "absence.decided",
                  "absence.returned_after_threshold", "absence.case_resolved", "absence.day_uncounted",
                  "absence.day_recounted", "absence.threshold_withdrawn", "absence.days_excused",
                  "absence.days_confirmed", "absence.notice_issued", "documents.issued", "absence.dispatched",
                  "absence.served", "absence.service_failed", "absence.deadline_set", "absence.deadline_passed",
                  "absence.union_notice", "absence.union_opinion", "absence.union_reply",
                  "absence.termination_confirmed", "people.employment_ended")
SERVICE_ACTIONS = ("issue_notice", "dispatch", "tracking", "public_notice")
TERMINATION_ACTIONS = ("union_letter", "union_notice", "union_opinion", "union_reply", "terminate")
# How the timeline names an issued document, by its kind.
ISSUED_NAMES = {"return_to_work": "notice_issued", "termination": "termination_notice_issued",
                "union_notice": "union_letter_issued", "termination_certificate": "certificate_issued"}


class ScenarioError(ValueError):
    """The scenario file is not usable; the message says where."""


@dataclass(frozen=True)
class Entry:
    """One line of the timeline."""

    at: datetime  # local time
    employee_no: str
    case_id: int
    event: str  # alert1, alert2, reminder, threshold_reached, case_opened, …
    detail: str

    def as_dict(self) -> dict:
        return {"at": self.at.isoformat(), "employee_no": self.employee_no, "case": self.case_id,
                "event": self.event, "detail": self.detail}


def _moment(value, where: str) -> datetime:
    if isinstance(value, datetime):
        return clock.as_utc(value)
    if isinstance(value, date):
        return clock.as_utc(datetime.combine(value, datetime.min.time()))
    try:
        return clock.as_utc(datetime.fromisoformat(str(value)))
    except ValueError as exc:
        raise ScenarioError(f"{where}: {value!r} is not a date and time (YYYY-MM-DDTHH:MM)") from exc


def _time(value, where: str) -> time:
    if isinstance(value, int):  # YAML 1.1 reads an unquoted 13:00 as 780 (minutes, base 60)
        return time(value // 60, value % 60)
    try:
        return time.fromisoformat(str(value))
    except ValueError as exc:
        raise ScenarioError(f"{where}: {value!r} is not a time (HH:MM)") from exc


def load(path: Path) -> dict:
    """Read and check the scenario's shape (the services check its contents)."""
    try:
        scenario = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{path}: {exc}") from exc
    if not isinstance(scenario, dict):
        raise ScenarioError(f"{path}: expected a mapping at the top")
    for key in ("monitoring_from", "employees", "run"):
        if key not in scenario:
            raise ScenarioError(f"{path}: “{key}” is missing")
    run = scenario["run"]
    if not isinstance(run, dict) or "from" not in run or "to" not in run:
        raise ScenarioError(f"{path}: run needs “from” and “to”")
    scenario["_base"] = path.parent
    return scenario


def replay(path: Path) -> tuple[list[Entry], list[str]]:
    """Run the scenario on a throw-away database; returns (timeline, differences from its `expect`)."""
    scenario = load(path)
    with tempfile.TemporaryDirectory(prefix="lms-replay-") as folder:
        from lms import create_app

        app = create_app({
            "DATABASE_URL": f"sqlite:///{folder}/replay.sqlite3", "LMS_INSTANCE_DIR": folder, "REDIS_URL": None,
            "SECRET_KEY": "replay", "LMS_DATA_KEY": "replay", "LMS_SMTP_HOST": None, "LMS_SMS_DRIVER": "outbox",
            "LMS_LOCALE": current_app.config["LMS_LOCALE"] if _has_app() else "zh_CN",
            "RATELIMIT_ENABLED": False, "LMS_BASE_URL": "https://lms.invalid",
        })
        with app.app_context():
            try:
                logging.disable(logging.INFO)  # the throw-away database's migrations are not news
                try:
                    upgrade()
                finally:
                    logging.disable(logging.NOTSET)
                _set_up(scenario)
                _run(scenario)
                timeline = _timeline()
            finally:
                db.session.remove()
                db.engine.dispose()
    return timeline, _differences(timeline, scenario.get("expect") or [])


def _has_app() -> bool:
    from flask import has_app_context

    return has_app_context()


def _set_up(scenario: dict) -> None:
    base: Path = scenario["_base"]
    content = (base / scenario["content"]).resolve() if scenario.get("content") else CONTENT_DIR
    start = _moment(scenario["run"]["from"], "run.from")
    with clock.frozen(start - timedelta(days=1)):
        sync_content(content)
        people.save_employees([(n, {k: str(v) if v is not None else None for k, v in raw.items()})
                               for n, raw in enumerate(scenario["employees"], start=1)], source="replay")
        ids = dict(db.session.execute(select(Employee.employee_no, Employee.id)).all())
        for raw in scenario.get("users") or []:
            people.create_user(raw["username"], "replay-" + raw["username"], raw["role"],
                               ids.get(str(raw.get("employee_no"))))
        for n, item in enumerate(scenario.get("shift_groups") or [], start=1):
            group = schedules.save_shift_group(
                str(item["name"]), _time(item.get("starts_at", "09:00"), f"shift_groups[{n}].starts_at"),
                _time(item.get("ends_at", "18:00"), f"shift_groups[{n}].ends_at"),
                is_default=bool(item.get("default", False)), actor="replay",
                pattern=str(item.get("pattern", "calendar")), weekdays=str(item.get("weekdays", "12345")),
                observes_holidays=bool(item.get("holidays", True)))
            if item.get("members"):
                schedules.assign([str(no) for no in item["members"]], group.id, actor="replay")
        if scenario.get("rosters"):
            rosters.save_rosters([(n, {k: (str(v) if k in ("employee_no", "shift_group", "month") else v)
                                       for k, v in item.items()})
                                  for n, item in enumerate(scenario["rosters"], start=1)], source="replay",
                                 actor="replay")
        for n, item in enumerate(scenario.get("calendar") or [], start=1):
            calendar.set_override(date.fromisoformat(str(item["day"])), bool(item["workday"]),
                                  str(item.get("name") or f"scenario {n}"), "replay")
        if scenario.get("leave"):
            leave.record_leaves(list(enumerate(scenario["leave"], start=1)), source="replay", actor="replay")
        monitoring_from = date.fromisoformat(str(scenario["monitoring_from"]))
        try:
            cases.start_monitoring(monitoring_from, "replay", confirm_past=monitoring_from < clock.today(),
                                   reason="scenario replay: monitoring_from is before run.from")
        except cases.MonitoringRefused as exc:
            raise ScenarioError(f"monitoring_from: {exc}") from exc


def _inputs(scenario: dict) -> list[tuple[datetime, str, dict]]:
    """Every timed input: (when it reaches the system, kind, data)."""
    found: list[tuple[datetime, str, dict]] = []
    for item in scenario.get("daily_punches") or []:
        day, last = date.fromisoformat(str(item["from"])), date.fromisoformat(str(item["to"]))
        hour, minute = (int(part) for part in str(item.get("at", "08:55")).split(":"))
        while day <= last:
            moment = clock.as_utc(datetime.combine(day, datetime.min.time()).replace(hour=hour, minute=minute))
            found.append((moment, "punch", {"employee_no": str(item["employee_no"]), "punched_at": moment}))
            day += timedelta(days=1)
    for n, item in enumerate(scenario.get("actions") or [], start=1):
        at = _moment(item.get("at"), f"actions[{n}].at")
        kinds = [k for k in ("punch", "leave", "reply", "decide", *SERVICE_ACTIONS, *TERMINATION_ACTIONS) if k in item]
        if len(kinds) != 1:
            raise ScenarioError(f"actions[{n}]: give exactly one of punch, leave, reply, decide, "
                                f"{', '.join(SERVICE_ACTIONS + TERMINATION_ACTIONS)}")
        data = dict(item[kinds[0]] or {})
        if kinds[0] == "punch":
            data["punched_at"] = _moment(data.get("punched_at", item["at"]), f"actions[{n}].punch.punched_at")
        found.append((at, kinds[0], data))
    return sorted(found, key=lambda entry: entry[0])


def _apply(kind: str, data: dict) -> None:
    if kind == "punch":
        punches.save_punches(punches.PunchBatch(rows=[(1, {"employee_no": data["employee_no"],
                                                           "punched_at": data["punched_at"].isoformat()})]),
                             source="replay", actor="replay")
    elif kind == "leave":
        leave.record_leaves([(1, data)], source="replay", actor="replay")
    else:
        employee_id = db.session.scalar(select(Employee.id).where(Employee.employee_no == str(data["employee_no"])))
        case = db.session.scalars(select(AbsenceCase).where(AbsenceCase.employee_id == employee_id,
                                                            AbsenceCase.state != "resolved")).first()
        if case is None:
            raise ScenarioError(f"{kind} for {data['employee_no']}: no open case at that time")
        if kind in SERVICE_ACTIONS:
            _apply_service(kind, case, data)
        elif kind in TERMINATION_ACTIONS:
            _apply_termination(kind, case, data)
        elif kind == "reply":
            decisions.record_reply(case, data["text"], data.get("channel", "link"), "replay")
        else:
            days = [date.fromisoformat(str(day)) for day in data["days"]] if data.get("days") else None
            decisions.decide(case, data["decision"], "replay", data.get("note", ""), leave_type=data.get("leave_type"),
                             days=days)


def _apply_service(kind: str, case: AbsenceCase, data: dict) -> None:
    """The service inputs: issue_notice, dispatch, tracking, public_notice (dates: the action's local day)."""
    from lms.absence import service
    from lms.absence.models import Dispatch

    today = clock.today()
    try:
        if kind == "issue_notice":
            from lms.absence import notices

            deadline = date.fromisoformat(str(data["deadline"])) if data.get("deadline") else None
            dispatch_on = date.fromisoformat(str(data["dispatch_on"])) if data.get("dispatch_on") else None
            notices.issue_return_notice(case, "replay", dispatch_on=dispatch_on, deadline=deadline)
            db.session.commit()
            return
        notices = service.case_documents(case, str(data.get("document", "return_to_work")))
        if kind in ("dispatch", "public_notice") and not notices:
            raise ScenarioError(f"{kind} for {data['employee_no']}: no notice issued on the case")
        if kind == "dispatch":
            source = str(data.get("address_source", "contact_address"))
            address = data.get("address") or getattr(case.employee, source, None) or ""
            service.record_dispatch(
                case, notices[-1], method=str(data.get("method", "ems")), dispatched_on=today,
                addressee=str(data.get("addressee") or case.employee.name), address=str(address),
                address_source=source, tracking_no=str(data["tracking_no"]) if data.get("tracking_no") else None,
                confirmed_service_address=bool(data.get("confirmed_service_address", False)),
                confirmation_note=data.get("confirmation_note"), actor="replay")
        elif kind == "tracking":
            query = select(Dispatch).where(Dispatch.case_id == case.id)
            if data.get("tracking_no"):
                query = query.where(Dispatch.tracking_no == str(data["tracking_no"]))
            dispatch = db.session.scalars(query.order_by(Dispatch.id.desc())).first()
            if dispatch is None:
                raise ScenarioError(f"tracking for {data['employee_no']}: no dispatch on the case")
            service.record_tracking(dispatch, status=str(data["status"]), day=today, signed_by=data.get("signed_by"),
                                    reason=data.get("reason"), note=data.get("note"), source="replay",
                                    actor="replay")
        else:
            # What a newspaper publishes is the notice's text: replay keeps the notice's own PDF as the scan.
            from lms.documents import files
            scan = files.store(notices[-1].pdf, f"{notices[-1].number}.pdf", "replay")
            service.record_public_notice(case, notices[-1], medium=str(data.get("medium", "")), published_on=today,
                                         scan=scan, whereabouts_unknown_note=data.get("whereabouts_unknown_note"),
                                         actor="replay")
    except service.ServiceRefused as exc:
        raise ScenarioError(f"{kind} for {data['employee_no']} at {today.isoformat()}: {exc}") from exc


def _apply_termination(kind: str, case: AbsenceCase, data: dict) -> None:
    """The union procedure and the termination: union_letter, union_notice, union_opinion, union_reply,
    terminate (times: the action's)."""
    from lms.absence import termination, union

    now = clock.now()
    try:
        if kind == "union_letter":
            termination.issue_union_letter(case, "replay", str(data.get("union", "公司工会")))
        elif kind == "union_notice":
            union.record_notice(case, at=now, union_name=str(data.get("union", "公司工会")),
                                receipt_signed_by=str(data.get("receipt_signed_by", "")), actor="replay")
        elif kind == "union_opinion":
            union.record_opinion(case, at=now, opinion=str(data["opinion"]), text=data.get("text"), actor="replay")
        elif kind == "union_reply":
            union.record_reply(case, at=now, text=str(data.get("text", "")), actor="replay")
        else:
            not_before = date.fromisoformat(str(data["not_before"])) if data.get("not_before") else None
            termination.confirm(case, "replay", note=data.get("note"), review_note=data.get("review_note"),
                                not_before=not_before)
    except cases.CaseError as exc:
        raise ScenarioError(f"{kind} for {data['employee_no']} at {clock.today().isoformat()}: {exc}") from exc


def _run(scenario: dict) -> None:
    run = scenario["run"]
    moment, end = _moment(run["from"], "run.from"), _moment(run["to"], "run.to")
    every = timedelta(minutes=int(run.get("every_minutes", 60)))
    inputs = _inputs(scenario)
    while moment <= end:
        while inputs and inputs[0][0] <= moment:
            at, kind, data = inputs.pop(0)
            with clock.frozen(at):
                _apply(kind, data)
        jobs.run_tick(moment.isoformat())
        moment += every


def _timeline() -> list[Entry]:
    numbers = dict(db.session.execute(select(AbsenceCase.id, Employee.employee_no).join(Employee)).all())
    entries = []
    for event in db.session.scalars(select(EvidenceEvent).order_by(EvidenceEvent.seq)):
        if event.kind not in TIMELINE_KINDS:
            continue
        prefix, _sep, identifier = event.subject.partition(":")
        payload = event.payload
        if event.kind == "people.employment_ended" and payload.get("case"):
            prefix, identifier = "case", str(payload["case"])
        if prefix != "case" or not identifier.isdigit():
            continue
        case_id = int(identifier)
        name, detail = event.kind.removeprefix("absence."), ""
        if event.kind in ("absence.step_sent", "absence.step_skipped"):
            name = payload["step"].partition(":")[0]
            if event.kind == "absence.step_skipped":
                name, detail = f"{name} skipped", payload["reason"]
            else:
                detail = payload.get("day", "")
        elif event.kind in ("absence.day_counted", "absence.day_uncounted", "absence.day_recounted"):
            detail = payload["day"]
        elif event.kind == "absence.threshold_withdrawn":
            detail = f"{payload['day']} ({payload['because']})"
        elif event.kind in ("absence.days_excused", "absence.days_confirmed"):
            detail = ", ".join(payload["days"])
        elif event.kind == "absence.threshold_reached":
            detail = f"{payload['criterion']}: {', '.join(payload['counted_days'])}"
        elif event.kind in ("absence.case_resolved", "absence.decided"):
            detail = payload.get("resolution") or payload.get("decision")
        elif event.kind in ("absence.notice_issued", "documents.issued"):
            name, detail = ISSUED_NAMES.get(payload.get("kind"), "notice_issued"), payload.get("number", "")
        elif event.kind == "absence.dispatched":
            detail = f"{payload['number']} {payload['method']} {payload['address_source']}"
        elif event.kind == "absence.served":
            name = "termination_served" if payload.get("kind") == "termination" else "served"
            detail = f"{payload['served_on']} ({payload['basis']})"
        elif event.kind in ("absence.union_notice", "absence.union_opinion", "absence.union_reply"):
            detail = payload.get("union_name") or payload.get("opinion") or payload.get("text", "")
        elif event.kind == "absence.termination_confirmed":
            detail = payload["number"]
        elif event.kind == "people.employment_ended":
            name, detail = "terminated", f"{payload['effective_on']} (certificate {payload['certificate']}, "
            detail += f"transfers due {payload['transfers_due']})"
        elif event.kind == "absence.service_failed":
            detail = f"{payload['returned_on']} {payload['reason']} → {payload['next_action']}"
        elif event.kind == "absence.deadline_set":
            detail = f"stated {payload['stated']}, effective {payload['effective']}"
        elif event.kind == "absence.deadline_passed":
            detail = payload["effective"]
        entries.append(Entry(clock.local(event.occurred_at).replace(tzinfo=None), numbers[case_id], case_id,
                             name, str(detail)))
        if event.kind == "people.employment_ended" and payload.get("si_stop"):
            si = payload["si_stop"]
            detail = si.get("refused") or (f"last paid {si['last_paid_month']}, stop from {si['stop_from']}, "
                                           f"file by {si['filing_due']}")
            entries.append(Entry(entries[-1].at, numbers[case_id], case_id, "si_stop", detail))
    return entries


def _differences(timeline: list[Entry], expected: list[dict]) -> list[str]:
    """What differs between the timeline and the scenario's `expect` list (same events, same minutes)."""
    if not expected:
        return []
    kinds = {str(item["event"]) for item in expected}
    last = max(datetime.fromisoformat(str(item["at"])) for item in expected)
    actual = [(e.at.isoformat(timespec="minutes"), e.employee_no, e.event) for e in timeline
              if e.event in kinds and e.at <= last]
    wanted = [(datetime.fromisoformat(str(i["at"])).isoformat(timespec="minutes"), str(i["employee_no"]),
               str(i["event"])) for i in expected]
    missing = [f"expected {' '.join(w)}, did not happen" for w in wanted if w not in actual]
    extra = [f"happened {' '.join(a)}, not expected" for a in actual if a not in wanted]
    details = {(e.at.isoformat(timespec="minutes"), e.employee_no, e.event): e.detail for e in timeline}
    for item in expected:
        if "detail" not in item:
            continue
        key = (datetime.fromisoformat(str(item["at"])).isoformat(timespec="minutes"), str(item["employee_no"]),
               str(item["event"]))
        if key in details and details[key] != str(item["detail"]):
            missing.append(f"expected {' '.join(key)} with “{item['detail']}”, got “{details[key]}”")
    return missing + extra


def format_table(timeline: list[Entry]) -> str:
    rows = [("time", "employee", "case", "event", "detail")] + [
        (e.at.strftime("%Y-%m-%d %H:%M"), e.employee_no, str(e.case_id), e.event, e.detail) for e in timeline]
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
                     for row in rows)
