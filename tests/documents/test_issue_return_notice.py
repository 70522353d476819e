"""The seed's case: threshold after 6.17, the notice issued 6.18 for dispatch 6.19 states 6.25."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from lms.absence import notices
from lms.evidence.models import EvidenceEvent, body_field
from lms.exams.models import Certificate
from lms.extensions import db
from lms.notify.models import Message
from tests.documents.conftest import at, pdf_text


def test_the_seed_notice_states_the_facts_and_the_deadline(seed_case, org):
    with at(datetime(2026, 6, 18, 10, 0)):
        document = notices.issue_return_notice(seed_case, org.users["hr"], dispatch_on=date(2026, 6, 19))
    assert document.number == "RTW-2026-000001"
    assert document.stated_deadline == date(2026, 6, 25)
    assert document.template_slug == "return-to-work" and document.template_version == 1
    text = pdf_text(document.pdf)
    certificate = db.session.scalars(select(Certificate)).one()
    for expected in ("限期返岗通知书", "王芳", org.learner.employee_no, "1101**********1239", "2026年6月15日",
                     "2026年6月16日", "2026年6月17日", "请于2026年6月25日前返岗", certificate.number,
                     "第三十九条第（二）项", "盖章处", "RTW-2026-000001", "李娜"):
        assert expected in text.replace("\n", ""), expected
    assert "自动离职" not in text
    assert "110105199003071239" not in text
    facts = document.facts
    assert sorted({(m["step"], m["day"]) for m in facts["messages"]}, key=str) == [
        ("alert1", None), ("alert2", None), ("reminder", "2026-06-16"), ("reminder", "2026-06-17")]
    assert all(m["at"] and m["status"] for m in facts["messages"])
    assert {m["channel"] for m in facts["messages"]} <= {"sms", "inapp"}
    assert facts["rule"]["version"] == "2026-01" and facts["rule"]["adopted_on"] == "2026-01-15"
    assert facts["training"]["attestations"][0]["displayed_sha256"]
    # The to-do is done, the employee's inbox has the notice, the evidence names the hash and the template.
    db.session.expire_all()
    assert [t.done_at is not None for t in seed_case.todos if t.kind == "prepare_return_notice"] == [True]
    message = db.session.scalars(select(Message).where(Message.step_key.like("%notice:RTW-2026-000001%"))).one()
    assert message.recipient_id == org.learner.id and "2026-06-25" in message.body
    [issued] = db.session.scalars(select(EvidenceEvent).where(body_field("kind") == "documents.issued")).all()
    assert issued.subject == f"case:{seed_case.id}"
    assert issued.payload["sha256"] == document.sha256 and issued.payload["template"]["version"] == 1


def test_the_pdf_embeds_its_font(seed_case, org):
    import io

    from pypdf import PdfReader

    with at(datetime(2026, 6, 18, 10, 0)):
        document = notices.issue_return_notice(seed_case, org.users["hr"], dispatch_on=date(2026, 6, 19))
    reader = PdfReader(io.BytesIO(document.pdf))
    for page in reader.pages:
        fonts = [font.get_object() for font in page["/Resources"]["/Font"].values()]
        assert fonts and all("WenQuanYiMicroHei" in font["/BaseFont"] for font in fonts)
        for font in fonts:
            descendant = font["/DescendantFonts"][0].get_object() if "/DescendantFonts" in font else font
            descriptor = descendant["/FontDescriptor"].get_object()
            assert any(key in descriptor for key in ("/FontFile2", "/FontFile3", "/FontFile"))


def test_the_pdf_is_a4_portrait_with_its_title_and_author(seed_case, org):
    """LMS_NOTICE_PDF_OUT=/tmp/notice.pdf keeps the PDF, to look at it: pdftoppm -png /tmp/notice.pdf /tmp/notice."""
    import io
    import os

    from pypdf import PdfReader

    with at(datetime(2026, 6, 18, 10, 0)):
        document = notices.issue_return_notice(seed_case, org.users["hr"], dispatch_on=date(2026, 6, 19))
    reader = PdfReader(io.BytesIO(document.pdf))
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
    assert reader.metadata.title == f"限期返岗通知书 {document.number}"
    assert reader.metadata.author == "示例科技有限公司"
    target = os.environ.get("LMS_NOTICE_PDF_OUT")
    if target:
        with open(target, "wb") as out:
            out.write(document.pdf)
