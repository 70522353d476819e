"""Notice fixtures: the seed's case at its threshold (after 6.17), with and without training proof."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from lms import clock
from lms.absence.models import AbsenceCase
from lms.courses import services as courses
from lms.courses.models import Course
from lms.extensions import db
from tests.absence.conftest import add_leave, everyone_present, run_ticks, switch_on


def reach_threshold(org) -> AbsenceCase:
    """The seed: leave 6.1–6.14, no punch from 6.15; the threshold is reached after 6.17."""
    add_leave(org.learner, date(2026, 6, 1), date(2026, 6, 14))
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 19), but=[org.learner])
    run_ticks(datetime(2026, 6, 15, 10, 0), datetime(2026, 6, 18, 1, 0))
    case = db.session.scalars(select(AbsenceCase).where(AbsenceCase.employee_id == org.learner.id)).one()
    assert case.state == "threshold_reached"
    return case


def train(login_as, org) -> None:
    """In May, before the absence: the learner attests the rules chapter and passes the exam."""
    from tests.courses.test_read_and_attest import attest
    from tests.exams.test_certificates import pass_exam

    course = db.session.scalars(select(Course).where(Course.slug == "handbook")).one()
    with clock.frozen(clock.as_utc(datetime(2026, 5, 20, 10, 0))):
        courses.enrol([org.learner.id], course.id, source="hr", actor=org.users["hr"])
        client = login_as("learner")
        assert attest(client).status_code == 302
        pass_exam(client)


@pytest.fixture
def untrained_case(app, org, content):
    switch_on(content)
    return reach_threshold(org)


@pytest.fixture
def seed_case(app, org, content, login_as):
    switch_on(content)
    train(login_as, org)
    return reach_threshold(org)


def at(moment: datetime):
    """The clock frozen at a local time."""
    return clock.frozen(clock.as_utc(moment))


def pdf_text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def local(*args) -> datetime:
    """A company-local time as the UTC instant the code stores."""
    return clock.as_utc(datetime(*args))


@pytest.fixture
def past_deadline(seed_case, org):
    """The seed's case served: notice 6.18, EMS 6.19, delivered to the employee 6.21 → effective 6.25."""
    from lms.absence import notices, service

    with at(datetime(2026, 6, 18, 10, 0)):
        document = notices.issue_return_notice(seed_case, org.users["hr"], dispatch_on=date(2026, 6, 19))
    with at(datetime(2026, 6, 19, 9, 0)):
        sent = service.record_dispatch(seed_case, document, method="ems", dispatched_on=date(2026, 6, 19),
                                       addressee="王芳", address="上海市浦东新区世纪大道100号",
                                       address_source="other", tracking_no="EA1", actor=org.users["hr"])
    with at(datetime(2026, 6, 21, 16, 0)):
        service.record_tracking(sent, status="delivered", day=date(2026, 6, 21), signed_by="employee",
                                actor=org.users["hr"])
    assert service.case_service(seed_case).effective == date(2026, 6, 25)
    return seed_case


