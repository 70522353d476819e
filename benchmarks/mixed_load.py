"""Benchmark: a long mixed load on the production arrangement, for errors, latency and memory growth.

    .venv/bin/python benchmarks/mixed_load.py [--seconds 600] [--learners 150] [--think 1.0]

A fresh PostgreSQL database with the demo company (`flask demo load`'s data) and 5,000 more learners
with personal tokens; gunicorn (2 workers) with Redis for the rate limits and the job queue, and one
`flask worker` (the RQ worker with the once-a-minute scheduler pass). First a 30-second warm-up without
pauses (every page on both workers, so that first use is not counted as growth). Then, for `--seconds`,
from this separate load process, all at once:
  learners (`--learners` threads) — read their profile and leave requests and take the onboarding
           exam through the API (start, save each answer, submit); two more, signed in, read their
           pages and the chapters of their courses;
  a manager and HR (a signed-in browser session each) — their pages, one after the other;
  the time clock — a batch of 200 punches through the API every minute (HR's integration token).
Every person pauses between two requests, as people do: `--think` seconds on average (each pause drawn
uniformly from half to one and a half times that); `--think 0` sends the next request at once. Learners
begin at random moments within one round of their requests, as people do (begun in the same second, they
stay in step and their submits arrive together, every round), and nobody starts a request once the time is
up (finishing their exams without pauses would end the run with a burst that is not the load measured). Latency
targets mean something only below saturation: a closed loop without pauses measures the queue it builds
itself (16 clients on 2 workers: each request waits behind ~7 others, p95 ≈ 8 × the service time,
whatever the code does). The default — 150 learners taking the exam at once, one answer a second — is a
busy hour for a company of thousands and keeps the server a third to a half busy; the report gives each
process's CPU use so the load level is on record beside the latencies.
Reported per request kind: requests, requests/s, p50/p95/p99 ms, errors; and the resident memory of
every server process (gunicorn master and workers, the RQ worker) at the start of the load and at
its end, and its CPU use during the load; the slowest pages by p95. Targets (issue #19): 0 errors,
p95 < 200 ms for every kind, memory growth < 10 % per process. Results are appended to benchmarks/results/mixed_load.md.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import os
import random
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from datetime import time as time_of_day
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from exam_load import Client, add_learners, exam_work, free_port  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from procstat import children, cpu_seconds, machine_busy_seconds, own_cpu_seconds, resident_kib  # noqa: E402
from sqlalchemy import create_engine, select, text  # noqa: E402

from lms import clock, create_app  # noqa: E402
from lms.absence import calendar, punches  # noqa: E402
from lms.absence.models import AbsenceCase  # noqa: E402
from lms.demo import DEMO_LOGINS, load_demo  # noqa: E402
from lms.extensions import db  # noqa: E402
from lms.people import services as people  # noqa: E402
from lms.people.models import Employee  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "mixed_load.md"
PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
REDIS_URL = os.environ.get("LMS_BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")
LEARNERS = 5000  # each exam attempt takes a fresh learner (a failed one waits for coaching)
WARM_UP_LEARNERS = 300
PUNCH_BATCH = 200
LEARNER_ROUND = 23  # a learner's requests in one round: profile, leave requests, start, 19 saves, submit
P95_TARGET_MS, GROWTH_TARGET = 200, 0.10
SECRET_KEY, DATA_KEY = "bench", "bench-data-key"  # the server must decrypt what prepare() stored


def fresh_database() -> str:
    engine = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text('DROP DATABASE IF EXISTS "lms_bench_mixed" WITH (FORCE)'))
        conn.execute(text('CREATE DATABASE "lms_bench_mixed"'))
    engine.dispose()
    return PG_ADMIN.rsplit("/", 1)[0] + "/lms_bench_mixed"


def prepare(url: str) -> dict:
    """The demo company plus learners with tokens; HR's integration token; the pages to visit."""
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": SECRET_KEY, "LMS_DATA_KEY": DATA_KEY, "REDIS_URL": None})
    with app.app_context():
        upgrade()
        load_demo()
        tokens = add_learners(LEARNERS)
        punch_in(f"L{n:05d}" for n in range(LEARNERS))
        _token, hr_token = people.create_api_token("time clock", "hr")
        db.session.commit()
        employee_ids = list(db.session.scalars(select(Employee.id).where(Employee.employee_no.like("E%"))
                                               .order_by(Employee.id).limit(20)))
        case_ids = list(db.session.scalars(select(AbsenceCase.id).order_by(AbsenceCase.id).limit(10)))
        punch_numbers = [f"L{n:05d}" for n in range(LEARNERS)]
        db.engine.dispose()
    hr_pages = ["/", "/absence/", "/people/employees", "/evidence/", "/campaigns/", "/campaigns/compliance",
                "/insurance/ledger", "/notify/problems", "/requests/inbox"]
    hr_pages += [f"/people/employees/{n}" for n in employee_ids] + [f"/absence/cases/{n}" for n in case_ids]
    manager_pages = ["/", "/courses/team", "/absence/team", "/exams/coaching", "/requests/inbox", "/inbox"]
    learner_pages = ["/", "/courses/", "/exams/", "/inbox", "/campaigns/mine", "/requests/"]
    return {"tokens": tokens, "hr_token": hr_token, "punch_numbers": punch_numbers,
            "hr_pages": hr_pages, "manager_pages": manager_pages, "learner_pages": learner_pages}


