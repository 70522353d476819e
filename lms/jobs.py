"""Background work and the scheduler pass.

`enqueue(func, *args)` hands work to RQ when REDIS_URL is set and runs it in-process
otherwise; `hand_off` does the same for work a tick finds again, and shrugs off Redis being down.
Jobs take ids and plain values, never ORM objects, and are safe to retry.

Periodic work is a *tick handler*: a function of the current instant that does whatever is
due as of then, judged from database state. `run_tick()` calls every registered handler
that is due; `flask tick --at …` runs one pass at a chosen instant, and `flask worker`
enqueues a pass every LMS_TICK_SECONDS. One pass at a time: a pass that finds another running
(two `flask tick`, a worker's pass and a cron's) does nothing and says so (`one_pass_at_a_time`).
"""

from __future__ import annotations

import contextlib
import fcntl
import importlib
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

import click
from flask import Flask, current_app
from sqlalchemy import String, text
from sqlalchemy.orm import Mapped, mapped_column

from lms import clock
from lms.extensions import db
from lms.sqltypes import UTCDateTime

log = logging.getLogger(__name__)

# Domain modules whose import registers tick handlers (each domain's jobs.py).
HANDLER_MODULES: tuple[str, ...] = ("lms.notify.jobs", "lms.exams.jobs", "lms.absence.jobs",
                                 "lms.requests.jobs", "lms.campaigns.jobs", "lms.insurance.jobs")
SCHEDULER = "scheduler"  # the TickRun row every pass updates: proof the scheduler is alive
TICK_LOCK_KEY = 0x4C4D5354  # PostgreSQL advisory lock held by the running pass ("LMST")


class TickRun(db.Model):
    """When each tick handler (and the scheduler itself) last ran, and whether its last attempt failed.

    A handler that raises keeps its `last_run_at` (so the next pass tries it again) and records
    `last_failed_at` and the error; a later success clears the error. Health reads these rows.
    """

    handler: Mapped[str] = mapped_column(String(80), primary_key=True)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: it has failed every time
    last_failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))  # None once it succeeds again

    @property
    def is_failing(self) -> bool:
        return self.last_error is not None


@dataclass(frozen=True)
class TickHandler:
    name: str
    func: Callable[[datetime], object]
    every: timedelta


_handlers: dict[str, TickHandler] = {}


def tick_handler(name: str, every: timedelta = timedelta(minutes=1)):
    """Register `func(now)` to run on each scheduler pass at most once per `every`."""

    def decorator(func):
        _handlers[name] = TickHandler(name, func, every)
        return func

    return decorator


def unregister(name: str) -> None:
    _handlers.pop(name, None)


def handlers() -> list[TickHandler]:
    for module in HANDLER_MODULES:
        importlib.import_module(module)
    return sorted(_handlers.values(), key=lambda h: h.name)


def _is_due(handler: TickHandler, last: datetime | None, at: datetime) -> bool:
    # A pass earlier than the last one (a replay, a demo moving the clock back) also runs.
    return last is None or at >= last + handler.every or at < last


class TickResult(list):
    """The names of the handlers a pass ran (a list, as before), `failed`: those that raised, and
    `busy`: True when another pass was running, so this one did nothing."""

    def __init__(self, ran=(), failed=(), busy: bool = False):
        super().__init__(ran)
        self.failed = list(failed)
        self.busy = busy


