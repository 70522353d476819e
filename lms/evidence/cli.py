"""`flask evidence …`."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from lms.evidence import services

evidence_cli = AppGroup("evidence", help="The tamper-evident evidence log.")


@evidence_cli.command("verify")
def verify_command():
    """Recompute the whole hash chain; exit 1 naming the first broken link."""
    report = services.verify_chain()
    if report.ok:
        click.echo(f"evidence chain intact: {report.length} events, head {report.head_hash}")
        return
    click.echo(f"evidence chain BROKEN at event {report.broken_seq}: {report.problem}", err=True)
    click.echo(f"{report.length} events verified before the break; last good hash {report.head_hash}", err=True)
    sys.exit(1)