def punch_in(employee_nos) -> None:
    """A morning punch on every working day the demo's absence monitoring has watched (its last ten days),
    as the demo's own people have. Without them the first tick finds 5,000 people absent for days and
    spends minutes opening their cases and alerting them, their managers and HR — the absence module doing
    its job, not the load this benchmark is about."""
    today = clock.today()
    numbers = list(employee_nos)
    rows = [{"employee_no": number, "punched_at": clock.as_utc(datetime.combine(day, time_of_day(8, 50))).isoformat()}
            for day in calendar.working_days(today - timedelta(days=10), today) for number in numbers
            if clock.as_utc(datetime.combine(day, time_of_day(8, 50))) <= clock.now()]
    punches.save_punches(punches.PunchBatch(rows=list(enumerate(rows, 1))), source="benchmark", actor="benchmark")


class Browser:
    """A signed-in session: the login form with its CSRF token, then the session cookie on every page."""

    def __init__(self, port: int, username: str, password: str):
        self.port, self.cookie = port, ""
        _status, page, _elapsed = self.get("/login")
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page) or \
            re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
        status, _page, _elapsed = self.request("POST", "/login", urlencode(
            {"username": username, "password": password, "csrf_token": csrf.group(1) if csrf else ""}),
            {"Content-Type": "application/x-www-form-urlencoded"})
        if status != 302:
            raise RuntimeError(f"{username} could not sign in ({status})")

    def request(self, method: str, path: str, body=None, headers=None) -> tuple[int, str, float]:
        headers = dict(headers or {})
        if self.cookie:
            headers["Cookie"] = self.cookie
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            for name, value in response.getheaders():
                if name.lower() == "set-cookie" and value.startswith("session="):
                    self.cookie = value.split(";", 1)[0]
        finally:
            conn.close()
        return response.status, data.decode("utf-8", "replace"), time.perf_counter() - started

    def get(self, path: str) -> tuple[int, str, float]:
        return self.request("GET", path)


