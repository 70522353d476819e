"""Issuing a notice reads each of the case's facts in one query: the statements it takes do not grow with
the case's counted days or its messages (benchmarks/notices.py measures the time; this keeps the shape)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from lms.absence import notices
from lms.absence.models import AbsenceCase
from lms.documents.models import DocumentCounter
from lms.extensions import db
from lms.notify.models import Message
from lms.notify.services import send
from lms.people.models import User
from tests.absence.conftest import add_leave, everyone_present, run_ticks, switch_on
from tests.documents.conftest import at

# What one notice takes today (SQLite and PostgreSQL alike): the case's days, the threshold's inputs (rules,
# calendar, shifts, rosters, countable days), the messages, the training, the template, the number, the
# document, the evidence, the to-dos, the in-app message. A new query per issue is a choice to make here.
STATEMENTS = 28


def _issue(case_id: int, hr_id: int, counting) -> tuple[list[str], int]:
    """(the statements one issue runs, from a session that holds nothing as a request starts; the counted days)."""
    db.session.expunge_all()
    case, hr = db.session.get(AbsenceCase, case_id), db.session.get(User, hr_id)
    with at(datetime(2026, 6, 18, 10, 0)), counting() as seen:
        notices.issue_return_notice(case, hr, dispatch_on=date(2026, 6, 19))
    return seen, len(case.counted_days)


def test_issuing_takes_the_same_statements_however_long_the_case(app, org, content, count_statements):
    switch_on(content)
    # The learner is absent 6.15–6.17 (the seed); the colleague from 6.10: a longer case, more messages.
    add_leave(org.learner, date(2026, 6, 1), date(2026, 6, 14))
    add_leave(org.colleague, date(2026, 6, 1), date(2026, 6, 9))
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 19), but=[org.learner, org.colleague])
    run_ticks(datetime(2026, 6, 10, 10, 0), datetime(2026, 6, 18, 1, 0))
    short, long = (db.session.scalars(select(AbsenceCase).where(AbsenceCase.employee_id == person.id)).one()
                   for person in (org.learner, org.colleague))
    assert short.state == long.state == "threshold_reached"
    # More of the employee's messages on the long case, each with its deliveries.
    for n in range(6):
        send(f"absence:{long.id}:reminder:2026-06-{n + 1:02d}:employee", org.colleague, "absence_notice", {
            "employee_name": org.colleague.name, "number": f"X{n}", "deadline": "2026-06-25", "days": [],
            "case_id": long.id}, ("inapp", "sms"), evidence_subject=f"case:{long.id}")
    messages = {case.id: db.session.scalar(select(db.func.count(Message.id)).where(
        Message.evidence_subject == f"case:{case.id}", Message.recipient_id == case.employee_id))
        for case in (short, long)}
    assert messages[long.id] > messages[short.id] + 5
    db.session.add(DocumentCounter(prefix="RTW", year=2026, last=0))  # the year's counter exists already
    db.session.commit()
    hr_id, short_id, long_id = org.users["hr"].id, short.id, long.id

    short_statements, short_days = _issue(short_id, hr_id, count_statements)
    long_statements, long_days = _issue(long_id, hr_id, count_statements)

    assert long_days > short_days
    assert len(long_statements) == len(short_statements), "\n".join(
        s.split("\n")[0][:120] for s in long_statements)
    assert len(short_statements) <= STATEMENTS, "\n".join(s.split("\n")[0][:120] for s in short_statements)
