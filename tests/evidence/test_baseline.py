"""The baseline of `flask evidence verify` cannot be reset (issue 19, item 2): it is the last intact
verification, the verification record is append-only and chained into the evidence log, and a head line
kept outside the database is checked with `verify --against`."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from lms.evidence import record, services
from lms.evidence.models import EvidenceEvent, EvidenceVerification, body_field
from lms.extensions import db
from tests.conftest import guards_lifted


@pytest.fixture
def chain(app):
    for number in range(1, 7):
        record("exam.graded", f"employee:{number}", {"score": 80 + number})
    db.session.commit()


def _verify(runner, *args):
    return runner.invoke(args=["evidence", "verify", *args])


def test_a_second_run_after_a_cut_still_fails(runner, chain):
    assert _verify(runner).exit_code == 0
    with guards_lifted() as conn:  # the last event, and the verification's own event after it
        conn.execute(text("DELETE FROM evidence_event WHERE seq >= 6"))
    first, second = _verify(runner), _verify(runner)
    assert first.exit_code == 1 and "saw 6 events" in first.output
    # The failed run logged itself as event 6: not the event 6 the intact run saw.
    assert second.exit_code == 1 and "BROKEN at event 6: hash" in second.output, second.output
    assert services.last_intact_verification().chain_length == 6


def test_each_verification_is_an_event_holding_the_head_it_saw(runner, chain):
    length, head = services.chain_head()
    assert _verify(runner).exit_code == 0
    event = db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "evidence.verified")).one()
    verification = services.latest_verification()
    assert event.seq == length + 1
    assert event.payload == {"verification_id": verification.id, "chain_length": length, "head_hash": head,
                             "is_intact": True, "broken_seq": None}


@pytest.mark.parametrize("statement", ["UPDATE evidence_verification SET is_intact = false",
                                       "DELETE FROM evidence_verification"])
def test_the_verification_record_is_append_only(runner, chain, statement):
    assert _verify(runner).exit_code == 0
    with pytest.raises(DBAPIError, match="append-only"), db.engine.begin() as conn:
        conn.execute(text(statement))
    assert db.session.scalar(select(EvidenceVerification.is_intact)) is True


@pytest.mark.parametrize("tamper", [
    "DELETE FROM evidence_verification",  # no baseline left for the next run
    "UPDATE evidence_verification SET chain_length = 5, head_hash = '" + "a" * 64 + "'",  # a shorter one
])
def test_removing_or_rewriting_the_verification_record_is_detected(runner, chain, tamper):
    assert _verify(runner).exit_code == 0
    with guards_lifted() as conn:  # a superuser, with the triggers off
        conn.execute(text(tamper))
    result = _verify(runner)
    assert result.exit_code == 1 and "lacks the intact verification logged at event 7" in result.output, \
        result.output
    assert _verify(runner).exit_code == 1  # and a second run does not make it pass


def test_an_exported_head_line_is_checked_against_the_chain(runner, chain):
    exported = _verify(runner, "--export-head")
    assert exported.exit_code == 0
    line = exported.output.strip().splitlines()[-1]
    seq, digest = services.chain_head()
    assert line.startswith(f"lms-evidence-head seq={seq} hash={digest} at=")
    record("exam.graded", "employee:9", {"score": 70})
    db.session.commit()
    assert _verify(runner, "--against", line).exit_code == 0
    # Everything inside the database rewritten consistently from event 5 on: the chain links, the record
    # of verifications agrees — only the line kept outside knows.
    with guards_lifted() as conn:
        conn.execute(text("DELETE FROM evidence_event WHERE seq >= 5"))
        conn.execute(text("DELETE FROM evidence_verification"))
    assert _verify(runner).exit_code == 0  # no verification left to compare with, none in the chain
    result = _verify(runner, "--against", line)
    assert result.exit_code == 1 and f"event {seq} named by the head line is missing" in result.output
    assert _verify(runner, "--against", "seq=1 hash=abc").exit_code == 1


def test_the_head_line_round_trips_through_json_tools(app, chain):
    line = services.head_line()
    assert services.check_head_line(json.loads(json.dumps(line))) is None
