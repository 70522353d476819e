"""`flask evidence …`."""

from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from lms.evidence import services

evidence_cli = AppGroup("evidence", help="The tamper-evident evidence log.")


@evidence_cli.command("verify")
@click.option("--export-head", is_flag=True,
              help="After an intact verification, print the head line (seq, hash, time) to keep outside the "
                   "database: print it, e-mail it to the company's lawyer, publish it.")
@click.option("--against", "head_lines", multiple=True, metavar="HEAD_LINE",
              help="A head line exported earlier: the chain must still hold that event with that hash.")
def verify_command(export_head: bool, head_lines: tuple[str, ...]):
    """Recompute the whole hash chain; exit 1 naming the first broken link."""
    report = services.verify_chain()
    witnesses = [(line, services.check_head_line(line)) for line in head_lines]
    if report.ok:
        click.echo(f"evidence chain intact: {report.length} events, head {report.head_hash}")
    else:
        click.echo(f"evidence chain BROKEN at event {report.broken_seq}: {report.problem}", err=True)
        click.echo(f"{report.length} events verified before the break; last good hash {report.head_hash}", err=True)
    for line, problem in witnesses:
        if problem:
            click.echo(f"head line NOT in the chain: {problem} ({line.strip()})", err=True)
        else:
            click.echo(f"head line found in the chain: {line.strip()}")
    if not report.ok or any(problem for _line, problem in witnesses):
        sys.exit(1)
    if export_head:
        click.echo(services.head_line())
