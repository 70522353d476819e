"""Termination done lawfully, on the seed's case and the 2026 calendar (SPEC §4): effective deadline 6.25 →
the tick records it passed and asks HR to notify the union (6.26); the union's receipt 6.26 09:00, no
objection 15:00; HR confirms 16:00 — refused before the receipt, naming 第四十三条; the termination notice
goes by EMS the same day, delivered 6.29 → terminated on 6.29, the certificate issued, the transfer
to-dos due 7.14 (第五十条: 15 calendar days, never moved)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from lms.absence import decisions, service, termination, union
from lms.absence.jobs import service_deadlines
from lms.absence.models import CaseTodo
from lms.documents.models import Document
from lms.evidence.models import EvidenceEvent, body_field
from lms.extensions import db
from lms.people.models import Separation
from tests.documents.conftest import at, local, pdf_text


def _union_without_objection(case, org):
    with at(datetime(2026, 6, 26, 9, 5)):
        union.record_notice(case, at=local(2026, 6, 26, 9, 0), union_name="公司工会", receipt_signed_by="李主席",
                            actor=org.users["hr"])
    with at(datetime(2026, 6, 26, 15, 5)):
        union.record_opinion(case, at=local(2026, 6, 26, 15, 0), opinion="no_objection", actor=org.users["hr"])


def _send(case, document, org, day: date, tracking_no: str = "EA9"):
    with at(datetime.combine(day, datetime.min.time()).replace(hour=16, minute=30)):
        return service.record_dispatch(case, document, method="ems", dispatched_on=day, addressee="王芳",
                                       address="上海市浦东新区世纪大道100号", address_source="contact_address",
                                       tracking_no=tracking_no, actor=org.users["hr"])


def test_the_seed_case_to_its_lawful_end(past_deadline, org, login_as):
    case = past_deadline
    with at(datetime(2026, 6, 25, 23, 59)):
        service_deadlines(local(2026, 6, 25, 23, 59))
    assert not [t for t in case.todos if t.kind == "notify_union"]  # 6.25 has not ended yet
    with at(datetime(2026, 6, 26, 0, 15)):
        service_deadlines(local(2026, 6, 26, 0, 15))
    db.session.expire_all()
    assert "notify_union" in [t.kind for t in case.todos if t.done_at is None]
    with at(datetime(2026, 6, 26, 8, 30)), pytest.raises(termination.TerminationRefused) as refused:
        termination.confirm(case, org.users["hr"])
    assert any("第四十三条" in reason for reason in refused.value.reasons)
    _union_without_objection(case, org)
    with at(datetime(2026, 6, 26, 16, 0)):
        document = termination.confirm(case, org.users["hr"], note="逾期未返岗")
    assert document.kind == "termination" and document.number.startswith("TRM-2026-")
    assert case.employee.status == "termination_pending"
    text = pdf_text(document.pdf).replace("\n", "")  # a sentence may wrap across lines
    for needle in ("解除劳动合同通知书", "自本通知送达之日起解除劳动合同", "第三十九条第（二）项", "第四十六条",
                   "2026年6月15日", "2026年6月25日", document.number, "公司工会"):
        assert needle in text, needle
    assert "自动离职" not in text
    open_todos = [t.kind for t in case.todos if t.done_at is None]
    assert "send_termination" in open_todos and "notify_union" not in open_todos
    sent = _send(case, document, org, date(2026, 6, 26))
    with at(datetime(2026, 6, 29, 11, 0)):
        service.record_tracking(sent, status="delivered", day=date(2026, 6, 29), signed_by="employee",
                                actor=org.users["hr"])
        service_deadlines(local(2026, 6, 29, 11, 0))
    db.session.expire_all()
    employee = case.employee
    assert (employee.status, employee.terminated_on) == ("terminated", date(2026, 6, 29))
    assert (case.state, case.resolution) == ("resolved", "terminated")
    separation = db.session.scalars(select(Separation)).one()
    certificate = db.session.get(Document, separation.certificate_id)
    assert certificate.number.startswith("TRC-2026-")
    certificate_text = pdf_text(certificate.pdf).replace("\n", "")
    assert "2026年6月29日" in certificate_text and "第三十九条第（二）项解除" in certificate_text
    todos = {t.kind: t.due_on for t in db.session.scalars(select(CaseTodo).where(CaseTodo.done_at.is_(None)))}
    # The 减员 filing waits for the work city's rule (this employee has no work city): no date is guessed.
    assert todos == {"send_certificate": date(2026, 6, 29), "transfer_file": date(2026, 7, 14),
                     "transfer_insurance": date(2026, 7, 14), "file_si_stop": None}
    ended = db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "people.employment_ended")).one()
    assert ended.payload["warn_on"] == "2026-07-14"  # a Tuesday, a working day: the transfers are due that day
    assert termination.lagging(case) is None
    # The certificate is served like the notices, on the case now resolved.
    with at(datetime(2026, 6, 30, 9, 0)):
        page = login_as("hr").get(f"/absence/cases/{case.id}").get_data(as_text=True)
    form = page[page.index('data-test="dispatch-form"'):]
    assert certificate.number in form[:form.index("</select>")] and "TRM-2026" not in form[:form.index("</select>")]
    sent = _send(case, certificate, org, date(2026, 6, 30), tracking_no="EA10")
    assert "track_certificate" in [t.kind for t in case.todos if t.done_at is None]
    with at(datetime(2026, 7, 2, 10, 0)):
        service.record_tracking(sent, status="delivered", day=date(2026, 7, 2), signed_by="employee",
                                actor=org.users["hr"])
    assert service.case_service(case, "termination_certificate").served_on == date(2026, 7, 2)
    assert not [t for t in case.todos if t.done_at is None and "certificate" in t.kind]
    keep = Path(__file__).resolve().parents[2] / "test-artifacts"  # to render and look at (pdftoppm)
    keep.mkdir(exist_ok=True)
    (keep / "termination-notice.pdf").write_bytes(document.pdf)
    (keep / "termination-certificate.pdf").write_bytes(certificate.pdf)


def test_an_objection_allows_confirmation_only_once_answered(past_deadline, org):
    case = past_deadline
    with at(datetime(2026, 6, 26, 9, 5)):
        union.record_notice(case, at=local(2026, 6, 26, 9, 0), union_name="公司工会", receipt_signed_by="李主席",
                            actor=org.users["hr"])
    with at(datetime(2026, 6, 29, 10, 5)):
        union.record_opinion(case, at=local(2026, 6, 29, 10, 0), opinion="objection", text="请核实",
                             actor=org.users["hr"])
    with at(datetime(2026, 6, 30, 9, 0)), pytest.raises(termination.TerminationRefused) as refused:
        termination.confirm(case, org.users["hr"])
    assert "第四十三条" in refused.value.reasons[0]
    with at(datetime(2026, 6, 30, 14, 0)):
        union.record_reply(case, at=local(2026, 6, 30, 14, 0), text="经核实维持决定", actor=org.users["hr"])
        assert termination.confirm(case, org.users["hr"]).kind == "termination"


def test_a_reply_naming_a_hospital_forces_a_review(past_deadline, org):
    case = past_deadline
    with at(datetime(2026, 6, 26, 8, 0)):
        decisions.record_reply(case, "我在医院住院，手机没电", "link")
        decisions.decide(case, "continue", org.users["hr"], note="未提供任何证明")
    _union_without_objection(case, org)
    with at(datetime(2026, 6, 26, 16, 0)):
        with pytest.raises(termination.TerminationRefused) as refused:
            termination.confirm(case, org.users["hr"])
        assert "医院" in refused.value.reasons[0] and "309号" in refused.value.reasons[0]
        termination.confirm(case, org.users["hr"], review_note="致电所称医院，查无住院记录")
    confirmed = db.session.scalars(select(EvidenceEvent).where(
        body_field("kind") == "absence.termination_confirmed")).one()
    assert confirmed.payload["review_note"] == "致电所称医院，查无住院记录"


def test_a_returned_termination_notice_then_public_notice_terminates_30_days_later(past_deadline, org):
    from tests.absence.service_helpers import a_scan

    case = past_deadline
    _union_without_objection(case, org)
    with at(datetime(2026, 6, 26, 16, 0)):
        document = termination.confirm(case, org.users["hr"])
    sent = _send(case, document, org, date(2026, 6, 26))
    with at(datetime(2026, 6, 30, 12, 0)):
        service.record_tracking(sent, status="returned", day=date(2026, 6, 30), reason="no_such_person",
                                actor=org.users["hr"])
    # She has no other address on file: the case proposes a public notice.
    assert service.case_service(case, "termination").next_action == "public_notice"
    assert "publish_termination" in [t.kind for t in case.todos if t.done_at is None]
    with at(datetime(2026, 7, 3, 10, 0)):
        service.record_public_notice(case, document, medium="《解放日报》", published_on=date(2026, 7, 3),
                                     scan=a_scan(), actor=org.users["hr"])
        service_deadlines(local(2026, 7, 3, 10, 0))
    assert case.employee.status == "termination_pending"
    with at(datetime(2026, 8, 1, 23, 0)):
        service_deadlines(local(2026, 8, 1, 23, 0))
    assert case.employee.status == "termination_pending"
    with at(datetime(2026, 8, 2, 0, 15)):
        service_deadlines(local(2026, 8, 2, 0, 15))
    db.session.expire_all()
    assert (case.employee.status, case.employee.terminated_on) == ("terminated", date(2026, 8, 2))
    assert termination.lagging(case) is not None  # 8.2 is 38 days after the 6.25 deadline


def test_nothing_about_termination_before_the_deadline_has_passed(past_deadline, org):
    with at(datetime(2026, 6, 25, 17, 0)), pytest.raises(termination.TerminationRefused) as refused:
        termination.confirm(past_deadline, org.users["hr"])
    assert "2026-06-25" in refused.value.reasons[0]
    assert len(refused.value.reasons) >= 2  # the deadline, and the union (第四十三条): every reason is named


def test_hr_confirms_on_the_case_page_and_follows_the_service(past_deadline, org, login_as):
    case = past_deadline
    hr = login_as("hr")
    with at(datetime(2026, 6, 26, 8, 0)):
        decisions.record_reply(case, "我被派出所带走了", "link")
        decisions.decide(case, "continue", org.users["hr"], note="家属未能证实")
        page = hr.get(f"/absence/cases/{case.id}").get_data(as_text=True)
    assert 'data-test="termination-unmet"' in page and "第四十三条" in page and "派出所" in page
    assert 'disabled>Confirm the termination' in page
    _union_without_objection(case, org)
    with at(datetime(2026, 6, 26, 16, 0)):
        page = hr.get(f"/absence/cases/{case.id}").get_data(as_text=True)
        assert 'data-test="termination-ready"' in page
        draft = page[page.index('data-test="termination-draft"'):]
        assert "自本通知送达之日起解除劳动合同" in draft[:draft.index("</pre>")]
        refused = hr.post(f"/absence/cases/{case.id}/termination", data={"note": "逾期未返岗"})
        assert refused.status_code == 409  # the reply naming the police was not reviewed
        confirmed = hr.post(f"/absence/cases/{case.id}/termination",
                            data={"note": "逾期未返岗", "review_note": "派出所答复：未曾羁押该员工"})
        assert confirmed.status_code == 302
        page = hr.get(f"/absence/cases/{case.id}").get_data(as_text=True)
    section = page[page.index('data-test="termination"'):]
    assert "TRM-2026-000001" in section and "on the day the notice is served" in section
    assert "has not been sent yet" in section


def test_the_case_timeline_shows_words_and_names_not_codes(past_deadline, login_as, org):
    import re

    with at(datetime(2026, 6, 26, 9, 0)):
        page = login_as("hr").get(f"/absence/cases/{past_deadline.id}").get_data(as_text=True)
    rows = re.findall(r'<li data-test="timeline">(.*?)<details', page, re.S)
    assert rows
    shown = " ".join(re.sub(r"<[^>]+>", " ", row) for row in rows)
    assert not re.search(r"\b(absence|notify|documents)\.[a-z_]+\b", shown)
    assert not re.search(r"\buser:\d+\b", shown)
    assert "Notice served" in shown and "RTW-2026-000001 served on 2026-06-21" in shown
    assert org.hr_officer.name in shown  # who did it, by name


def test_a_case_whose_days_were_all_excused_offers_no_termination(served_case, org, login_as):
    """A served notice whose days no longer count (all excused): the page works, and termination is refused."""
    from tests.absence.service_helpers import make_document

    notice = make_document(served_case, date(2026, 6, 18))
    with at(datetime(2026, 6, 19, 9, 0)):
        sent = service.record_dispatch(served_case, notice, method="ems", dispatched_on=date(2026, 6, 19),
                                       addressee="王芳", address="上海市浦东新区世纪大道100号",
                                       address_source="contact_address", tracking_no="EA1")
    with at(datetime(2026, 6, 21, 9, 0)):
        service.record_tracking(sent, status="delivered", day=date(2026, 6, 21), signed_by="employee")
    with at(datetime(2026, 6, 26, 9, 0)):
        page = login_as("hr").get(f"/absence/cases/{served_case.id}")
        assert page.status_code == 200 and 'data-test="termination-draft"' not in page.get_data(as_text=True)
        with pytest.raises(termination.TerminationRefused) as refused:
            termination.confirm(served_case, org.users["hr"])
    assert "nothing to terminate" in refused.value.reasons[0]
