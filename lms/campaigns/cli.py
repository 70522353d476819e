"""`flask campaigns …`: templates, launching by hand, the reminders pass."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from lms import clock
from lms.campaigns import reminders, services, templates

campaigns_cli = AppGroup("campaigns", help="Refresher and annual campaigns.")


@campaigns_cli.command("templates")
def list_templates():
    """The campaign templates under content/campaigns/."""
    for tpl in templates.read_templates():
        click.echo(f"{tpl.slug}: {tpl.name_zh} / {tpl.name_en} ({tpl.kind}, every {tpl.every}, "
                   f"{len(tpl.rules)} rules, {tpl.window_days} days)")


@campaigns_cli.command("launch")
@click.argument("template")
def launch_command(template: str):
    """Launch TEMPLATE's campaign now, for the current period (the tick then leaves that period alone)."""
    try:
        campaign = templates.launch_template_now(template, "cli")
    except (services.CampaignError, services.CampaignStateError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"launched {campaign.name}: due {campaign.due_on.isoformat()}, sha256 {campaign.assignments_sha256}")


@campaigns_cli.command("remind")
def remind_command():
    """Send the reminders and escalations due now (the tick does this every 5 minutes)."""
    click.echo(f"{reminders.send_due_reminders(clock.now())} messages sent")
