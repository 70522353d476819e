"""Everything about the package is in pyproject.toml; this file only adds the optional C build of
the evidence chain check (lms/evidence/_chainscan.c). Without a C compiler or OpenSSL's headers
the build is skipped and verification runs the same check in Python, more slowly. Where libpq's or
SQLite's headers are found too (Debian: libpq-dev, libsqlite3-dev), the module also reads the
evidence table itself (see the file's header)."""

import shutil
import subprocess
from pathlib import Path

from setuptools import Extension, setup


def _pg_includedir() -> str | None:
    """libpq's header directory (pg_config knows it; Debian puts it in /usr/include/postgresql)."""
    if shutil.which("pg_config"):
        found = subprocess.run(["pg_config", "--includedir"], capture_output=True, text=True, check=False)
        if found.returncode == 0 and Path(found.stdout.strip(), "libpq-fe.h").exists():
            return found.stdout.strip()
    return "/usr/include/postgresql" if Path("/usr/include/postgresql/libpq-fe.h").exists() else None


macros, libraries, include_dirs = [], ["crypto"], []
if (pg := _pg_includedir()) is not None:
    macros.append(("HAVE_LIBPQ", "1"))
    libraries.append("pq")
    include_dirs.append(pg)
if Path("/usr/include/sqlite3.h").exists():
    macros.append(("HAVE_SQLITE", "1"))
    libraries.append("sqlite3")

setup(ext_modules=[Extension("lms.evidence._chainscan", ["lms/evidence/_chainscan.c"], libraries=libraries,
                             define_macros=macros, include_dirs=include_dirs, optional=True)])