def percentile(values: list[float], p: float) -> float:
    """The p-th quantile of sorted seconds, in ms."""
    return values[min(len(values) - 1, int(len(values) * p))] * 1000


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.pages: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)

    def add(self, kind: str, status: int, expected: int, elapsed: float, what: str = "") -> None:
        with self.lock:
            self.latencies[kind].append(elapsed)
            if what:
                self.pages[f"{kind.split(':')[0]} {what}"].append(elapsed)
            if status != expected:
                self.errors[kind].append(f"{what or kind}: {status}")

    def slowest_pages(self, count: int = 6) -> list[tuple[str, int, float, float]]:
        """(page, requests, p50, p95) of the pages with the highest p95."""
        rows = [(page, len(values), percentile(sorted(values), 0.5), percentile(sorted(values), 0.95))
                for page, values in self.pages.items()]
        return sorted(rows, key=lambda row: -row[3])[:count]

    def report(self, wall: float) -> list[dict]:
        rows = []
        for kind, values in sorted(self.latencies.items()):
            values = sorted(values)
            rows.append({"kind": kind, "requests": len(values), "rps": len(values) / wall,
                         "p50": percentile(values, 0.5), "p95": percentile(values, 0.95),
                         "p99": percentile(values, 0.99), "errors": len(self.errors[kind]),
                         "samples": self.errors[kind][:3]})
        return rows


REQUEST_LINE = re.compile(r'"logger": "lms\.request", "message": "(\w+) (\S+) \d{3} ([\d.]+)ms')


def server_times(log: str, count: int = 8) -> list[tuple[str, int, float, float]]:
    """(request, how many, p50, p95 ms) of the time spent inside a worker, from the request log, slowest
    p95 first: beside the times the load saw, it tells the work from the waiting."""
    times: dict[str, list[float]] = defaultdict(list)
    for method, path, ms in REQUEST_LINE.findall(log):
        times[f"{method} {re.sub(r'/[0-9]+', '/N', path)}"].append(float(ms) / 1000)
    rows = [(request, len(values), percentile(sorted(values), 0.5), percentile(sorted(values), 0.95))
            for request, values in times.items()]
    return sorted(rows, key=lambda row: -row[3])[:count]


def server_processes(gunicorn: subprocess.Popen, worker: subprocess.Popen) -> dict[str, int]:
    found = {"gunicorn master": gunicorn.pid}
    for index, pid in enumerate(sorted(children(gunicorn.pid)), 1):
        found[f"gunicorn worker {index}"] = pid
    found["rq worker (flask worker)"] = worker.pid
    return found


def wait_until_up(port: int) -> None:
    for _ in range(150):
        try:
            if Client(port).call("GET", "/livez")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError("gunicorn did not come up")


