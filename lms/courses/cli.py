"""`flask content …`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from lms.courses import services
from lms.courses.content import ContentError

content_cli = AppGroup("content", help="Courses and rules under content/.")


@content_cli.command("sync")
@click.option("--path", "root", type=click.Path(exists=True, file_okay=False, path_type=Path),
              default=services.CONTENT_DIR, show_default=True, help="The content folder.")
def sync_command(root: Path):
    """Load changed rule sets and courses as new immutable versions (all or nothing)."""
    try:
        report = services.sync_content(root)
    except ContentError as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise click.ClickException(f"{len(exc.problems)} problem(s); nothing was changed") from exc
    for line in report.lines:
        click.echo(line)
    click.echo(f"{report.new_versions} new course version(s)")
