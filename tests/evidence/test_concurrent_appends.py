"""Appenders in parallel processes never fork the chain or reuse a sequence number."""

from __future__ import annotations

import multiprocessing

from lms import create_app
from lms.evidence import record, services
from lms.extensions import db
from tests.conftest import make_test_config

PROCESSES, EACH = 4, 25


def _append_many(url: str, worker: int, start) -> None:
    app = create_app(make_test_config(url))
    with app.app_context():
        start.wait()
        for number in range(EACH):
            record("test.appended", f"worker:{worker}", {"n": number})
            db.session.commit()
        db.engine.dispose()


def _run_in_parallel(url: str) -> None:
    context = multiprocessing.get_context("spawn")
    start = context.Event()
    workers = [context.Process(target=_append_many, args=(url, n, start)) for n in range(PROCESSES)]
    for process in workers:
        process.start()
    start.set()
    for process in workers:
        process.join(timeout=120)
        assert process.exitcode == 0


def _assert_one_unbroken_chain() -> None:
    report = services.verify_chain(save=False)
    assert report.ok, report.problem
    assert report.length == PROCESSES * EACH


def test_parallel_appends_on_postgresql(postgres_app, postgres_url):
    _run_in_parallel(postgres_url)
    _assert_one_unbroken_chain()


def test_parallel_appends_on_the_suite_database(app, _migrated):
    _run_in_parallel(_migrated)
    _assert_one_unbroken_chain()
