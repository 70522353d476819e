"""《培训合格证明》: issuing, rendering to PDF with an embedded Chinese font, verifying, revoking."""

from __future__ import annotations

import hashlib
import io
import secrets

import segno
from flask import current_app
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas
from sqlalchemy import select

from lms import clock, evidence
from lms.courses.models import Course, CourseVersion, RuleClause, RuleSet
from lms.documents.render import FONT, register_font, wrap
from lms.exams.content import question_clause
from lms.exams.models import Certificate, ExamAttempt
from lms.extensions import db
from lms.ui import external_url

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread


def verification_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(12))


def mask_name(name: str) -> str:
    """王芳 → 王*, 欧阳娜娜 → 欧***: enough to recognise, not to identify."""
    return name[:1] + "*" * max(len(name) - 1, 1)


def issue_certificate(attempt: ExamAttempt) -> Certificate:
    """Issue the certificate for a passed attempt (once), with its PDF; in the caller's transaction."""
    existing = db.session.scalars(select(Certificate).where(Certificate.attempt_id == attempt.id)).first()
    if existing:
        return existing
    exam = attempt.exam_version
    course = db.session.scalars(select(Course).where(Course.slug == exam.course_slug)).one()
    version = db.session.scalars(select(CourseVersion).where(CourseVersion.course_id == course.id)
                                 .order_by(CourseVersion.number.desc()).limit(1)).one()
    clause_ids = sorted({question_clause(item) for item in attempt.paper})
    rule_set = db.session.scalars(select(RuleSet).where(RuleSet.version == exam.bank.rules_version)).first()
    titles = {c.clause_id: c for c in db.session.scalars(select(RuleClause).where(
        RuleClause.rule_set_id == (rule_set.id if rule_set else None), RuleClause.clause_id.in_(clause_ids)))}
    now = clock.now()
    certificate = Certificate(
        number=f"pending-{secrets.token_hex(8)}", verification_code=verification_code(),
        employee_id=attempt.employee_id, attempt_id=attempt.id, exam_slug=exam.slug, exam_title_zh=exam.title_zh,
        exam_title_en=exam.title_en,
        course_versions=[{"slug": course.slug, "number": version.number, "sha256": version.sha256,
                          "title_zh": version.title_zh, "title_en": version.title_en}],
        clauses=[{"id": c, "title_zh": titles[c].title_zh if c in titles else c,
                  "title_en": titles[c].title_en if c in titles else c} for c in clause_ids],
        rules_version=rule_set.version if rule_set else None, score=attempt.score, issued_at=now,
        pdf=b"", pdf_sha256="")
    db.session.add(certificate)
    db.session.flush()
    certificate.number = f"LMS-{clock.local(now).year}-{certificate.id:06d}"
    certificate.pdf = render_pdf(certificate, attempt.employee.name, attempt.employee.employee_no)
    certificate.pdf_sha256 = hashlib.sha256(certificate.pdf).hexdigest()
    evidence.record("exams.certificate_issued", evidence.subject_of("employee", attempt.employee_id), {
        "number": certificate.number, "verification_code": certificate.verification_code,
        "attempt_id": attempt.id, "exam": exam.slug, "score": str(attempt.score),
        "course_versions": [{k: v for k, v in cv.items() if k in ("slug", "number", "sha256")}
                            for cv in certificate.course_versions],
        "clauses": clause_ids, "rules_version": certificate.rules_version, "pdf_sha256": certificate.pdf_sha256})
    return certificate


# Where the QR code sits on the landscape page (from the right and bottom edges), and its size.
QR_RIGHT, QR_BOTTOM, QR_SIZE = 24 * mm, 24 * mm, 36 * mm


def verification_url(certificate: Certificate) -> str:
    """The public page that confirms the certificate, under LMS_BASE_URL."""
    return external_url("verify.verify", code=certificate.verification_code)


def draw_qr(pdf: canvas.Canvas, data: str, x: float, y: float, size: float) -> None:
    """A QR code of `data` drawn as filled rectangles (vectors: sharp at any zoom, no image), one per
    run of dark modules in a row, with the standard quiet zone left white."""
    matrix = segno.make(data, error="m").matrix
    module = size / (len(matrix) + 8)  # four modules of quiet zone on each side
    origin_x, top = x + 4 * module, y + size - 4 * module
    pdf.saveState()
    pdf.setFillColorRGB(0, 0, 0)
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            pdf.rect(origin_x + start * module, top - (r + 1) * module, (c - start) * module, module,
                     stroke=0, fill=1)
    pdf.restoreState()