@contextlib.contextmanager
def one_pass_at_a_time() -> Iterator[bool]:
    """Yield True if this process may run the scheduler pass now, False if another pass holds it.

    PostgreSQL: a session advisory lock on a connection of its own, held for the whole pass; the
    server frees it when the connection ends, so a pass killed mid-way blocks nobody. SQLite lives
    on one machine: an exclusive `flock` on a file beside the database, freed by the kernel when the
    process ends. (Not SQLite's own write lock: held for a pass, it would stall every request's write.)
    """
    engine = db.engine
    if engine.dialect.name == "postgresql":
        connection = engine.connect()
        held = False
        try:
            held = bool(connection.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": TICK_LOCK_KEY}))
            connection.commit()
            yield held
        finally:
            try:
                if held:
                    connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": TICK_LOCK_KEY})
                    connection.commit()
            except Exception:  # the server went away with the lock: this connection is of no further use
                connection.invalidate()
            connection.close()
        return
    database = engine.url.database
    if not database or database == ":memory:":  # a private in-memory database: no other process sees it
        yield True
        return
    with open(f"{database}.tick-lock", "a") as lock_file:
        try:
            fcntl.flock(lock_file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def run_tick(at_iso: str | None = None) -> TickResult:
    """One scheduler pass as of `at_iso` (default now): run each due handler, return their names.

    A handler that raises is logged with its name and recorded on its TickRun row (health reports
    it); the pass goes on with the others, and the failed handler, not marked as run, is tried
    again on the next pass. While another pass runs, this one scans nothing: it logs so and
    returns an empty result with `busy` set.
    """
    at = clock.as_utc(datetime.fromisoformat(at_iso)) if at_iso else clock.now()
    with one_pass_at_a_time() as alone:
        if not alone:
            log.warning("scheduler pass at %s: another pass is running, this one does nothing", at.isoformat())
            return TickResult(busy=True)
        return _run_handlers(at)


def _run_handlers(at: datetime) -> TickResult:
    result = TickResult()
    with clock.frozen(at):
        for handler in handlers():
            state = db.session.get(TickRun, handler.name)
            if not _is_due(handler, state.last_run_at if state else None, at):
                continue
            try:
                handler.func(at)
            except Exception as exc:
                db.session.rollback()
                log.exception("tick handler %s failed at %s", handler.name, at.isoformat())
                _record_failure(handler.name, at, exc)
                result.failed.append(handler.name)
                continue
            state = db.session.get(TickRun, handler.name) or TickRun(handler=handler.name)
            state.last_run_at, state.last_error = at, None
            db.session.add(state)
            db.session.commit()
            result.append(handler.name)
        db.session.merge(TickRun(handler=SCHEDULER, last_run_at=at))
        db.session.commit()
    return result


def _record_failure(name: str, at: datetime, exc: Exception) -> None:
    try:
        state = db.session.get(TickRun, name) or TickRun(handler=name)
        state.last_failed_at = at
        state.last_error = f"{type(exc).__name__}: {exc}"[:500]
        db.session.add(state)
        db.session.commit()
    except Exception:  # the database itself is failing: the log has it, the heartbeat will show it
        db.session.rollback()
        log.exception("could not record the failure of tick handler %s", name)


def enqueue(func: Callable, *args, **kwargs):
    """Run `func(*args)` on the RQ queue if Redis is configured, else right now in-process."""
    redis_url = current_app.config.get("REDIS_URL")
    if not redis_url:
        return func(*args, **kwargs)
    return queue(redis_url).enqueue(func, *args, **kwargs)


def hand_off(func: Callable, *args) -> bool:
    """`enqueue()` for work the database already holds and a tick handler finds again if its job is lost
    (a delivery: `notify.due_deliveries`). Redis unreachable is then no reason to fail the request that
    made the work: it is logged and False returned; the tick hands it on once Redis is back."""
    from redis.exceptions import RedisError

    try:
        enqueue(func, *args)
    except RedisError as exc:
        log.warning("Redis did not take %s%r (%s); the next tick hands it on", func.__name__, args, exc)
        return False
    return True


def queue(redis_url: str):
    from redis import Redis
    from rq import Queue

    return Queue("default", connection=Redis.from_url(redis_url))


def _worker_class(app: Flask):
    from rq import Worker

    class AppWorker(Worker):
        """Each job runs in a forked horse with its own app context and fresh DB connections."""

        def main_work_horse(self, job, queue):
            with app.app_context():
                # The parent's pooled connections must not be shared with the child.
                db.engine.dispose(close=False)
                super().main_work_horse(job, queue)

    return AppWorker


def _ticker(app: Flask, stop: threading.Event) -> None:
    """Enqueue a scheduler pass every LMS_TICK_SECONDS; a Redis lock keeps it to one per cluster.

    Redis down is logged and tried again next time (the thread outlives the outage); the pass itself
    is also guarded in the database (`one_pass_at_a_time`), so a lapsed Redis key cannot run two.
    """
    from redis import Redis
    from redis.exceptions import RedisError

    seconds = app.config["LMS_TICK_SECONDS"]
    redis = Redis.from_url(app.config["REDIS_URL"])
    while not stop.is_set():
        try:
            if redis.set("lms:tick-lock", "1", nx=True, ex=max(seconds - 1, 1)):
                queue(app.config["REDIS_URL"]).enqueue(run_tick)
        except RedisError as exc:
            log.warning("the scheduler could not reach Redis (%s); it tries again in %s s", exc, seconds)
        stop.wait(seconds)


def register_job_commands(app: Flask) -> None:
    @app.cli.command("tick")
    @click.option("--at", "at_iso", help="ISO-8601 instant to run the pass as of (default: now).")
    @click.option("--every", type=int, default=None,
                  help="Keep running a pass every N seconds (the embedded scheduler of `make run`).")
    def tick_command(at_iso: str | None, every: int | None):
        """Run one scheduler pass: every tick handler that is due."""
        if at_iso:
            try:
                datetime.fromisoformat(at_iso)
            except ValueError as exc:
                raise click.BadParameter(f"not an ISO-8601 time: {at_iso}", param_hint="--at") from exc
        while True:
            result = run_tick(at_iso)
            if result.busy:
                click.echo(f"tick at {at_iso or clock.now().isoformat()}: another pass is running; "
                           "this one did nothing")
                if not every or at_iso:
                    return
                time.sleep(every)
                continue
            failed = f"; FAILED {', '.join(result.failed)} (see the log)" if result.failed else ""
            click.echo(f"tick at {at_iso or clock.now().isoformat()}: "
                       f"ran {', '.join(result) if result else 'nothing due'}{failed}")
            if not every or at_iso:
                if result.failed:
                    sys.exit(1)
                return
            time.sleep(every)

    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="Stop when the queue is empty (no scheduler).")
    @click.option("--no-tick", is_flag=True, help="Do not enqueue the periodic scheduler pass.")
    def worker_command(burst: bool, no_tick: bool):
        """Run an RQ worker (REDIS_URL required) plus the once-a-minute scheduler pass."""
        redis_url = app.config.get("REDIS_URL")
        if not redis_url:
            raise click.UsageError("REDIS_URL is not set: without Redis, jobs run in-process.")
        from redis import Redis

        stop = threading.Event()
        if not burst and not no_tick:
            threading.Thread(target=_ticker, args=(app, stop), daemon=True, name="lms-ticker").start()
        worker = _worker_class(app)(["default"], connection=Redis.from_url(redis_url))
        try:
            worker.work(burst=burst, with_scheduler=not burst)
        finally:
            stop.set()