def run_load(port: int, data: dict, seconds: float, learners: int, recorder: Recorder,
             exam_tokens: list[str], think: float) -> float:
    stop_at = time.perf_counter() + seconds

    def pause(rng: random.Random, longest: float | None = None) -> bool:
        """Sleep one person's pause (or up to `longest`), cut short at the end; False once the time is up, so that
        no request starts after it (otherwise every learner would finish its exam without pauses at the end: a
        burst that no real hour has, measured as if it were part of the load)."""
        if think:
            wanted = rng.uniform(0.5 * think, 1.5 * think) if longest is None else rng.uniform(0, longest)
            time.sleep(min(wanted, max(0.0, stop_at - time.perf_counter())))
        return time.perf_counter() < stop_at
    exam = exam_work(exam_tokens)
    token_pool = itertools.cycle(data["tokens"])  # reading changes nothing: any learner will do
    pool_lock = threading.Lock()

    def learner(index: int) -> None:
        client, rng = Client(port), random.Random(index)
        # People do not start at the same moment: each begins somewhere within one round of its own requests
        # (profile, leave requests, start, 19 saves, submit). Started within the same second instead, they stay
        # in step for minutes, and 150 submits arrive in the same second every round.
        if not pause(rng, longest=LEARNER_ROUND * think):
            return
        while True:
            with pool_lock:
                reader = next(token_pool)
            status, _me, elapsed = client.call("GET", "/api/v1/me", reader)
            recorder.add("learner: profile", status, 200, elapsed)
            if not pause(rng):
                return
            status, _body, elapsed = client.call("GET", "/api/v1/me/leave-requests", reader)
            recorder.add("learner: own leave requests", status, 200, elapsed)
            if not pause(rng):
                return
            for status, expected, elapsed, label in exam(client, index):
                recorder.add(f"learner: exam {label}", status, expected, elapsed)
                if not pause(rng):
                    return

    def browsing(username: str, password: str, pages: list[str], kind: str) -> None:
        browser, rng = Browser(port, username, password), random.Random(kind)
        if kind.startswith("learner"):  # and the chapters their course list links to
            _status, page, _elapsed = browser.get("/courses/")
            pages = pages + sorted(set(re.findall(r'href="(/courses/[^"?#]+)"', page)))[:10]
        while time.perf_counter() < stop_at:
            for path in pages:
                if time.perf_counter() >= stop_at:
                    return
                status, _page, elapsed = browser.get(path)
                recorder.add(kind, status, 200, elapsed, path)
                pause(rng)

    def time_clock() -> None:
        client, batch = Client(port), 0
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            now = datetime.now(UTC) - timedelta(seconds=5)
            numbers = data["punch_numbers"][batch * PUNCH_BATCH % LEARNERS:][:PUNCH_BATCH]
            punches = [{"employee_no": number, "punched_at": now.isoformat()} for number in numbers]
            status, _body, elapsed = client.call("POST", "/api/v1/punches", data["hr_token"], {"punches": punches})
            recorder.add("time clock: punch batch", status, 201, elapsed)
            batch += 1
            time.sleep(max(0.0, 60 - (time.perf_counter() - started)))

    logins = {username: (username, password) for username, password, _role, _no in DEMO_LOGINS}
    threads = [threading.Thread(target=learner, args=(n,)) for n in range(learners)]
    threads.append(threading.Thread(target=browsing, args=(*logins["hr"], data["hr_pages"], "hr: page")))
    threads.append(threading.Thread(target=browsing, args=(*logins["manager"], data["manager_pages"],
                                                           "manager: page")))
    for role in ("employee", "newhire"):
        threads.append(threading.Thread(target=browsing, args=(*logins[role], data["learner_pages"],
                                                               "learner: page (signed in)")))
    threads.append(threading.Thread(target=time_clock))
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def bench(seconds: float, learners: int, think: float, workdir: Path) -> dict:
    url = fresh_database()
    data = prepare(url)
    port = free_port()
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": SECRET_KEY, "LMS_DATA_KEY": DATA_KEY,
           "LMS_SECURE_COOKIES": "0", "LMS_INSTANCE_DIR": str(workdir), "REDIS_URL": REDIS_URL,
           "LMS_LOGIN_LIMIT": "1000 per minute", "LMS_LOG_FORMAT": "json"}
    venv = ROOT / ".venv" / "bin"
    # The request log (a line per request) and the worker's output go to a file: a pipe nobody reads would fill.
    server_log = (workdir / "servers.log").open("w")
    gunicorn = subprocess.Popen([str(venv / "gunicorn"), "-c", str(ROOT / "gunicorn.conf.py"), "-w", "2",
                                 "-b", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"],
                                cwd=ROOT, env=env, stderr=server_log, stdout=server_log)
    worker = subprocess.Popen([str(venv / "flask"), "--app", "wsgi", "worker"], cwd=ROOT, env=env,
                              stdout=server_log, stderr=server_log)
    try:
        wait_until_up(port)
        warm = Recorder()
        # First every process imports and caches what it uses, without pauses so that both workers see every
        # page many times; the learners of the warm-up are not used again.
        run_load(port, data, 30, 12, warm, data["tokens"][:WARM_UP_LEARNERS], think=0)
        processes = server_processes(gunicorn, worker)
        memory_start = {name: resident_kib(pid) for name, pid in processes.items()}
        cpu_start = {name: cpu_seconds(pid) for name, pid in processes.items()}
        load_cpu_start, log_start = own_cpu_seconds(), (workdir / "servers.log").stat().st_size
        machine_start = machine_busy_seconds()
        recorder = Recorder()
        wall = run_load(port, data, seconds, learners, recorder, data["tokens"][WARM_UP_LEARNERS:], think)
        memory_end = {name: resident_kib(pid) for name, pid in processes.items()}
        cpu = {name: (cpu_seconds(pid) - cpu_start[name]) / wall for name, pid in processes.items()}
        cpu["load (this process)"] = (own_cpu_seconds() - load_cpu_start) / wall
        machine_end = machine_busy_seconds()
        cpu["machine"] = (machine_end[0] - machine_start[0]) / (machine_end[1] - machine_start[1])
    finally:
        for process in (gunicorn, worker):
            process.terminate()
        for process in (gunicorn, worker):
            process.wait(timeout=30)
        server_log.close()
        failures = [line for line in (workdir / "servers.log").read_text(errors="replace").splitlines()
                    if "Traceback" in line or "Error" in line or " 500 " in line]
        if failures:  # what the servers said about them, before the temporary folder goes
            print("server log, errors:", *failures[:40], sep="\n", file=sys.stderr)
    with (workdir / "servers.log").open(errors="replace") as log:
        log.seek(log_start)
        in_worker = server_times(log.read())
    return {"rows": recorder.report(wall), "slowest": recorder.slowest_pages(), "cpu": cpu, "in_worker": in_worker,
            "memory": {name: (memory_start[name], memory_end[name]) for name in processes}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--learners", type=int, default=150)
    parser.add_argument("--think", type=float, default=1.0, help="mean seconds between one person's requests")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        result = bench(args.seconds, args.learners, args.think, Path(workdir))
    when = f"{datetime.now(UTC):%Y-%m-%d %H:%M}"
    lines = [f"\n## {when} UTC — {args.seconds:.0f} s, {args.learners} learners, think {args.think:g} s, "
             f"PostgreSQL, Redis, gunicorn 2 workers, 1 RQ worker\n",
             "| request kind | requests | req/s | p50 / p95 / p99 ms | errors | target |",
             "|---|---|---|---|---|---|"]
    for row in result["rows"]:
        verdict = "PASS" if row["errors"] == 0 and row["p95"] < P95_TARGET_MS else "FAIL"
        lines.append(f"| {row['kind']} | {row['requests']} | {row['rps']:.1f} | {row['p50']:.0f} / "
                     f"{row['p95']:.0f} / {row['p99']:.0f} | {row['errors']} | {verdict} |")
        if row["samples"]:
            lines.append(f"| ↳ first errors: {'; '.join(row['samples'])} | | | | | |")
    lines += ["", "| slowest pages | requests | p50 / p95 ms |", "|---|---|---|"]
    lines += [f"| {page} | {count} | {p50:.0f} / {p95:.0f} |" for page, count, p50, p95 in result["slowest"]]
    lines += ["", "| time inside a worker (request log) | requests | p50 / p95 ms |", "|---|---|---|"]
    lines += [f"| {request} | {count} | {p50:.0f} / {p95:.0f} |" for request, count, p50, p95 in result["in_worker"]]
    lines += ["", "| process | CPU busy | RSS at start MiB | RSS at end MiB | growth | target |",
              "|---|---|---|---|---|---|"]
    lines.append(f"| the whole machine ({os.cpu_count()} CPUs) | {result['cpu'].pop('machine'):.0%} | | | | |")
    lines.append(f"| load (this process) | {result['cpu'].pop('load (this process)'):.0%} | | | | |")
    for name, (start, end) in result["memory"].items():
        growth = (end - start) / start if start else float("nan")
        verdict = "PASS" if growth < GROWTH_TARGET else "FAIL"
        lines.append(f"| {name} | {result['cpu'][name]:.0%} | {start / 1024:.1f} | {end / 1024:.1f} | {growth:+.1%} "
                     f"| {verdict} |")
    print("\n".join(lines), flush=True)
    if not RESULTS.exists():
        RESULTS.write_text("# Mixed load benchmark\n\nCommand: `.venv/bin/python benchmarks/mixed_load.py` "
                           "(10 minutes by default). See the script's docstring for the load. Targets: 0 errors, "
                           "p95 < 200 ms for every request kind, resident memory growth < 10 % per process.\n")
    with RESULTS.open("a") as handle:
        handle.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
