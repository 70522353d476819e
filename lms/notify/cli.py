"""`flask notify …`."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from lms.notify import services

notify_cli = AppGroup("notify", help="Notifications: deliveries and retries.")


@notify_cli.command("deliver")
@click.argument("delivery_id", type=int)
def deliver_command(delivery_id: int):
    """Attempt one e-mail or SMS delivery now (if it is due or its worker died)."""
    click.echo(f"delivery {delivery_id}: {services.deliver(delivery_id)}")