def render_pdf(certificate: Certificate, name: str, employee_no: str) -> bytes:
    """An A4 landscape certificate in Chinese and English; the font subset is embedded."""
    register_font()
    buffer = io.BytesIO()
    width, height = landscape(A4)
    pdf = canvas.Canvas(buffer, pagesize=(width, height), invariant=1)
    pdf.setTitle(f"培训合格证明 {certificate.number}")
    pdf.setAuthor(current_app.config["LMS_COMPANY_NAME"])
    pdf.setStrokeColorRGB(0.04, 0.43, 0.31)
    pdf.setLineWidth(3)
    pdf.rect(12 * mm, 12 * mm, width - 24 * mm, height - 24 * mm)

    left, usable = 30 * mm, width - 60 * mm

    def line(text: str, y: float, size: float = 12, center: bool = False) -> float:
        """Draw text, wrapped to the page (Chinese has no spaces to break at); return the next y."""
        pdf.setFont(FONT, size)
        if center:
            pdf.drawCentredString(width / 2, y, text)
            return y - size * 1.6
        for row in wrap(text, size, usable):
            pdf.drawString(left, y, row)
            y -= size * 1.5
        return y

    issued = clock.local(certificate.issued_at)
    course = certificate.course_versions[0]
    exam_zh = certificate.exam_title_zh if "《" in certificate.exam_title_zh else f"《{certificate.exam_title_zh}》"
    y = line("培训合格证明", height - 40 * mm, 30, center=True)
    line("Certificate of Training", y, 14, center=True)
    y = line(f"兹证明 {name}（工号 {employee_no}）于 {issued.year}年{issued.month}月{issued.day}日 通过"
             f"{exam_zh}，成绩 {certificate.score} 分，考核合格。", height - 70 * mm, 14)
    y = line(f"This certifies that {name} ({employee_no}) passed “{certificate.exam_title_en}” on "
             f"{issued:%Y-%m-%d} with a score of {certificate.score}.", y, 11)
    y = line(f"培训课程 Course：《{course['title_zh']}》 {course['title_en']}（第 {course['number']} 版 "
             f"Version {course['number']}）", y - 4 * mm, 10)
    rules_zh = "、".join(c["title_zh"] for c in certificate.clauses)
    rules_en = "; ".join(c["title_en"] for c in certificate.clauses)
    version = f"（{certificate.rules_version} 版）" if certificate.rules_version else ""
    y = line(f"所考核的规章制度{version}：{rules_zh}", y, 10)
    y = line(f"Rules covered: {rules_en}", y, 9)
    y = line(f"证书编号 Certificate No.：{certificate.number}", y - 4 * mm, 12)
    y = line(f"验证码 Verification code：{certificate.verification_code}", y, 12)
    url = verification_url(certificate)
    line(f"验证网址 Verify at：{url}", y, 11)
    draw_qr(pdf, url, width - QR_RIGHT - QR_SIZE, QR_BOTTOM, QR_SIZE)
    pdf.setFont(FONT, 8)
    pdf.drawCentredString(width - QR_RIGHT - QR_SIZE / 2, QR_BOTTOM - 4 * mm, "扫码验证 Scan to verify")
    pdf.drawString(left, 16 * mm, f"课程版本指纹 Course fingerprint (SHA-256)：{course['sha256'][:16]}…")
    line(current_app.config["LMS_COMPANY_NAME"], 30 * mm, 14)
    line(f"{issued.year}年{issued.month}月{issued.day}日", 22 * mm, 12)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def revoke(certificate: Certificate, reason: str, actor) -> None:
    if certificate.revoked_at is not None:
        return
    certificate.revoked_at, certificate.revoked_by = clock.now(), evidence.actor_of(actor)
    certificate.revoked_reason = reason.strip()[:500]
    evidence.record("exams.certificate_revoked", evidence.subject_of("employee", certificate.employee_id),
                    {"number": certificate.number, "reason": certificate.revoked_reason}, actor=actor)
    db.session.commit()
