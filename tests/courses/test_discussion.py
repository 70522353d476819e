"""Discussion under scenario and case courses; HR hides a post with who and why, never deletes it."""

from __future__ import annotations

from sqlalchemy import select

from lms.courses import services
from lms.courses.models import Course, Post
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db


def test_post_reply_and_hide(login_as, content, org):
    content.sync()
    course = db.session.scalars(select(Course).where(Course.slug == "urgent")).one()
    services.enrol([org.learner.id, org.colleague.id], course.id, source="hr")
    learner = login_as("learner")
    assert learner.post("/courses/urgent/discussion", data={"body": "我会先给领导打电话。"}).status_code == 302
    first = db.session.scalars(select(Post)).one()
    colleague = login_as("outsider")
    assert colleague.get("/courses/urgent/discussion").status_code == 404  # not enrolled
    reply = login_as("hr").post("/courses/urgent/discussion", data={"body": "很好。", "parent_id": str(first.id)})
    assert reply.status_code == 302
    assert login_as("learner").post(f"/courses/posts/{first.id}/hide", data={"reason": "x"}).status_code == 403
    assert login_as("hr").post(f"/courses/posts/{first.id}/hide",
                               data={"reason": "含有同事的电话号码"}).status_code == 302
    db.session.expire_all()
    assert first.hidden_at is not None and first.hidden_by == f"user:{org.users['hr'].id}"
    assert db.session.get(Post, first.id) is not None  # kept
    page = learner.get("/courses/urgent/discussion").get_data(as_text=True)
    assert "我会先给领导打电话" not in page and "Hidden by HR" in page and "含有同事" not in page
    assert "含有同事" in login_as("hr").get("/courses/urgent/discussion").get_data(as_text=True)
    hidden = db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "courses.post_hidden")).one()
    assert hidden.payload["reason"] == "含有同事的电话号码"


def test_handbooks_have_no_discussion(login_as, content):
    content.sync()
    assert login_as("hr").get("/courses/handbook/discussion").status_code == 404
