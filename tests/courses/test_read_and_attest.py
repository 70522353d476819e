"""Reading chapters, 知悉确认 with the exact text's hash, completion, and re-attestation on change."""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from lms import clock
from lms.courses import services
from lms.courses.models import Attestation, ChapterProgress, Course, Enrollment
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db


@pytest.fixture
def handbook(app, content, org):
    content.sync()
    course = db.session.scalars(select(Course).where(Course.slug == "handbook")).one()
    services.enrol([org.learner.id], course.id, source="hr", actor=org.users["hr"])
    return course


def attest(client, key="leave-and-absence"):
    page = client.get(f"/courses/handbook/chapters/{key}").get_data(as_text=True)
    sha = re.search(r'name="chapter_sha256" type="hidden" value="([0-9a-f]+)"', page).group(1)
    return client.post(f"/courses/handbook/chapters/{key}/attest", data={"chapter_sha256": sha},
                       headers={"User-Agent": "Phone/1.0"})


def test_reading_records_first_opening_and_attesting_records_the_exact_text(login_as, handbook, org):
    client = login_as("learner")
    page = client.get("/courses/handbook/chapters/leave-and-absence").get_data(as_text=True)
    assert "3 days" in page and "Confirmation" not in page  # English reader, the rules box is shown
    progress = db.session.scalars(select(ChapterProgress)).one()
    assert progress.chapter_key == "leave-and-absence" and progress.completed_at is None
    assert attest(client).status_code == 302
    attestation = db.session.scalars(select(Attestation)).one()
    displayed = attestation.chapter.html_en
    assert attestation.displayed_sha256 == hashlib.sha256(displayed.encode()).hexdigest()
    assert (attestation.locale, attestation.user_agent) == ("en", "Phone/1.0")
    event = db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "courses.attested")).one()
    assert event.seq == attestation.evidence_seq
    assert event.payload["rules"] == ["leave.notice", "absence.threshold"]
    assert event.payload["rules_version"] == "2026-01" and event.payload["course_version"] == 1
    assert event.actor == f"user:{org.users['learner'].id}"
    assert 'data-test="attested"' in client.get("/courses/handbook/chapters/leave-and-absence").get_data(as_text=True)


def test_the_course_completes_when_every_chapter_is_done(login_as, handbook, org):
    client = login_as("learner")
    start = clock.now()
    with clock.frozen(start):  # she opens the chapter …
        page = client.get("/courses/handbook/chapters/leave-and-absence").get_data(as_text=True)
    sha = re.search(r'name="chapter_sha256" type="hidden" value="([0-9a-f]+)"', page).group(1)
    with clock.frozen(start + timedelta(minutes=4)):  # … and confirms four minutes later
        client.post("/courses/handbook/chapters/leave-and-absence/attest", data={"chapter_sha256": sha})
    progress = db.session.scalars(select(ChapterProgress).where(ChapterProgress.chapter_key == "leave-and-absence")
                                  ).one()
    assert progress.seconds_spent == 240 and progress.completed_at == start + timedelta(minutes=4)
    enrollment = db.session.scalars(select(Enrollment)).one()
    assert enrollment.completed_at is None
    client.get("/courses/handbook/chapters/welcome")
    assert client.post("/courses/handbook/chapters/welcome/complete").status_code == 302
    db.session.expire_all()
    assert enrollment.completed_at is not None and enrollment.completed_version_id is not None
    assert client.post("/courses/handbook/chapters/leave-and-absence/complete").status_code == 400


def test_a_changed_chapter_asks_for_a_new_attestation_and_the_old_one_keeps_its_text(login_as, handbook, content):
    client = login_as("learner")
    attest(client)
    old = db.session.scalars(select(Attestation)).one()
    content.write("courses/handbook/chapters/leave-and-absence.en.md", "## Leave\n\nApply **5 days** ahead.\n")
    content.sync()
    page = client.get("/courses/handbook/chapters/leave-and-absence").get_data(as_text=True)
    assert "5 days" in page and 'data-test="attest"' in page
    # A confirmation of the text shown before the change is refused, not counted for the new one.
    stale = client.post("/courses/handbook/chapters/leave-and-absence/attest",
                        data={"chapter_sha256": old.chapter_sha256}, follow_redirects=True)
    assert "has changed since you opened it" in stale.get_data(as_text=True)
    attest(client)
    first, second = db.session.scalars(select(Attestation).order_by(Attestation.id)).all()
    assert "3 days" in first.chapter.html_en and first.chapter.course_version.number == 1
    assert "5 days" in second.chapter.html_en and second.chapter.course_version.number == 2


def test_chinese_readers_confirm_the_chinese_text(login_as, handbook):
    client = login_as("learner")
    client.post("/language", data={"locale": "zh_CN"})
    attest(client)
    attestation = db.session.scalars(select(Attestation)).one()
    assert attestation.locale == "zh_CN"
    assert attestation.displayed_sha256 == hashlib.sha256(attestation.chapter.html_zh.encode()).hexdigest()


def test_people_not_enrolled_cannot_read_or_attest(login_as, handbook):
    client = login_as("outsider")
    assert client.get("/courses/handbook").status_code == 404
    assert client.post("/courses/handbook/chapters/leave-and-absence/attest",
                       data={"chapter_sha256": "x"}).status_code == 404
    assert login_as("hr").get("/courses/handbook").status_code == 200  # HR previews
