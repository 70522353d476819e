"""Benchmark: previewing and launching a campaign for 100,000 employees with six rules, against the bare
SQL that selects the same employees.

    .venv/bin/python benchmarks/campaign_launch.py [--employees 100000] [--databases sqlite,postgresql] [--repeat 3]

A database is built once (not timed) with the shipped content and N employees in eight departments
(job families, positions and hire dates from a fixed seed; 2 % terminated). The campaign has six rules
(sales; logistics; 生产部 + 操作工; under one year of tenure; 研发部 with 12–36 months; 客服专员), each
with a course and the quarterly-refresher exam, launching on 2026-10-08. Each repetition works on a
fresh copy of the built database (a copied SQLite file, a PostgreSQL database made from it as a
template) and times, in the same run:
  bare    — one SELECT of the employees the six rules pick (their conditions OR-ed in SQL, tenure as
            hire-date bounds), fetching id and number; warmed up, median of 5;
  preview — `services.preview(campaign)`: who gets what, counts per rule, who matches none;
  launch  — `services.launch(campaign_id)`: match, insert the assignments and enrolments, one evidence
            event with the assignment list's hash, commit.
The statements launch runs are counted (no per-employee query: on PostgreSQL a constant; on SQLite the
multi-row INSERTs are sent in pages of rows, so their number grows with N / page size, never per row).
Target (issue): launch ≤ 15 × bare. Medians over the repetitions; appended to
benchmarks/results/campaign_launch.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
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
from lms.campaigns import services  # noqa: E402
from lms.campaigns.models import Assignment  # noqa: E402
from lms.courses import services as courses  # noqa: E402
from lms.extensions import db  # noqa: E402
from lms.people.models import Department, Employee  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "campaign_launch.md"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
LAUNCH = date(2026, 10, 8)
TARGET = 15
BARE_RUNS = 5
DEPARTMENTS = (("销售部", "sales", ("销售代表", "销售组长")), ("物流部", "logistics", ("配送员", "仓管员")),
               ("生产部", "production", ("操作工", "质检员")), ("研发部", "rd", ("工程师", "测试工程师")),
               ("客服部", "service", ("客服专员", "客服组长")), ("财务部", "office", ("会计", "出纳")),
               ("人力资源部", "office", ("人事专员",)), ("行政部", "office", ("行政专员", "前台")))
RULES = [
    {"job_family": "sales", "course": "scenario-urgent-absence", "exam": "quarterly-refresher"},
    {"job_family": "logistics", "course": "case-dismissal-without-leave", "exam": "quarterly-refresher"},
    {"department": "生产部", "position": "操作工", "course": "employee-handbook", "exam": "quarterly-refresher"},
    {"tenure_months_max": 11, "course": "employee-handbook", "exam": "quarterly-refresher"},
    {"department": "研发部", "tenure_months_min": 12, "tenure_months_max": 36,
     "course": "scenario-manager-unreachable", "exam": "quarterly-refresher"},
    {"position": "客服专员", "course": "scenario-urgent-absence", "exam": "quarterly-refresher"},
]


def months_back(day: date, months: int) -> date:
    total = day.year * 12 + day.month - 1 - months
    return date(total // 12, total % 12 + 1, day.day)  # the launch day (8th) exists in every month


# tenure ≥ m full months on LAUNCH ⇔ hired on or before LAUNCH shifted back m months
BARE_SQL = text(
    "SELECT e.id, e.employee_no FROM employee e JOIN department d ON d.id = e.department_id "
    "WHERE e.status <> 'terminated' AND (e.job_family = 'sales' OR e.job_family = 'logistics' "
    "OR (d.name = '生产部' AND e.position = '操作工') OR e.hire_date > :under_one_year "
    "OR (d.name = '研发部' AND e.hire_date <= :twelve AND e.hire_date > :thirty_seven) "
    "OR e.position = '客服专员')").bindparams(
    under_one_year=months_back(LAUNCH, 12), twelve=months_back(LAUNCH, 12), thirty_seven=months_back(LAUNCH, 37))


def timed(work) -> tuple[float, object]:
    started = time.perf_counter()
    result = work()
    return (time.perf_counter() - started) * 1000, result


def build(url: str, employees: int) -> None:
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "LMS_DATA_KEY": "bench"})
    with app.app_context():
        upgrade()
        courses.sync_content()
        rng = random.Random(20261008)
        ids = {}
        for name, _family, _positions in DEPARTMENTS:
            ids[name] = db.session.execute(insert(Department).values(name=name, created_at=clock.now())
                                           .returning(Department.id)).scalar_one()
        now = datetime.now(UTC)
        rows = []
        for n in range(employees):
            name, family, positions = DEPARTMENTS[n % len(DEPARTMENTS)]
            rows.append({"employee_no": f"B{n:07d}", "name": f"员工{n}", "department_id": ids[name],
                         "job_family": family, "position": rng.choice(positions),
                         "hire_date": LAUNCH - timedelta(days=rng.randint(10, 3650)),
                         "status": "terminated" if rng.random() < 0.02 else "active",
                         "created_at": now, "updated_at": now})
        for start in range(0, len(rows), 10_000):
            db.session.execute(insert(Employee), rows[start:start + 10_000])
        db.session.commit()
        db.engine.dispose()


def copy_database(kind: str, built: str, n: int, workdir: Path) -> str:
    if kind == "sqlite":
        target = workdir / f"copy-{n}.sqlite3"
        shutil.copy(built.removeprefix("sqlite:///"), target)
        return f"sqlite:///{target}"
    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    name = f"bench_campaign_copy_{n}"
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "bench_campaign_built"'))
    engine.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + f"/{name}"


def one_run(url: str) -> dict:
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "LMS_DATA_KEY": "bench"})
    with app.app_context(), clock.frozen(clock.as_utc(datetime(2026, 10, 8, 9, 0))):
        if db.engine.dialect.name == "postgresql":
            db.session.execute(text("ANALYZE"))
            db.session.commit()
        db.session.execute(BARE_SQL).all()  # warm up
        bare_times = []
        for _ in range(BARE_RUNS):
            ms, selected = timed(lambda: db.session.execute(BARE_SQL).all())
            bare_times.append(ms)
        campaign = services.create_campaign({"name": "基准", "kind": "refresher", "launch_on": LAUNCH,
                                             "due_on": date(2026, 11, 9), "rules": RULES})
        preview_ms, preview = timed(lambda: services.preview(campaign))
        statements = []

        def count(conn, cursor, statement, parameters, context, executemany):
            statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        launch_ms, _ = timed(lambda: services.launch(campaign.id))
        event.remove(db.engine, "before_cursor_execute", count)
        assigned = db.session.query(Assignment).count()
        assert assigned == len(selected) == len(preview["assignments"]), (assigned, len(selected))
        db.session.remove()
        db.engine.dispose()
    return {"bare": statistics.median(bare_times), "preview": preview_ms, "launch": launch_ms,
            "statements": len(statements), "assigned": assigned, "unmatched": len(preview["unmatched"])}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--employees", type=int, default=100_000)
    parser.add_argument("--databases", default="sqlite")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("SECRET_KEY", "bench")
    lines = []
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        for kind in args.databases.split(","):
            if kind == "sqlite":
                built = f"sqlite:///{workdir / 'built.sqlite3'}"
            else:
                engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
                with engine.connect() as conn:
                    conn.execute(text('DROP DATABASE IF EXISTS "bench_campaign_built" WITH (FORCE)'))
                    conn.execute(text('CREATE DATABASE "bench_campaign_built"'))
                engine.dispose()
                built = PG_ADMIN.rsplit("/", 1)[0] + "/bench_campaign_built"
            build(built, args.employees)
            runs = [one_run(copy_database(kind, built, n, workdir)) for n in range(args.repeat)]
            median = {key: statistics.median(r[key] for r in runs) for key in ("bare", "preview", "launch")}
            ratio = median["launch"] / median["bare"]
            passed = ratio <= TARGET
            ok = ok and passed
            stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M")
            machine = f"Python {platform.python_version()}, {os.cpu_count()} CPUs"
            lines.append(f"| {stamp} | {kind} | {machine} | {args.employees:,} | {runs[0]['assigned']:,} | "
                         f"{runs[0]['unmatched']:,} | {median['bare']:.1f} | {median['preview']:.0f} | "
                         f"{median['launch']:.0f} | {median['preview'] / median['bare']:.1f} | {ratio:.1f} | "
                         f"{runs[0]['statements']} | {'PASS' if passed else 'FAIL'} |")
            print(lines[-1], flush=True)
            if kind != "sqlite":
                engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
                with engine.connect() as conn:
                    for n in range(args.repeat):
                        conn.execute(text(f'DROP DATABASE IF EXISTS "bench_campaign_copy_{n}" WITH (FORCE)'))
                    conn.execute(text('DROP DATABASE IF EXISTS "bench_campaign_built" WITH (FORCE)'))
                engine.dispose()
    if not RESULTS.exists():
        RESULTS.write_text(
            "# Campaign launch benchmark\n\n"
            "Command: `.venv/bin/python benchmarks/campaign_launch.py [--databases sqlite,postgresql]` — see the "
            "script's docstring. bare = one SELECT of the employees the six rules pick; preview and launch = the "
            "services; medians of 3 repetitions, each on a fresh copy of the built database. Target: launch ≤ 15 × "
            "bare, no per-employee statements.\n\n"
            "| when (UTC) | database | machine | employees | assigned | unmatched | bare ms | preview ms | launch ms "
            "| preview/bare | launch/bare (≤ 15) | launch statements | target |\n"
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n", encoding="utf-8")
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write("\n".join(lines) + "\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
