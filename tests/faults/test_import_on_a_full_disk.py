"""The disk fills up during an import: a clear 503 page, not one punch or event of it stored; with space
again, the same file imports whole, in the same app.

Real disk full: the database is a SQLite file on a small tmpfs of this test's own (mounting one needs
root, which CI has), filled with a filler file to within a few pages, so SQLite's own write gets ENOSPC
(SQLITE_FULL) in the middle of storing the export.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from lms import create_app
from lms.extensions import db
from tests.conftest import make_test_config, require_service
from tests.faults.conftest import counts, punch_export, upload

# Bytes left free: about half of what storing the export writes (~530 KB of write-ahead log), so a
# import that committed in parts would leave some of them behind.
ROOM_LEFT = 256 * 1024


@pytest.fixture
def small_disk():
    if os.geteuid() != 0:
        require_service("a small tmpfs", "mounting one needs root")
    mount_point = Path(tempfile.mkdtemp(prefix="lms-faults-disk-"))
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=24m,mode=0700", "tmpfs", str(mount_point)],
                             capture_output=True, text=True)
    if mounted.returncode != 0:
        mount_point.rmdir()
        require_service("a small tmpfs", mounted.stderr.strip())
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)
        mount_point.rmdir()


@pytest.fixture
def app_config(small_disk):
    url = f"sqlite:///{small_disk / 'lms.sqlite3'}"
    app = create_app(make_test_config(url))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return make_test_config(url)


def fill(disk: Path, leave: int) -> Path:
    """Write a filler file until only `leave` bytes are free."""
    stat = os.statvfs(disk)
    filler = disk / "filler"
    with open(filler, "wb") as out:
        out.write(b"\0" * max(stat.f_bavail * stat.f_frsize - leave, 0))
    return filler


def test_an_import_that_fills_the_disk_stores_nothing_and_says_so(app, org, login_as, runner, small_disk, tmp_path):
    hr = login_as("hr")
    export = punch_export([e.employee_no for e in (org.learner, org.colleague, org.manager, org.director)])
    export_file = tmp_path / "clock.csv"
    export_file.write_bytes(export)
    before = counts()
    db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))  # the log must grow, not reuse its old room
    db.session.commit()
    filler = fill(small_disk, ROOM_LEFT)
    try:
        response = upload(hr, export)
        page = response.get_data(as_text=True)
        assert response.status_code == 503, page[:500]
        assert "out of disk space, so this change was not saved" in page
        assert response.headers["Retry-After"]
        assert counts() == before  # not one punch, not the batch's evidence event
        db.session.close()
        command = runner.invoke(args=["absence", "import-punches", str(export_file), "--layout", "generic"])
        assert command.exit_code == 1, command.output  # one line saying what happened, no traceback
        assert "out of disk space, so this change was not saved" in command.output
        assert counts() == before
    finally:
        filler.unlink()

    response = upload(hr, export)  # room again: the same app, the same file, all of it
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    after = counts()
    assert after["punches"] - before["punches"] == export.count(b"\n") - 1
    assert after["evidence_events"] - before["evidence_events"] == 1
