"""A notice is refused, with the reason, unless the threshold holds, nothing awaits HR and every day has its rules."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import select

from lms.absence import decisions, notices
from lms.absence.models import CaseDay
from lms.documents.models import Document
from lms.extensions import db
from tests.documents.conftest import at


def _refused(case, org) -> str:
    with at(datetime(2026, 6, 18, 10, 0)), pytest.raises(notices.NoticeRefused) as refused:
        notices.issue_return_notice(case, org.users["hr"], dispatch_on=date(2026, 6, 19))
    assert db.session.scalars(select(Document)).first() is None
    return str(refused.value)


def test_a_withdrawn_threshold_blocks_the_notice(seed_case, org):
    with at(datetime(2026, 6, 18, 9, 0)):
        decisions.record_reply(seed_case, "6月17日在医院", "phone", org.users["hr"])
        decisions.decide(seed_case, "accept", org.users["hr"], "病假条已补", days=[date(2026, 6, 17)])
    db.session.expire_all()
    assert seed_case.state != "threshold_reached"
    assert "threshold does not hold" in _refused(seed_case, org)


def test_a_pending_reply_blocks_the_notice(seed_case, org):
    with at(datetime(2026, 6, 18, 9, 0)):
        decisions.record_reply(seed_case, "我在医院", "phone", org.users["hr"])
    assert "awaits HR" in _refused(seed_case, org)


def test_a_counted_day_without_a_rule_version_blocks_the_notice(seed_case, org):
    day = db.session.get(CaseDay, (seed_case.id, date(2026, 6, 16)))
    db.session.execute(CaseDay.__table__.update().where(CaseDay.case_id == seed_case.id, CaseDay.day == day.day)
                       .values(rule_version=None))
    db.session.commit()
    db.session.expire_all()
    assert "2026-06-16" in _refused(seed_case, org)


def test_the_threshold_holds_and_the_notice_is_issued(seed_case, org):
    with at(datetime(2026, 6, 18, 10, 0)):
        assert notices.issue_return_notice(seed_case, org.users["hr"], dispatch_on=date(2026, 6, 19)).number


def test_a_deadline_the_calendar_does_not_know_is_refused_with_the_reason(seed_case, org, login_as):
    with at(datetime(2026, 12, 30, 10, 0)), pytest.raises(notices.NoticeRefused) as refused:
        notices.issue_return_notice(seed_case, org.users["hr"])  # 2027 is not in the calendar yet
    assert "enter the year" in str(refused.value)
    with at(datetime(2026, 12, 30, 10, 0)):
        page = login_as("hr").get(f"/absence/cases/{seed_case.id}")
    assert page.status_code == 200 and 'data-test="notice-refused"' in page.get_data(as_text=True)
