"""National ID numbers: encrypted at rest, masked for all but HR, every unmasked view recorded."""

from __future__ import annotations

from sqlalchemy import func, select, text

from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db
from lms.people import sensitive

NUMBER = "110105199003071239"
MASKED = "1101**********1239"


def test_the_number_is_not_stored_in_clear(app, org):
    stored = db.session.execute(text("SELECT national_id_encrypted, national_id_digest FROM employee "
                                     "WHERE id = :id"), {"id": org.learner.id}).one()
    assert NUMBER not in stored[0] and NUMBER not in stored[1]
    assert sensitive.decrypt(stored[0]) == NUMBER


def test_a_different_key_cannot_read_it(app, org):
    token = org.learner.national_id_encrypted
    app.config["LMS_DATA_KEY"] = "another-key"
    try:
        sensitive.decrypt(token)
    except RuntimeError as exc:
        assert "LMS_DATA_KEY" in str(exc)
    else:
        raise AssertionError("decrypted with the wrong key")


def test_managers_admins_and_the_employee_see_it_masked(login_as, org):
    for who in ("learner", "manager", "admin"):
        page = login_as(who).get(f"/people/employees/{org.learner.id}").get_data(as_text=True)
        assert MASKED in page and NUMBER not in page
        assert "Show the full number" not in page


def test_hr_can_reveal_it_and_the_view_is_recorded(login_as, org):
    client = login_as("hr")
    page = client.get(f"/people/employees/{org.learner.id}").get_data(as_text=True)
    assert MASKED in page and NUMBER not in page
    response = client.post(f"/people/employees/{org.learner.id}/national-id",
                           headers={"User-Agent": "pytest-browser"})
    assert response.status_code == 200
    assert NUMBER in response.get_data(as_text=True)
    view = db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "people.national_id_viewed")).one()
    assert (view.kind, view.actor, view.subject) == (
        "people.national_id_viewed", f"user:{org.users['hr'].id}", f"employee:{org.learner.id}")
    assert (view.payload["field"], view.payload["user_agent"]) == ("national_id", "pytest-browser")
    log = client.get("/people/sensitive-views").get_data(as_text=True)
    assert "王芳" in log and "hr" in log


def test_nobody_else_can_reveal_it(login_as, org):
    for who in ("learner", "manager", "admin"):
        response = login_as(who).post(f"/people/employees/{org.learner.id}/national-id")
        assert response.status_code == 403
    viewed = select(func.count(EvidenceEvent.seq)).where(body_field("kind") == "people.national_id_viewed")
    assert db.session.scalar(viewed) == 0


def test_masking_and_validation_rules():
    assert sensitive.mask(NUMBER) == MASKED
    assert sensitive.mask_mobile("13812345678") == "138****5678"
    assert sensitive.national_id_problem(NUMBER) is None
    assert sensitive.national_id_problem("110105199003071230") == "checksum"
    assert sensitive.national_id_problem("110105199002301234") == "birth_date"
    assert sensitive.national_id_problem("12345") == "format"
