"""`flask backup create PATH` / `flask backup restore PATH`: the whole database in one file, and back.

Everything the system keeps lives in its database — the evidence log, and every uploaded file (scans, photos,
attachments) and every issued PDF as bytes beside its SHA-256 — so a backup of the database is a backup of all
of it. There is no other folder to save (`instance/secret_key` aside, which production replaces by SECRET_KEY
from its secret store: keep SECRET_KEY and LMS_DATA_KEY there, not in the backup; without LMS_DATA_KEY the
national ID numbers in a backup cannot be read).

- SQLite: SQLite's online backup API copies a consistent snapshot while the app runs.
- PostgreSQL: `pg_dump --format=custom` (a consistent snapshot too), restored with `pg_restore`; both must be
  of the server's major version or newer.

`create` writes PATH and PATH.sha256 (the file's SHA-256). `restore` checks that hash, refuses a database that
already holds tables (restore into an empty one: a new SQLite file, or `createdb`), restores, and then verifies
the evidence chain there (exit 1 naming the first broken link, as `flask evidence verify` does).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from lms.extensions import db

backup_cli = AppGroup("backup", help="Back up the database (with every uploaded file) and restore it.")

SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"


class BackupError(click.ClickException):
    """A backup or restore that cannot go ahead; the message says why."""


def _url():
    return make_url(current_app.config["SQLALCHEMY_DATABASE_URI"])


def _sqlite_path(url) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database has nothing to back up or restore into")
    return Path(url.database)


def _pg_command(program: str, url) -> tuple[list[str], dict]:
    """A libpq command line for `url` (the password through the environment, never on the command line)."""
    executable = shutil.which(program)
    if executable is None:
        raise BackupError(f"{program} is not installed (Debian: apt-get install postgresql-client)")
    args = [executable, "--host", url.host or "localhost", "--port", str(url.port or 5432),
            "--username", url.username or "postgres", "--dbname", url.database, "--no-password"]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def create_backup(target: Path) -> str:
    """Write the database to `target` (and its SHA-256 beside it); returns the hash."""
    url = _url()
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    if url.get_backend_name() == "sqlite":
        source = sqlite3.connect(_sqlite_path(url))
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)
        finally:
            copy.close()
            source.close()
    elif url.get_backend_name() == "postgresql":
        args, env = _pg_command("pg_dump", url)
        run = subprocess.run([*args, "--format=custom", "--no-owner", "--no-privileges", "--file", str(partial)],  # noqa: S603 - a list, no shell
                             env=env, capture_output=True, text=True, check=False)
        if run.returncode != 0:
            partial.unlink(missing_ok=True)
            raise BackupError(f"pg_dump failed: {run.stderr.strip()}")
    else:
        raise BackupError(f"no backup procedure for {url.get_backend_name()}")
    partial.replace(target)
    digest = _sha256(target)
    target.with_name(target.name + ".sha256").write_text(f"{digest}  {target.name}\n")
    return digest


def restore_backup(source: Path) -> None:
    """Load a backup made by create_backup into this app's database, which must be empty."""
    url = _url()
    if not source.is_file():
        raise BackupError(f"{source}: no such file")
    sums = source.with_name(source.name + ".sha256")
    if not sums.is_file():
        raise BackupError(f"{sums}: the backup's SHA-256 file is missing")
    expected = sums.read_text().split()[0]
    if _sha256(source) != expected:
        raise BackupError(f"{source}: its SHA-256 differs from {sums.name}: the backup is damaged")
    tables = inspect(db.engine).get_table_names()
    db.engine.dispose()
    if tables:
        raise BackupError(f"the database already holds {len(tables)} tables: restore into an empty database")
    with source.open("rb") as handle:
        head = handle.read(16)
    backend = url.get_backend_name()
    if backend == "sqlite":
        if head != SQLITE_MAGIC:
            raise BackupError(f"{source} is not a SQLite backup (the database is SQLite)")
        path = _sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        backup = sqlite3.connect(source)
        target = sqlite3.connect(path)
        try:
            backup.backup(target)
        finally:
            target.close()
            backup.close()
    elif backend == "postgresql":
        if not head.startswith(PG_DUMP_MAGIC):
            raise BackupError(f"{source} is not a pg_dump backup (the database is PostgreSQL)")
        args, env = _pg_command("pg_restore", url)
        run = subprocess.run([*args, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",  # noqa: S603 - a list, no shell
                              str(source)], env=env, capture_output=True, text=True, check=False)
        if run.returncode != 0:
            raise BackupError(f"pg_restore failed: {run.stderr.strip()}")
    else:
        raise BackupError(f"no restore procedure for {backend}")


@backup_cli.command("create")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def create_command(path: Path):
    """Write the whole database (every uploaded file included) to PATH, and its SHA-256 to PATH.sha256."""
    digest = create_backup(path)
    click.echo(f"backup written: {path} ({path.stat().st_size} bytes, sha256 {digest})")


@backup_cli.command("restore")
@click.argument("path", type=click.Path(dir_okay=False, exists=True, path_type=Path))
def restore_command(path: Path):
    """Restore PATH into this (empty) database, then verify the evidence chain there."""
    from lms.evidence import services

    restore_backup(path)
    click.echo(f"restored {path} into {_url().render_as_string(hide_password=True)}")
    report = services.verify_chain()
    if not report.ok:
        click.echo(f"evidence chain BROKEN at event {report.broken_seq}: {report.problem}", err=True)
        sys.exit(1)
    click.echo(f"evidence chain intact: {report.length} events, head {report.head_hash}")
