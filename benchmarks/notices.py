"""Benchmark: issuing return-to-work notices against rendering the same PDFs alone.

    .venv/bin/python benchmarks/notices.py [--notices 1000] [--databases sqlite,postgresql]

For each database (SQLite in a temporary file; PostgreSQL on 127.0.0.1:5432, a scratch database
created and dropped here), in a fresh migrated database with the shipped content synced, N
employees each get a case at its threshold (three counted days, 15–17 June
2026, under rule set 2026-01; written directly, not by the scan). Then, in the same run:
  issue  — `notices.issue_return_notice()` for every case, one transaction each: preconditions
           (`thresholds.holding`), the facts (messages, training proof, rules), the template, the
           number from the counter row, the PDF, its SHA-256, `documents.issued`, the to-do, the
           in-app message with its own evidence events, the commit;
  render — `render.render_notice()` of exactly the same texts, in memory, nothing else.
Target (issue 13): issue ≤ 1.5 × render. Results are appended to benchmarks/results/notices.md.
"""

from __future__ import annotations

import argparse
import platform
import sys
import tempfile
import time
from datetime import UTC, date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, insert, select, text  # noqa: E402

from lms import clock, create_app  # noqa: E402
from lms.absence import cases, notices  # noqa: E402
from lms.absence.models import AbsenceCase, CaseDay, CaseTodo  # noqa: E402
from lms.courses import services as courses  # noqa: E402
from lms.documents.models import Document  # noqa: E402
from lms.documents.render import register_font, render_notice  # noqa: E402
from lms.extensions import db  # noqa: E402
from lms.people.models import Department, Employee  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "notices.md"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_SCRATCH = "lms_bench_notices"
DAYS = [date(2026, 6, 15), date(2026, 6, 16), date(2026, 6, 17)]
TARGET = 1.5


def _seed(n: int) -> list[int]:
    """N employees, each with a case whose threshold was reached after 17 June."""
    courses.sync_content()
    with clock.frozen(clock.as_utc(datetime(2026, 5, 31, 12, 0))):
        cases.start_monitoring(date(2026, 6, 1))
    department = Department(name="销售部")
    db.session.add(department)
    db.session.flush()
    reached = clock.as_utc(datetime(2026, 6, 18, 0, 0))
    db.session.execute(insert(Employee), [
        {"employee_no": f"B{i:06d}", "name": f"员工{i}", "department_id": department.id, "hire_date": date(2025, 3, 1),
         "status": "active", "mobile": f"138{i:08d}"} for i in range(n)])
    employee_ids = list(db.session.scalars(select(Employee.id).order_by(Employee.id)))
    db.session.execute(insert(AbsenceCase), [
        {"employee_id": e, "state": "threshold_reached", "first_day": DAYS[0], "rule_version": "2026-01",
         "opened_at": clock.as_utc(datetime(2026, 6, 15, 11, 0)), "threshold_reached_at": reached}
        for e in employee_ids])
    case_ids = dict(db.session.execute(select(AbsenceCase.employee_id, AbsenceCase.id)).all())
    db.session.execute(insert(CaseDay), [
        {"case_id": case_ids[e], "day": d, "employee_id": e, "status": "counted", "counted_at": reached,
         "rule_version": "2026-01", "needs_confirmation": False} for e in employee_ids for d in DAYS])
    db.session.execute(insert(CaseTodo), [
        {"case_id": case_ids[e], "kind": "prepare_return_notice", "created_at": reached} for e in employee_ids])
    db.session.commit()
    return [case_ids[e] for e in employee_ids]


def pg_admin(statement: str) -> None:
    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(statement))
    engine.dispose()


def measure(url: str, notices_n: int) -> tuple[int, float, float, int]:
    """(notices, issue s, render s, how many of 10 re-rendered PDFs equal the issued bytes) in one database."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "REDIS_URL": None})
    with app.app_context():
        upgrade()
        case_ids = _seed(notices_n)
        register_font()  # loaded once per process, before either timing
        with clock.frozen(clock.as_utc(datetime(2026, 6, 18, 10, 0))):
            started = time.perf_counter()
            for case_id in case_ids:
                notices.issue_return_notice(db.session.get(AbsenceCase, case_id), "system",
                                            dispatch_on=date(2026, 6, 19))
                db.session.expunge_all()
            issue_s = time.perf_counter() - started
            documents = db.session.scalars(select(Document).order_by(Document.id)).all()
            company = app.config["LMS_COMPANY_NAME"]
            inputs = [(d.text, d.number) for d in documents]
            started = time.perf_counter()
            for body, number in inputs:
                render_notice(title="限期返岗通知书", body_markdown=body, company=company, number=number,
                              issued_on="2026年6月18日")
            render_s = time.perf_counter() - started
        same = sum(render_notice(title="限期返岗通知书", body_markdown=d.text, company=company, number=d.number,
                                 issued_on="2026年6月18日") == d.pdf for d in documents[:10])
        db.session.remove()
        db.engine.dispose()
    return len(documents), issue_s, render_s, same


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--notices", type=int, default=1000)
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite and/or postgresql")
    args = parser.parse_args()
    kinds = [k.strip() for k in args.databases.split(",")]
    if not set(kinds) <= {"sqlite", "postgresql"}:
        parser.error("--databases takes sqlite,postgresql")
    machine = f"Python {platform.python_version()}, {__import__('os').cpu_count()} CPUs"
    lines = []
    for kind in kinds:
        if kind == "sqlite":
            with tempfile.TemporaryDirectory() as workdir:
                issued, issue_s, render_s, same = measure(f"sqlite:///{Path(workdir) / 'bench.sqlite3'}", args.notices)
        else:
            pg_admin(f'DROP DATABASE IF EXISTS "{PG_SCRATCH}" WITH (FORCE)')
            pg_admin(f'CREATE DATABASE "{PG_SCRATCH}"')
            try:
                issued, issue_s, render_s, same = measure(PG_ADMIN.rsplit("/", 1)[0] + "/" + PG_SCRATCH, args.notices)
            finally:
                pg_admin(f'DROP DATABASE IF EXISTS "{PG_SCRATCH}" WITH (FORCE)')
        ratio = issue_s / render_s
        verdict = "PASS" if ratio <= TARGET else "FAIL"
        print(f"{kind}: issue {issue_s:.2f} s, render alone {render_s:.2f} s, ratio {ratio:.2f} ({verdict}); "
              f"{same}/10 re-rendered PDFs identical to the issued bytes", flush=True)
        lines.append(f"| {datetime.now(UTC):%Y-%m-%d %H:%M} | {kind} | {machine} | {issued:,} | {issue_s:.2f} | "
                     f"{render_s:.2f} | {ratio:.2f} | {verdict} |")
    if not RESULTS.exists():
        RESULTS.write_text(
            "# Notice issuing benchmark\n\n"
            "Command: `.venv/bin/python benchmarks/notices.py` (1,000 notices, SQLite and PostgreSQL).\n"
            "ratio = issue (preconditions, facts, template, number, PDF, SHA-256, evidence, to-do, in-app message, "
            "commit per notice) / render (the same PDFs from the same texts, in memory). Target: ratio ≤ 1.5.\n\n"
            "| when (UTC) | database | machine | notices | issue s | render s | ratio | target |\n"
            "|---|---|---|---|---|---|---|---|\n", encoding="utf-8")
    with RESULTS.open("a", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
