"""`flask people …`, `flask users …` and `flask api-token …`."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import select

from lms.extensions import db
from lms.people import services
from lms.people.models import ApiToken, Employee, User
from lms.people.records import InvalidEmployeeData, read_employee_file

people_cli = AppGroup("people", help="Employees and departments.")
users_cli = AppGroup("users", help="Sign-in accounts.")
api_token_cli = AppGroup("api-token", help="Bearer tokens for integrations.")


@people_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(path: Path):
    """Import employees from a CSV or XLSX file (all rows or none)."""
    try:
        report = services.save_employees(read_employee_file(path.name, path.read_bytes()), source=f"cli:{path.name}")
    except InvalidEmployeeData as exc:
        for error in exc.errors:
            where = f"row {error.row}" if error.row else "file"
            click.echo(f"{path.name}: {where}, {error.field}: {error.message}", err=True)
        raise click.ClickException(f"{len(exc.errors)} problem(s); nothing was imported") from exc
    click.echo(f"imported {path.name}: {report.created} created, {report.updated} updated")


@users_cli.command("create-admin")
@click.argument("username")
@click.password_option()
def create_admin(username: str, password: str):
    """Create an administrator account."""
    _create(username, password, "admin", None)


@users_cli.command("create")
@click.argument("username")
@click.option("--role", type=click.Choice(["employee", "manager", "hr", "admin"]), required=True)
@click.option("--employee-no", help="Link the account to this employee.")
@click.password_option()
def create_user(username: str, role: str, employee_no: str | None, password: str):
    """Create an account with any role, optionally linked to an employee."""
    employee_id = None
    if employee_no:
        employee_id = db.session.scalar(select(Employee.id).where(Employee.employee_no == employee_no))
        if employee_id is None:
            raise click.ClickException(f"no employee has number {employee_no}")
    _create(username, password, role, employee_id)


def _create(username: str, password: str, role: str, employee_id: int | None) -> None:
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise click.ClickException(f"username {username} is taken")
    if len(password) < 10:
        raise click.ClickException("the password needs at least 10 characters")
    services.create_user(username, password, role, employee_id)
    click.echo(f"created {role} account {username}")


@api_token_cli.command("create")
@click.option("--role", type=click.Choice(services.API_TOKEN_ROLES), required=True)
@click.option("--name", required=True, help="Who or what uses the token, e.g. the HRIS sync.")
def create_token(role: str, name: str):
    """Create a bearer token; it is printed once, alone on the last line."""
    token, plain = services.create_api_token(name, role)
    click.echo(f"token {token.id} for {name} (role {role}); store it now, it cannot be shown again:")
    click.echo(plain)


@api_token_cli.command("list")
def list_tokens():
    """Tokens with their role and last use (never the token itself)."""
    for token in db.session.scalars(select(ApiToken).order_by(ApiToken.id)):
        state = "revoked" if token.revoked_at else "active"
        click.echo(f"{token.id}\t{token.name}\t{token.role}\t{state}\tlast used {token.last_used_at or '-'}")


@api_token_cli.command("revoke")
@click.argument("token_id", type=int)
def revoke_token(token_id: int):
    """Revoke a token by its id."""
    services.revoke_api_token(token_id)
    click.echo(f"token {token_id} revoked")
