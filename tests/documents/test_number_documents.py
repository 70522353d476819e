"""Numbers: RTW-<year>-<6 digits>, per kind prefix and year, without gaps."""

from __future__ import annotations

from datetime import datetime

from lms import clock
from lms.documents import services
from lms.extensions import db


def test_numbers_count_per_prefix_and_year_without_gaps(app):
    with clock.frozen(clock.as_utc(datetime(2026, 6, 18, 10, 0))):
        assert [services.next_number("return_to_work", 2026) for _ in range(3)] == [
            "RTW-2026-000001", "RTW-2026-000002", "RTW-2026-000003"]
        assert services.next_number("termination", 2026) == "TRM-2026-000001"
        assert services.next_number("return_to_work", 2027) == "RTW-2027-000001"
    db.session.rollback()  # a number taken in a transaction that rolls back is given again
    assert services.next_number("return_to_work", 2026) == "RTW-2026-000001"
    db.session.commit()
    assert services.next_number("return_to_work", 2026) == "RTW-2026-000002"
    db.session.commit()


def test_concurrent_issues_never_share_or_skip_a_number(app):
    import threading

    numbers, errors = [], []

    def take(count: int) -> None:
        with app.app_context():
            try:
                for _ in range(count):
                    numbers.append(services.next_number("return_to_work", 2026))
                    db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=take, args=(10,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(numbers) == [f"RTW-2026-{n:06d}" for n in range(1, 41)]
