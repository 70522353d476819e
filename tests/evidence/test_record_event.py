"""Appending events: canonical bodies, hash links, validation, and the database's refusal to rewrite."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DatabaseError

from lms import clock
from lms.evidence import record, services
from lms.evidence.models import EvidenceEvent
from lms.extensions import db
from lms.people.models import Department

AT = datetime(2026, 6, 15, 3, 0, tzinfo=UTC)


def test_events_chain_by_hash_over_canonical_json(app, org):
    head_seq, head_hash = services.chain_head()  # creating the named people left events already
    with clock.frozen(AT):
        first = record("people.imported", "employee:1", {"b": 2, "a": "王芳"}, actor=org.users["hr"])
        second = record("people.imported", "employee:2", {"count": 1})
    db.session.commit()
    assert (first.seq, second.seq) == (head_seq + 1, head_seq + 2)
    assert first.prev_hash == head_hash and second.prev_hash == first.hash
    assert (second.kind, second.subject, second.occurred_at) == ("people.imported", "employee:2", AT)
    hr_id = org.users["hr"].id
    expected = (f'{{"actor":"user:{hr_id}","kind":"people.imported","occurred_at":"2026-06-15T03:00:00.000000Z",'
                f'"payload":{{"a":"王芳","b":2}},"prev_hash":"{head_hash}","seq":{head_seq + 1},'
                f'"subject":"employee:1"}}')
    assert first.body == expected
    assert first.hash == hashlib.sha256(expected.encode("utf-8")).hexdigest()
    assert second.actor == "system"
    assert first.payload == {"a": "王芳", "b": 2}


def test_dates_and_amounts_have_one_spelling_and_other_objects_are_refused(app):
    event = record("absence.counted", "case:1", {"day": date(2026, 6, 15), "amount": Decimal("12.50"),
                                                  "at": datetime(2026, 6, 15, 11, 0, tzinfo=UTC)})
    payload = json.loads(event.body)["payload"]
    assert payload == {"day": "2026-06-15", "amount": "12.50", "at": "2026-06-15T11:00:00.000000Z"}
    with pytest.raises(TypeError):
        record("absence.counted", "case:1", {"oops": object()})
    with pytest.raises(ValueError):
        record("Bad Kind!", "case:1", {})


def test_an_event_rolls_back_with_its_transaction(app):
    record("people.imported", "employee:1", {})
    db.session.rollback()
    assert services.count_events() == 0
    assert record("people.imported", "employee:1", {}).seq == 1


def test_a_transaction_locks_the_chain_once_however_many_events_and_flushes_it_holds(app, org, count_statements):
    with count_statements() as statements:
        record("people.imported", "employee:1", {})
        db.session.add(Department(name="事件之间的冲刷"))
        db.session.flush()
        record("people.imported", "employee:2", {})
    locks = [sql for sql in statements if sql.startswith("UPDATE evidence_append_lock")]
    assert len(locks) == 1, statements
    savepoint = db.session.begin_nested()
    record("people.imported", "employee:3", {})
    savepoint.rollback()  # the appended event is gone with the savepoint: the next one must not chain to it
    third = record("people.imported", "employee:4", {})
    db.session.commit()
    assert third.seq == services.chain_head()[0] and services.verify_chain().ok


def test_bulk_append_chains_like_single_appends(app):
    record("people.imported", "employee:1", {})
    written = services.record_many(("exam.graded", f"employee:{i}", {"score": i}) for i in range(2, 12))
    db.session.commit()
    assert written == 10
    assert services.chain_head()[0] == 11
    assert services.verify_chain().ok


@pytest.mark.parametrize("statement", [
    "UPDATE evidence_event SET hash = 'x'",
    "DELETE FROM evidence_event",
])
def test_the_database_refuses_to_update_or_delete_events(app, statement):
    record("people.imported", "employee:1", {})
    db.session.commit()
    with pytest.raises(DatabaseError) as caught:
        db.session.execute(text(statement))
        db.session.flush()
    assert "append-only" in str(caught.value)
    db.session.rollback()
    assert db.session.scalar(select(func.count(EvidenceEvent.seq))) == 1


def test_truncate_is_refused_on_postgresql(postgres_app):
    record("people.imported", "employee:1", {})
    db.session.commit()
    with pytest.raises(DatabaseError) as caught:
        db.session.execute(text("TRUNCATE evidence_event"))
    assert "append-only" in str(caught.value)
    db.session.rollback()
    assert services.count_events() == 1
