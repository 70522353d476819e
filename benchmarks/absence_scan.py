"""Benchmark: the absence tick's scan against the bare SQL anti-join that finds the absentees.

    .venv/bin/python benchmarks/absence_scan.py [--sizes 10000,100000] [--databases sqlite,postgresql] [--repeat 3]
                                                [--roster-share 0.03]

For each database and size N: a database built once (not timed) with the shipped content (the
rule set in force), N active employees in a few departments, one morning punch (08:30–09:10
local) on Monday 2026-06-15 for ~97 % of them (fixed seed), ~0.5 % on leave that day, the rest
absent, and monitoring on from that day. With --roster-share S, a share S of the employees (fixed
seed) are in a shift group with the roster pattern, each with a roster of their own for June:
~80 % of them rostered to work on the 15th (they punch, or not, like everyone), the others
resting that day (no punch, no case); the scan then also runs the roster anti-join. Each
repetition works on a fresh copy of it (a copied SQLite file in WAL mode, a PostgreSQL database
made from the built one as template) and times, in the same run:
  bare — `SELECT e.id FROM employee e WHERE NOT EXISTS (punch that day)`, warmed up, median of 5;
  scan — `detection.scan(at)` at 11:30 local (shift start + 2 h, before the day closes): it detects
         the absentees, opens their cases, queues alert 1 for each and records the evidence.
Sending (`send_due_steps`) is a separate job and not timed; the `reconcile()` the scan runs after
committing is timed with it. Within a repetition the sizes run back to back, so a noisy neighbour
on the shared machine slows both alike. Reported: medians over the repetitions.
Targets (issue, at 100,000 employees): scan ≤ 20 × bare, and scan(100k) ≤ 12 × scan(10k). Figures are appended to
benchmarks/results/absence_scan.md. The issue's later run: `--sizes 100000,1000000 --databases postgresql
--roster-share 0.03 --scan-target 10 --growth-target 11` (scan ≤ 10 × bare; scan(1M)/scan(100k) ≤ 11).
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
from sqlalchemy import Date, bindparam, create_engine, func, insert, select, text  # noqa: E402

from lms import clock, create_app  # noqa: E402
from lms.absence import calendar, cases, detection, rules, schedules  # noqa: E402
from lms.absence.models import (  # noqa: E402
    AbsenceCase,
    CaseStep,
    Leave,
    Punch,
    RosterDay,
    RosterMonth,
    ShiftAssignment,
    ShiftGroup,
)
from lms.courses import services as courses  # noqa: E402
from lms.extensions import db  # noqa: E402
from lms.people.models import Department, Employee  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "absence_scan.md"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DAY = date(2026, 6, 15)  # a Monday, a working day
SCAN_AT = datetime(2026, 6, 15, 11, 30)  # local: standard shift 09:00 + first alert after 2 h, day still open
# The minute tick ran before, when nothing was due yet: as in production, the scan's connection and
# statement cache have seen its queries once. That earlier pass is not timed.
PREVIOUS_TICK = datetime(2026, 6, 15, 10, 30)
ABSENT, ON_LEAVE = 0.03, 0.005
ROSTER_WORKS_ON_DAY = 0.8  # of the rostered employees, those whose roster has DAY as a working day
DEPARTMENTS = ("销售部", "物流部", "生产部", "研发部", "客服部", "财务部", "人力资源部", "行政部")
BARE_SQL = text("SELECT e.id FROM employee e WHERE NOT EXISTS "
                "(SELECT 1 FROM punch p WHERE p.employee_id = e.id AND p.work_day = :day)"
                ).bindparams(bindparam("day", type_=Date))
BARE_RUNS = 5
SCAN_TARGET, GROWTH_TARGET = 20, 12


def timed(work) -> tuple[float, object]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def make_app(url: str):
    return create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "LMS_DATA_KEY": "bench", "REDIS_URL": None})


def pg_admin(statement: str) -> None:
    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(statement))
    engine.dispose()


def pg_url(name: str) -> str:
    return PG_ADMIN.rsplit("/", 1)[0] + "/" + name


def build(url: str, employees: int, roster_share: float = 0.0) -> None:
    """Migrate and fill one database (not timed)."""
    rng = random.Random(20260615 + employees)
    app = make_app(url)
    with app.app_context():
        upgrade()
        with clock.frozen(datetime(2026, 6, 14, 12, 0)):
            courses.sync_content()
            assert rules.rules_in_force(), "no rule set in force"
            assert calendar.day_info(DAY).is_workday, f"{DAY} is not a working day"
            db.session.execute(insert(Department), [{"name": name} for name in DEPARTMENTS])
            departments = list(db.session.scalars(select(Department.id).order_by(Department.id)))
            first_hire = date(2015, 1, 1)
            for start in range(0, employees, 20_000):
                db.session.execute(insert(Employee), [
                    {"employee_no": f"B{n:06d}", "name": f"员工{n}", "department_id": departments[n % len(departments)],
                     "hire_date": first_hire + timedelta(days=rng.randrange(4000)), "status": "active"}
                    for n in range(start, min(start + 20_000, employees))])
            ids = list(db.session.scalars(select(Employee.id).order_by(Employee.id)))
            resting = _rosters(rng, ids, roster_share) if roster_share else set()
            punches, leaves = [], []
            for employee_id in ids:
                if employee_id in resting:  # a rostered rest day: no punch, and no case expected
                    continue
                draw = rng.random()
                if draw < ABSENT:
                    continue
                if draw < ABSENT + ON_LEAVE:
                    leaves.append({"employee_id": employee_id, "type": "annual", "starts_on": DAY,
                                   "ends_on": DAY + timedelta(days=rng.randrange(3)), "source": "bench",
                                   "created_by": "bench"})
                    continue
                moment = datetime.combine(DAY, datetime.min.time()).replace(hour=8, minute=30)
                punches.append({"employee_id": employee_id, "work_day": DAY, "source": "csv:generic",
                                "punched_at": clock.as_utc(moment + timedelta(seconds=rng.randrange(40 * 60)))})
            for start in range(0, len(punches), 20_000):
                db.session.execute(insert(Punch), punches[start:start + 20_000])
            if leaves:
                db.session.execute(insert(Leave), leaves)
            db.session.commit()
            cases.start_monitoring(DAY)
            # One-off process costs (the translations behind the built-in standard shift's name) are
            # paid here, not by whichever repetition happens to run first.
            schedules.shifts_by_group()
        if db.engine.dialect.name == "postgresql":
            with db.engine.connect() as conn:  # what autovacuum does after a bulk load
                conn.execute(text("ANALYZE"))
                conn.commit()
        db.session.remove()
        db.engine.dispose()


def _rosters(rng: random.Random, ids: list[int], share: float) -> set[int]:
    """A roster group holding `share` of the employees, each with an own June roster; those resting on DAY."""
    rostered = sorted(rng.sample(ids, round(len(ids) * share)))
    group = ShiftGroup(name="轮班", starts_at=datetime.min.time().replace(hour=9),
                       ends_at=datetime.min.time().replace(hour=18), pattern="roster", created_at=clock.now())
    db.session.add(group)
    db.session.flush()
    db.session.execute(insert(ShiftAssignment), [{"employee_id": e, "shift_group_id": group.id, "assigned_by": "bench",
                                                  "assigned_at": clock.now()} for e in rostered])
    june = [date(2026, 6, 1) + timedelta(days=n) for n in range(30)]
    resting, months, days = set(), [], []
    for employee_id in rostered:
        works_today = rng.random() < ROSTER_WORKS_ON_DAY
        if not works_today:
            resting.add(employee_id)
        months.append({"employee_id": employee_id, "month": date(2026, 6, 1), "source": "bench", "saved_by": "bench",
                       "saved_at": clock.now()})
    for start in range(0, len(months), 20_000):
        db.session.execute(insert(RosterMonth), months[start:start + 20_000])
    roster_of = dict(db.session.execute(select(RosterMonth.employee_id, RosterMonth.id)).all())
    for employee_id in rostered:
        rest = set(rng.sample(june, 8))  # about five working days in seven
        rest.discard(DAY)
        if employee_id in resting:
            rest.add(DAY)
        days.extend({"roster_id": roster_of[employee_id], "day": d} for d in june if d not in rest)
    for start in range(0, len(days), 50_000):
        db.session.execute(insert(RosterDay), days[start:start + 50_000])
    return resting


def measure(url: str) -> dict:
    """One repetition on a fresh copy: the bare anti-join (median of BARE_RUNS, warmed up), then the scan."""
    app = make_app(url)
    with app.app_context():
        def bare():
            return db.session.execute(BARE_SQL, {"day": DAY}).scalars().all()

        no_punch = len(bare())  # warm-up
        bare_s = statistics.median(timed(bare)[0] for _ in range(BARE_RUNS))
        db.session.rollback()
        before = clock.as_utc(PREVIOUS_TICK)
        with clock.frozen(before):
            detection.scan(before)
        at = clock.as_utc(SCAN_AT)
        with clock.frozen(at):
            scan_s, report = timed(lambda: detection.scan(at))
        opened = db.session.scalar(select(func.count()).select_from(AbsenceCase))
        queued = db.session.scalar(select(func.count()).select_from(CaseStep).where(CaseStep.status == "queued"))
        assert (report.opened, report.queued) == (opened, queued), (report, opened, queued)
        db.session.remove()
        db.engine.dispose()
    return {"no_punch": no_punch, "opened": opened, "queued": queued, "bare_s": bare_s, "scan_s": scan_s}


def measure_copy(kind: str, template: str, label: str, workdir: Path) -> dict:
    """`measure` on a fresh copy of a built database, dropped afterwards."""
    if kind == "sqlite":
        copy = workdir / f"{label}.sqlite3"
        for suffix in ("", "-wal"):  # the WAL is normally checkpointed away when the build closes
            if Path(f"{template}{suffix}").exists():
                shutil.copyfile(f"{template}{suffix}", f"{copy}{suffix}")
        try:
            return measure(f"sqlite:///{copy}")
        finally:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{copy}{suffix}").unlink(missing_ok=True)
    pg_admin(f'DROP DATABASE IF EXISTS "{label}" WITH (FORCE)')
    pg_admin(f'CREATE DATABASE "{label}" TEMPLATE "{template}"')
    try:
        return measure(pg_url(label))
    finally:
        pg_admin(f'DROP DATABASE IF EXISTS "{label}" WITH (FORCE)')


def run(kind: str, sizes: list[int], repeat: int, workdir: Path, roster_share: float = 0.0) -> list[dict]:
    """Build each size once, then measure the sizes in turn within each repetition, so that a noisy
    neighbour slows both sizes of a repetition alike; medians per size."""
    templates = {}
    try:
        for employees in sizes:
            if kind == "sqlite":
                templates[employees] = str(workdir / f"absence_{employees}.sqlite3")
                build(f"sqlite:///{templates[employees]}", employees, roster_share)
            else:
                templates[employees] = f"lms_bench_absence_{employees}"
                pg_admin(f'DROP DATABASE IF EXISTS "{templates[employees]}" WITH (FORCE)')
                pg_admin(f'CREATE DATABASE "{templates[employees]}"')
                build(pg_url(templates[employees]), employees, roster_share)
        runs: dict[int, list[dict]] = {employees: [] for employees in sizes}
        for n in range(repeat):
            for employees in sizes:
                runs[employees].append(measure_copy(kind, templates[employees],
                                                    f"lms_bench_absence_{employees}_{n}", workdir))
                print(f"  {kind} {employees:,} #{n + 1}: bare {runs[employees][-1]['bare_s'] * 1000:.1f} ms, "
                      f"scan {runs[employees][-1]['scan_s'] * 1000:.0f} ms", flush=True)
    finally:
        if kind == "postgresql":
            for name in templates.values():
                pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    results = []
    for employees in sizes:
        measured = runs[employees]
        assert len({(r["no_punch"], r["opened"], r["queued"]) for r in measured}) == 1, measured
        bare_s = statistics.median(r["bare_s"] for r in measured)
        scan_s = statistics.median(r["scan_s"] for r in measured)
        results.append({**measured[0], "database": kind, "employees": employees, "bare_s": bare_s,
                        "scan_s": scan_s, "ratio": scan_s / bare_s})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000", help="employee counts, comma-separated")
    parser.add_argument("--databases", default="sqlite,postgresql", help="sqlite and/or postgresql")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per database and size (median)")
    parser.add_argument("--scan-target", type=float, default=SCAN_TARGET,
                        help="largest scan/bare allowed (the issue's 1,000,000-employee run: 10)")
    parser.add_argument("--growth-target", type=float, default=GROWTH_TARGET,
                        help="largest scan(N)/scan(N/10) allowed (the 1,000,000-employee run: 11)")
    parser.add_argument("--roster-share", type=float, default=0.0,
                        help="share of employees on a roster group with their own June roster (e.g. 0.03)")
    args = parser.parse_args()
    if not 0 <= args.roster_share < 1:
        parser.error("--roster-share takes a fraction from 0 to below 1")
    sizes = sorted(int(s) for s in args.sizes.split(","))
    kinds = [k.strip() for k in args.databases.split(",")]
    if not set(kinds) <= {"sqlite", "postgresql"} or args.repeat < 1:
        parser.error("--databases takes sqlite,postgresql; --repeat at least 1")
    machine = f"Python {platform.python_version()}, {os.cpu_count()} CPUs"
    if args.roster_share:
        machine += f"; {args.roster_share:.0%} rostered"
    scan_target, growth_target = args.scan_target, args.growth_target
    header = ("| when (UTC) | database | machine | employees | absentees (no punch) | cases opened | steps queued | "
              f"bare ms | scan ms | scan/bare (≤ {scan_target:g}) | "
              f"scan/scan(smallest N) (≤ {growth_target:g} at 10× N) | target |")
    lines = [header, "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    print(header, flush=True)
    with tempfile.TemporaryDirectory() as workdir:
        for kind in kinds:
            results = run(kind, sizes, args.repeat, Path(workdir), args.roster_share)
            smallest = results[0]
            for result in results:
                employees = result["employees"]
                growth = result["scan_s"] / smallest["scan_s"]
                verdict, growth_cell = "baseline", "—"
                if result is not smallest or len(results) == 1:
                    # The issue sets both targets for 100,000 employees; the smaller size is the
                    # baseline for growth. Linear growth would be employees / smallest; 12 is allowed at 10×.
                    ok = result["ratio"] <= scan_target
                    if result is not smallest:
                        ok = ok and growth <= growth_target * (employees / smallest["employees"]) / 10
                        growth_cell = f"{growth:.1f} (× {employees / smallest['employees']:g} N)"
                    verdict = "PASS" if ok else "FAIL"
                line = (f"| {datetime.now(UTC):%Y-%m-%d %H:%M} | {kind} | {machine} | {employees:,} | "
                        f"{result['no_punch']:,} | {result['opened']:,} | {result['queued']:,} | "
                        f"{result['bare_s'] * 1000:.1f} | {result['scan_s'] * 1000:.0f} | {result['ratio']:.1f} | "
                        f"{growth_cell} | {verdict} |")
                print(line, flush=True)
                lines.append(line)
    if not RESULTS.exists():
        RESULTS.write_text(
            "# Absence scan benchmark\n\n"
            "Command: `.venv/bin/python benchmarks/absence_scan.py` (10,000 and 100,000 employees, SQLite and "
            "PostgreSQL, median of 3 repetitions each on a fresh copy of the built database, the sizes "
            "back to back within a repetition).\n"
            "One working day (Mon 2026-06-15): ~97 % punched, ~0.5 % on leave (no punch, so among the bare "
            "query's absentees but given no case), ~3 % absent; monitoring on from that day. "
            "scan = `detection.scan()` at 11:30 local: detect, open the cases, queue alert 1, record the evidence, "
            "and the `reconcile()` the scan runs after committing; sending is a separate job and not timed. "
            "Each repetition uses a new app; an untimed scan at 10:30, when nothing is due yet, stands for the "
            "minute tick before it, so the connection and statement cache have seen the queries once, as in "
            "production. bare = the plain SQL anti-join employee ⟕ punch of that day, warmed up, median of 5, "
            "in the same run. PostgreSQL is ANALYZEd after the load (what autovacuum would do); SQLite is not. "
            "Targets (at 100,000 employees, the issue's size): scan ≤ 20 × bare; scan(100k) ≤ 12 × scan(10k); "
            "the 10,000 row is the baseline for growth.\n"
            "Each run appends its rows below (the header of a run repeats).\n")
    with RESULTS.open("a") as handle:
        handle.write("\n" + "\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
