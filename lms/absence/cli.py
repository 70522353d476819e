"""`flask absence …`: punches, leave, monitoring, the scan and scenario replays."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from lms.absence import leave, punches
from lms.people.records import InvalidRecords

absence_cli = AppGroup("absence", help="Punches, leave, absence cases and scenario replays.")


def _fail(path: Path, exc: InvalidRecords) -> None:
    for error in exc.errors:
        where = f"row {error.row}" if error.row else "file"
        click.echo(f"{path.name}: {where}, {error.field}: {error.message}", err=True)
    raise click.ClickException(f"{len(exc.errors)} problem(s); nothing was imported") from exc


@absence_cli.command("import-punches")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--layout", type=click.Choice(["auto", *punches.LAYOUTS]), default="auto", show_default=True,
              help="generic: employee_no,punched_at; dingtalk: DingTalk's 原始记录 export.")
def import_punches(path: Path, layout: str):
    """Import punches from a time-clock export (.csv or .xlsx), all rows or none."""
    try:
        report = punches.import_punch_file(path.name, path.read_bytes(), layout=layout)
    except InvalidRecords as exc:
        _fail(path, exc)
    skipped = f", {report.skipped} rows without a punch skipped" if report.skipped else ""
    click.echo(f"imported {path.name} ({report.layout}): {report.new} new, {report.duplicates} duplicates{skipped}; "
               f"{len(report.employee_ids)} employees, {len(report.days)} days")


@absence_cli.command("import-leave")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_leave(path: Path):
    """Import approved leave from a .csv or .xlsx file, all rows or none."""
    try:
        saved = leave.import_leave_file(path.name, path.read_bytes())
    except InvalidRecords as exc:
        _fail(path, exc)
    click.echo(f"imported {path.name}: {len(saved)} leave records")


def _cli_actor() -> str:
    """Who ran the command, as far as the shell knows ("cli:root")."""
    import getpass

    try:
        return f"cli:{getpass.getuser()}"[:100]
    except (KeyError, OSError):
        return "cli"


@absence_cli.command("monitor")
@click.option("--from", "started_on", required=True, metavar="YYYY-MM-DD",
              help="The first day to watch (company-local). Before today only with --confirm-past and --reason.")
@click.option("--confirm-past", is_flag=True, help="The date is in the past, and that is meant.")
@click.option("--reason", default=None, help="Why monitoring starts on a past date (kept with the evidence).")
def monitor_command(started_on: str, confirm_past: bool, reason: str | None):
    """Switch absence monitoring on from a date (once); the minute tick then watches every employee."""
    from datetime import date

    from lms.absence import cases

    try:
        day = date.fromisoformat(started_on)
    except ValueError as exc:
        raise click.BadParameter(f"not a date (YYYY-MM-DD): {started_on}", param_hint="--from") from exc
    try:
        row = cases.start_monitoring(day, _cli_actor(), confirm_past=confirm_past, reason=reason)
    except cases.MonitoringRefused as exc:
        option = {"started_on": "--from", "confirm_past": "--confirm-past", "reason": "--reason"}[exc.field]
        raise click.UsageError(f"{option}: {exc}") from exc
    except cases.CaseError as exc:
        raise click.ClickException(str(exc)) from exc
    past = f" (a past date, confirmed: {row.past_reason})" if row.is_past_confirmed else ""
    click.echo(f"absence monitoring is on from {row.started_on.isoformat()}{past}")


@absence_cli.command("replay")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the timeline as JSON lines.")
def replay_command(path: Path, as_json: bool):
    """Run a scenario through the real services on a throw-away database and print the timeline."""
    import json

    from lms.absence import replay

    try:
        timeline, differences = replay.replay(path)
    except replay.ScenarioError as exc:
        raise click.ClickException(str(exc)) from exc
    if as_json:
        for entry in timeline:
            click.echo(json.dumps(entry.as_dict(), ensure_ascii=False))
    else:
        click.echo(replay.format_table(timeline))
    for difference in differences:
        click.echo(f"DIFFERENCE: {difference}", err=True)
    if differences:
        raise click.ClickException(f"{len(differences)} difference(s) from the scenario's expect list")


@absence_cli.command("scan")
@click.option("--at", "at_iso", help="ISO time to scan as of (default now).")
def scan_command(at_iso: str | None):
    """Detect absences and queue the due steps now (the tick does this every minute)."""
    from datetime import datetime

    from lms import clock
    from lms.absence import detection, steps

    at = clock.as_utc(datetime.fromisoformat(at_iso)) if at_iso else clock.now()
    with clock.frozen(at):
        report = detection.scan(at)
        handed = steps.send_due_steps(at)
    click.echo(f"scanned {len(report.days)} day(s): {report.opened} case(s) opened, {report.queued} step(s) queued, "
               f"{report.skipped} skipped as stale, {report.counted} day(s) counted, "
               f"{report.thresholds} threshold(s) reached; {handed} step(s) sent")
    if report.unknown_days:
        click.echo("WARNING: the calendar does not know " + ", ".join(d.isoformat() for d in report.unknown_days),
                   err=True)


@absence_cli.command("import-tracking")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_tracking(path: Path):
    """Import a carrier's tracking export (.csv or .xlsx), all rows or none.

    Columns: tracking_no (运单号), status (状态), at (日期), signed_by (签收人), reason (退回原因)."""
    from lms.absence import tracking_file

    try:
        report = tracking_file.import_tracking(path.name, path.read_bytes(), actor="cli")
    except InvalidRecords as exc:
        _fail(path, exc)
    click.echo(f"imported {path.name}: {report.new} new tracking events, {report.duplicates} duplicates")
