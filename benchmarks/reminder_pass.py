"""Benchmark: the reminder pass over 100,000 open assignments, against the bare SQL that reads every open
assignment with its employee (what the pass did before `next_reminder_on`), in the same run.

    .venv/bin/python benchmarks/reminder_pass.py [--assignments 100000] [--databases sqlite,postgresql]

A database is built once per kind (not timed): N active employees, one open refresher assignment each,
due dates spread evenly over the year from 2026-11-05 (3 days' notice, 5 days' grace), so on Monday
2026-11-02 at 09:30 the assignments due on 11-05 (about N / 365) have their early reminder due. Timed:
  bare  — SELECT every open assignment joined to its employee, fetching the columns the pass needs;
          warmed up, median of 5 (the old pass's first statement, before any work);
  read  — the pass's candidate SELECT at 09:30 alone (through the index on next_reminder_on);
  busy  — `reminders.send_due_reminders` at 09:30: reads the candidates through the index, sends each
          early reminder (in-app and SMS outbox through notify.send, each message its own evidence and
          durable commit: that, not the read, is its cost) and records it; once;
  quiet — the same pass five minutes later, when nothing is due (the common tick); median of 5.
Rows read and statements are counted. Targets: quiet ≤ 0.1 × bare; the busy pass reads only the
assignments with a step due (no full scan). Appended to benchmarks/results/reminder_pass.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, event, insert, text  # noqa: E402

from lms import clock, create_app  # noqa: E402
from lms.campaigns import reminders  # noqa: E402
from lms.campaigns.models import Assignment  # noqa: E402
from lms.extensions import db  # noqa: E402
from lms.people.models import Department, Employee  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "reminder_pass.md"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
FIRST_DUE = date(2026, 11, 5)
BUSY_AT = datetime(2026, 11, 2, 9, 30)
TARGET = 0.1
RUNS = 5
BARE_SQL = text(
    "SELECT a.id, a.employee_id, a.due_on, a.remind_days_before, a.grace_days, a.exam_slug, e.manager_id, "
    "e.name, e.status FROM refresher_assignment a JOIN employee e ON e.id = a.employee_id "
    "WHERE a.completed_at IS NULL")


def timed(work) -> tuple[float, object]:
    started = time.perf_counter()
    result = work()
    return (time.perf_counter() - started) * 1000, result


def build(url: str, size: int) -> None:
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "LMS_DATA_KEY": "bench"})
    with app.app_context():
        upgrade()
        department = db.session.execute(insert(Department).values(name="销售部", created_at=clock.now())
                                        .returning(Department.id)).scalar_one()
        now = datetime.now(UTC)
        people = [{"employee_no": f"R{n:07d}", "name": f"员工{n}", "department_id": department,
                   "job_family": "sales", "hire_date": date(2024, 1, 1), "status": "active", "created_at": now,
                   "updated_at": now} for n in range(size)]
        for start in range(0, size, 10_000):
            db.session.execute(insert(Employee), people[start:start + 10_000])
        ids = [row[0] for row in db.session.execute(text("SELECT id FROM employee ORDER BY id"))]
        assigned_at = clock.as_utc(datetime(2026, 10, 8, 9, 0))
        rows = []
        for n, employee_id in enumerate(ids):
            due_on = FIRST_DUE + timedelta(days=n % 365)
            rows.append({"employee_id": employee_id, "source": "hr", "course_slug": "employee-handbook",
                         "exam_slug": "quarterly-refresher", "due_on": due_on, "assigned_at": assigned_at,
                         "assigned_by": "bench", "remind_days_before": 3, "grace_days": 5, "retest_extra": 1,
                         "next_reminder_on": reminders.first_reminder_day(due_on, 3)})
        for start in range(0, size, 10_000):
            db.session.execute(insert(Assignment), rows[start:start + 10_000])
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        db.engine.dispose()


def one_run(url: str) -> dict:
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "LMS_DATA_KEY": "bench"})
    statements = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    with app.app_context():
        db.session.execute(BARE_SQL).all()  # warm up
        bare = []
        for _ in range(RUNS):
            ms, everything = timed(lambda: db.session.execute(BARE_SQL).all())
            bare.append(ms)
        db.session.rollback()
        busy_at = clock.as_utc(BUSY_AT)
        read_ms, due = timed(lambda: db.session.execute(reminders.due_candidates(BUSY_AT.date())).all())
        due_rows = len(due)
        db.session.rollback()
        with clock.frozen(busy_at):
            busy_ms, sent = timed(lambda: reminders.send_due_reminders(busy_at))
        quiet = []
        for n in range(RUNS):
            at = busy_at + timedelta(minutes=5 * (n + 1))
            with clock.frozen(at):
                event.listen(db.engine, "before_cursor_execute", count)
                ms, quiet_sent = timed(lambda at=at: reminders.send_due_reminders(at))
                event.remove(db.engine, "before_cursor_execute", count)
            assert quiet_sent == 0
            quiet.append(ms)
        left = len(db.session.execute(reminders.due_candidates(BUSY_AT.date())).all())
        db.session.remove()
        db.engine.dispose()
    return {"bare": statistics.median(bare), "open": len(everything), "busy": busy_ms, "due_rows": due_rows,
            "read": read_ms,
            "sent": sent, "quiet": statistics.median(quiet), "quiet_statements": len(statements) // RUNS,
            "left": left}


def database_url(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'reminders.sqlite3'}"
    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "bench_reminder_pass" WITH (FORCE)'))
        conn.execute(text('CREATE DATABASE "bench_reminder_pass"'))
    engine.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/bench_reminder_pass"


def drop(kind: str) -> None:
    if kind != "sqlite":
        engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text('DROP DATABASE IF EXISTS "bench_reminder_pass" WITH (FORCE)'))
        engine.dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignments", type=int, default=100_000)
    parser.add_argument("--databases", default="sqlite")
    args = parser.parse_args()
    os.environ.setdefault("SECRET_KEY", "bench")
    lines, ok = [], True
    with tempfile.TemporaryDirectory() as tmp:
        for kind in args.databases.split(","):
            url = database_url(kind, Path(tmp))
            build(url, args.assignments)
            run = one_run(url)
            drop(kind)
            ratio = run["quiet"] / run["bare"]
            passed = ratio <= TARGET and run["due_rows"] < run["open"] // 100 and run["left"] == 0
            ok = ok and passed
            stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
            machine = f"Python {platform.python_version()}, {os.cpu_count()} CPUs"
            lines.append(f"| {stamp} | {kind} | {machine} | {run['open']:,} | {run['bare']:.1f} | "
                         f"{run['due_rows']:,} | {run['read']:.1f} | {run['read'] / run['bare']:.3f} | "
                         f"{run['sent']:,} | {run['busy']:.0f} | "
                         f"{run['busy'] / run['bare']:.1f} | {run['quiet']:.2f} | {ratio:.3f} | "
                         f"{run['quiet_statements']} | {'PASS' if passed else 'FAIL'} |")
            print(lines[-1], flush=True)
    if not RESULTS.exists():
        RESULTS.write_text(
            "# Reminder pass benchmark\n\n"
            "Command: `.venv/bin/python benchmarks/reminder_pass.py [--databases sqlite,postgresql]` — see the "
            "script's docstring. bare = the SELECT of every open assignment with its employee (what the pass "
            "read on every tick before `next_reminder_on`); busy = the pass when the assignments due in 3 days "
            "get their early reminder (read through the index, sent, recorded); quiet = the pass five minutes "
            "later, nothing due (median of 5). Target: quiet ≤ 0.1 × bare; the busy pass reads only the rows "
            "with a step due.\n\n"
            "| when (UTC) | database | machine | open assignments | bare ms | rows read (busy) | read ms | read/bare "
            "| sent | busy ms | busy/bare | quiet ms | quiet/bare (≤ 0.1) | quiet statements | target |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n", encoding="utf-8")
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
