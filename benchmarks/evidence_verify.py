"""Benchmark: verifying the evidence chain against hashing the same bytes with hashlib.

    .venv/bin/python benchmarks/evidence_verify.py [--events 1000000] [--database sqlite|postgresql|both]

Builds a chain of N events in a fresh database, then times, in the same run:
  baseline — sha256 over every event's canonical bytes (already in memory) in a Python loop;
  verify   — `services.verify_chain()`: stream the rows, recompute every hash, check links and columns
             (with the C loop of lms/evidence/_chainscan.c where it was built, reading the table itself
             where it was built with libpq's and SQLite's headers; each row says which).
Target (issue #19; #3 asked 0.5): ratio baseline/verify ≥ 0.8.
Results are appended to benchmarks/results/evidence_verify.md.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from lms import create_app  # noqa: E402
from lms.evidence import chain, services  # noqa: E402
from lms.extensions import db  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "evidence_verify.md"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


ROUNDS = 3
CHECK_IN = ("check in Python" if chain.link_breaks is chain._link_breaks_in_python
            else "check and read in C" if hasattr(services._chainscan, "scan_postgresql") else "check in C")
TARGET = 0.8


def timed(work) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def fresh_database(kind: str, workdir: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{workdir / 'bench.sqlite3'}"
    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "lms_bench_evidence" WITH (FORCE)'))
        conn.execute(text('CREATE DATABASE "lms_bench_evidence"'))
    engine.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/lms_bench_evidence"


def run(kind: str, events: int, workdir: Path) -> dict:
    url = fresh_database(kind, workdir)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "REDIS_URL": None})
    with app.app_context():
        upgrade()
        started = time.perf_counter()
        services.record_many(
            ("absence.day_counted", f"case:{n % 9973}",
             {"day": n, "employee_no": f"E{n % 50000:05d}", "note": "未打卡，已发送提醒"})
            for n in range(events)
        )
        db.session.commit()
        build = time.perf_counter() - started

        with db.engine.connect() as conn:
            bodies = [row[0].encode("utf-8") for row in conn.execute(text("SELECT body FROM evidence_event"))]
        sha256 = hashlib.sha256

        def hash_all():
            for body in bodies:
                sha256(body).hexdigest()

        def verify_all():
            report = services.verify_chain(save=False)
            assert report.ok and report.length == events, report

        # Best of three for both, interleaved, so a noisy neighbour skews neither side.
        baseline = verify = float("inf")
        for _ in range(ROUNDS):
            baseline = min(baseline, timed(hash_all))
            verify = min(verify, timed(verify_all))
        bodies.clear()
        db.engine.dispose()
    return {"database": kind, "events": events, "build_s": build, "baseline_s": baseline, "verify_s": verify,
            "ratio": baseline / verify}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    kinds = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    lines = []
    with tempfile.TemporaryDirectory() as workdir:
        for kind in kinds:
            result = run(kind, args.events, Path(workdir))
            verdict = "PASS" if result["ratio"] >= TARGET else "FAIL"
            line = (f"| {datetime.now(UTC):%Y-%m-%d %H:%M} | {kind} | Python {platform.python_version()}, "
                    f"{os.cpu_count()} CPUs, {CHECK_IN} | {result['events']:,} | "
                    f"{result['build_s']:.1f} | {result['baseline_s']:.2f} | {result['verify_s']:.2f} | "
                    f"{result['ratio']:.2f} | {verdict} |")
            print(line, flush=True)
            lines.append(line)
    if not RESULTS.exists():
        RESULTS.write_text(
            "# Evidence chain verification benchmark\n\n"
            "Command: `.venv/bin/python benchmarks/evidence_verify.py` (1,000,000 events, both databases).\n"
            "ratio = baseline (hashlib over the same canonical bytes, in memory) / verify (the real command's "
            "work), each the best of 3 in the same run. Target: ratio ≥ 0.8.\n\n"
            "| when (UTC) | database | machine | events | build s | baseline s | verify s | ratio | target |\n"
            "|---|---|---|---|---|---|---|---|---|\n")
    with RESULTS.open("a") as handle:
        handle.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
