"""Taking an exam through the API with a personal token; the key stays on the server until submission."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms import clock
from lms.evidence.models import EvidenceEvent
from lms.exams import services
from lms.extensions import db
from lms.people import services as people
from lms.people.models import ApiToken
from tests.conftest import PASSWORD
from tests.exams.test_take_exam import right_answers


@pytest.fixture
def exam(app, content):
    content.sync()
    return services.current_exam("onboarding")


def personal(client, username="learner") -> dict:
    response = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
    assert response.status_code == 201, response.json
    return {"Authorization": f"Bearer {response.json['token']}"}


def test_start_save_submit_and_fetch_the_result_and_certificate(client, exam, org):
    headers = personal(client)
    started = client.post("/api/v1/exams/onboarding/attempts", headers=headers)
    assert started.status_code == 201
    body = started.json
    raw = json.dumps(body)
    assert '"correct"' not in raw and '"explanation"' not in raw and '"answer"' not in raw
    attempt = services.attempts_of(org.learner.id, "onboarding")[0]
    answers = {k: v for item in attempt.paper for k, v in right_answers(item).items()}
    saved = client.put(f"/api/v1/attempts/{body['id']}/answers", json={"answers": answers}, headers=headers)
    assert saved.status_code == 200 and saved.json["answers"] == {k: sorted(v) for k, v in answers.items()}
    assert client.get(f"/api/v1/attempts/{body['id']}/result", headers=headers).status_code == 409
    result = client.post(f"/api/v1/attempts/{body['id']}/submit", json={}, headers=headers)
    assert result.status_code == 200
    assert (result.json["score"], result.json["passed"]) == ("100.0", True)
    assert result.json["certificate"]["number"].startswith("LMS-")
    again = client.post(f"/api/v1/attempts/{body['id']}/submit", json={"answers": {}}, headers=headers)
    assert again.json["score"] == "100.0" and again.json["submitted_at"] == result.json["submitted_at"]
    fetched = client.get(f"/api/v1/attempts/{body['id']}/result", headers=headers).json
    assert "explanation" in json.dumps(fetched)
    refused = client.post("/api/v1/exams/onboarding/attempts", headers=headers)
    assert refused.status_code == 409
    assert refused.json["error"] == {"status": 409, "message": "You have already passed this exam.", "field": "passed"}


def test_bad_answers_and_closed_attempts_are_refused(client, exam, org):
    headers = personal(client)
    start = clock.now()
    with clock.frozen(start):
        attempt_id = client.post("/api/v1/exams/onboarding/attempts", headers=headers).json["id"]
        bad = client.put(f"/api/v1/attempts/{attempt_id}/answers", json={"answers": {"99": ["1"]}}, headers=headers)
        assert bad.status_code == 422 and bad.json["error"]["field"] == "answers.99"
    slot = services.attempts_of(org.learner.id, "onboarding")[0].slots[0]  # "1", or "1.p1" for a scenario
    with clock.frozen(start + timedelta(hours=1)):
        late = client.put(f"/api/v1/attempts/{attempt_id}/answers", json={"answers": {slot: ["1"]}}, headers=headers)
        assert late.status_code == 409


def test_tokens_act_only_as_their_person(client, exam, org):
    assert client.post("/api/v1/auth/token", json={"username": "learner", "password": "nope"}).status_code == 401
    mine = personal(client)
    attempt_id = client.post("/api/v1/exams/onboarding/attempts", headers=mine).json["id"]
    other = personal(client, "outsider")
    assert client.get(f"/api/v1/attempts/{attempt_id}", headers=other).status_code == 404
    integration = {"Authorization": f"Bearer {people.create_api_token('hris', 'hr')[1]}"}
    assert client.post("/api/v1/exams/onboarding/attempts", headers=integration).status_code == 403
    assert client.post("/api/v1/exams/nope/attempts", headers=mine).status_code == 404


def test_a_personal_token_expires(client, exam, org):
    start = clock.now()
    with clock.frozen(start):
        headers = personal(client)
    with clock.frozen(start + timedelta(hours=13)):
        assert client.post("/api/v1/exams/onboarding/attempts", headers=headers).status_code == 401


def test_a_revoked_token_or_a_disabled_account_is_refused_on_the_next_save(client, exam, org):
    headers = personal(client)
    attempt_id = client.post("/api/v1/exams/onboarding/attempts", headers=headers).json["id"]
    save = {"answers": {services.attempts_of(org.learner.id, "onboarding")[0].slots[0]: ["1"]}}
    assert client.put(f"/api/v1/attempts/{attempt_id}/answers", json=save, headers=headers).status_code == 200
    org.users["learner"].is_enabled = False
    db.session.commit()
    assert client.put(f"/api/v1/attempts/{attempt_id}/answers", json=save, headers=headers).status_code == 401
    org.users["learner"].is_enabled = True
    db.session.commit()
    assert client.put(f"/api/v1/attempts/{attempt_id}/answers", json=save, headers=headers).status_code == 200
    token = db.session.scalars(select(ApiToken).where(ApiToken.user_id == org.users["learner"].id)).one()
    people.revoke_api_token(token.id)
    assert client.put(f"/api/v1/attempts/{attempt_id}/answers", json=save, headers=headers).status_code == 401
    assert client.post(f"/api/v1/attempts/{attempt_id}/submit", json={}, headers=headers).status_code == 401


def test_the_token_is_the_actor_of_the_exam_evidence(client, exam, org):
    headers = personal(client)
    attempt_id = client.post("/api/v1/exams/onboarding/attempts", headers=headers).json["id"]
    client.post(f"/api/v1/attempts/{attempt_id}/submit", json={}, headers=headers)
    token = db.session.scalars(select(ApiToken).where(ApiToken.user_id == org.users["learner"].id)).one()
    actors = {event.kind: event.actor for event in db.session.scalars(select(EvidenceEvent))
              if event.kind.startswith("exams.attempt_")}
    assert actors == {"exams.attempt_started": f"api-token:{token.id}",
                      "exams.attempt_submitted": f"api-token:{token.id}"}
