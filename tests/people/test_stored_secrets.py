"""What a leaked or edited database gives away (docs/security.md): bearer tokens are kept only as their SHA-256
and stop working when revoked or disabled; an uploaded file, once kept as evidence, cannot be changed."""

from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import select, text

from lms.documents import files
from lms.documents.models import StoredFile
from lms.extensions import db
from lms.people import services
from lms.people.models import ApiToken
from tests.conftest import auth


def test_tokens_are_kept_only_as_their_digest_and_a_revoked_one_is_refused(app, client, org):
    token, plain = services.create_api_token("hris", "hr")
    _personal, personal_plain = services.issue_personal_token(org.users["learner"])
    rows = db.session.execute(text("SELECT * FROM api_token")).all()
    stored = " ".join(str(value) for row in rows for value in row)
    assert plain not in stored and personal_plain not in stored
    assert hashlib.sha256(plain.encode()).hexdigest() in stored
    assert client.get("/api/v1/employees", headers=auth(plain)).status_code == 200
    services.revoke_api_token(token.id)
    assert client.get("/api/v1/employees", headers=auth(plain)).status_code == 401


def test_a_disabled_persons_token_stops_working(app, client, org):
    _token, plain = services.issue_personal_token(org.users["learner"])
    assert client.get("/api/v1/me", headers=auth(plain)).status_code == 200
    org.users["learner"].is_enabled = False
    db.session.commit()
    assert client.get("/api/v1/me", headers=auth(plain)).status_code == 401
    assert db.session.scalars(select(ApiToken).where(ApiToken.user_id == org.users["learner"].id)).one()


def test_a_stored_file_never_changes(app):
    stored = files.store(b"%PDF-1.4 signed receipt", "receipt.pdf", "hr:test")
    db.session.commit()
    stored.data = b"%PDF-1.4 another receipt"
    with pytest.raises(files.FileRefused, match="never changes"):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(StoredFile, stored.id).data == b"%PDF-1.4 signed receipt"
