"""Termination for absence (《劳动合同法》第三十九条第(二)项), done lawfully (SPEC §4).

HR confirms — never the system — and only when every precondition holds: the effective deadline of
the return-to-work notice has passed, no reply or return awaits a decision, the union gate holds
(第四十三条, `union.gate`), and a reply that mentions a hospital, a pregnancy, an injury or the police
has been reviewed (a detained employee is not absent: 劳部发〔1995〕309号第二十八条). Confirming issues
the 《解除劳动合同通知书》; the employee is `termination_pending` until it is served like the return
notice. The termination takes effect on the service date (or a later date the notice states) — the
tick then sets `terminated`, resolves the case, issues the 《解除劳动合同证明》 and opens the 15-day
transfer to-dos (第五十条).
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms import clock, evidence
from lms.absence import cases, notices, reads, service, union
from lms.absence.cases import CaseError, subject
from lms.absence.models import AbsenceCase, CaseTodo
from lms.courses.models import RuleSet
from lms.documents import services as documents
from lms.documents.models import Document
from lms.extensions import db
from lms.people import sensitive
from lms.people.models import Employee, Separation
from lms.ui import short_date

KIND = "termination"
CONSEQUENCE = "unreachable.consequence"
TRANSFER_DAYS = 15  # 第五十条: personnel file and social insurance within 15 days (calendar days, never moved)
LAG_WARNING_DAYS = 30
# Words in a reply that force HR's review before termination (hospital, pregnancy, injury, police, detention).
REVIEW_WORDS = re.compile(r"医院|住院|就医|急诊|怀孕|孕|产检|流产|工伤|受伤|骨折|车祸|"
                          r"派出所|公安|警察|拘留|羁押|看守所|"
                          r"hospital|pregnan|injur|accident|police|detain|arrest", re.IGNORECASE)
ENDINGS = {"dismissal": ("由用人单位依据《中华人民共和国劳动合同法》第三十九条第（二）项解除",
                         "was terminated by the employer"),
           "resignation": ("因劳动者提出解除而解除", "was ended at the employee's request"),
           "mutual": ("经双方协商一致解除", "was ended by mutual agreement"),
           "expiry": ("因劳动合同期满而终止", "ended on its expiry")}


class TerminationRefused(CaseError):
    """Termination cannot be confirmed; `reasons` lists every unmet precondition."""

    def __init__(self, reasons: list[str]):
        super().__init__(" ".join(reasons))
        self.reasons = reasons


def flagged_replies(case: AbsenceCase) -> list[str]:
    """The words of the case's replies that call for HR's review before termination."""
    return sorted({m.group(0) for reply in case.replies for m in REVIEW_WORDS.finditer(reply.text)})


def separation_of(case: AbsenceCase) -> Separation | None:
    return reads.read_once(("separation", case.id), lambda: db.session.scalars(
        select(Separation).where(Separation.case_id == case.id).order_by(Separation.id.desc())).first())


def unmet(case: AbsenceCase, now: datetime | None = None, review_note: str | None = None,
          check_review: bool = True) -> list[str]:
    """Every precondition of confirming the termination that does not hold now, in words (the review of a
    flagged reply left out with `check_review=False`: the page asks for it in the confirmation form)."""
    now = now or clock.now()
    if not case.is_open:
        return [_("This case is already resolved.")]
    if separation_of(case) is not None:
        return [_("The termination has already been confirmed.")]
    reasons = []
    if not case.counted_days:
        reasons.append(_("No day of this case counts as absence without leave: there is nothing to terminate for."))
    passed, why = service.deadline_has_passed(case, now)
    if not passed:
        reasons.append(_("The effective deadline has not passed: %(why)s", why=why))
    if case.paused_at is not None:
        reasons.append(_("A reply or a return awaits HR's decision: decide on it first."))
    gate = union.gate(case, now)
    if not gate.holds:
        reasons.extend(gate.reasons)
    words = flagged_replies(case)
    if check_review and words and not (review_note or "").strip():
        reasons.append(_("A reply mentions %(words)s: review it first and record what you found (a detained "
                         "employee is not absent: 劳部发〔1995〕309号第二十八条).", words="、".join(words)))
    return reasons


def case_facts(case: AbsenceCase, actor) -> dict:
    """What the union letter and the termination notice state alike: the employee, the days, the return
    notice and its service, the rule, the training proof, HR's contact."""
    rtw = service.case_service(case)
    employee = case.employee
    first = min(case.counted_days)
    version = (rtw.document.facts.get("rule") or {}).get("version") or case.rule_version
    rule_set = db.session.scalars(select(RuleSet).where(RuleSet.version == version)).first()
    clauses = {c.clause_id: c for c in rule_set.clauses} if rule_set else {}
    clause = clauses.get(CONSEQUENCE) or clauses.get(notices.CLAUSE)
    national_id = None
    if employee.national_id_encrypted:
        national_id = sensitive.mask(sensitive.decrypt(employee.national_id_encrypted))
    with force_locale("zh_CN"):  # the documents are in Chinese whatever HR's language
        basis_zh = rtw.basis
    return {
        "case_id": case.id,
        "employee": {"name": employee.name, "employee_no": employee.employee_no,
                     "department": employee.department.name, "position": employee.position,
                     "national_id_masked": national_id},
        "absent_days": [d.isoformat() for d in sorted(case.counted_days)],
        "return_notice": {"number": rtw.document.number, "issued_on": clock.local(rtw.document.issued_at).date()
                          .isoformat(), "served_on": rtw.served_on.isoformat(), "basis": basis_zh,
                          "effective": rtw.effective.isoformat()},
        "rule": {"version": rule_set.version, "title": rule_set.title_zh, "adopted_on": rule_set.adopted_on.isoformat(),
                 "effective_from": rule_set.effective_from.isoformat(), "clause_id": clause.clause_id,
                 "clause_title": clause.title_zh, "clause_text": clause.text_zh} if rule_set and clause else None,
        "training": notices._training(employee.id, clock.as_utc(datetime.combine(first, datetime.min.time()))),
        "hr": notices._hr_contact(actor),
    }


def _facts(case: AbsenceCase, actor, not_before: date | None, now: datetime) -> dict:
    """What the termination notice states: the case's facts and the union notice given."""
    with force_locale("zh_CN"):
        gate = union.gate(case, now)
    return {**case_facts(case, actor),
            "union": {"name": gate.notice.union_name, "notified_on": clock.local(gate.notice.at).date().isoformat(),
                      "basis": gate.basis},
            "not_before": not_before.isoformat() if not_before else None}


def drafts(case: AbsenceCase, actor, union_name: str | None) -> dict[str, tuple[str, str]]:
    """The texts HR reads before issuing: the letter to the union and the termination notice, as they would
    state the facts now (once the effective deadline has passed); {} when there is nothing to draft yet."""
    if not case.is_open or not case.counted_days or not service.deadline_has_passed(case)[0]:
        return {}
    facts = case_facts(case, actor)
    result = {}
    try:
        if union_name:
            result["union_notice"] = documents.preview("union_notice", {
                **facts, "union_name": union_name, "wait_days": union.wait_days(clock.now())})
        gate = union.gate(case)
        if gate.notice is not None:
            result["termination"] = documents.preview(KIND, {**facts, "union": {
                "name": gate.notice.union_name, "notified_on": clock.local(gate.notice.at).date().isoformat()},
                "not_before": None})
    except documents.DocumentError:  # a template not synced: the issuing says so
        return result
    return result


def issue_union_letter(case: AbsenceCase, actor, union_name: str) -> Document:
    """The written notice to the union (《劳动合同法》第四十三条): the reasons, the facts, the rule, the intended
    termination; printed, handed over and signed for (its receipt is then recorded with `union.record_notice`).
    Only once the effective deadline has passed and nothing awaits a decision."""
    if not case.is_open:
        raise union.UnionRefused(_l("This case is already resolved."))
    if case.paused_at is not None:
        raise union.UnionRefused(_l("A reply or a return awaits HR's decision: decide on it first."))
    passed, why = service.deadline_has_passed(case)
    if not passed:
        raise union.UnionRefused(_l("The union can be notified of a termination only after the effective deadline "
                                    "has passed: %(why)s", why=why))
    if not (union_name or "").strip():
        raise union.UnionRefused(_l("Name the union notified and who signed its receipt."))
    if not case.counted_days:
        raise union.UnionRefused(_l("No day of this case counts as absence without leave: there is nothing to "
                                    "notify the union of."))
    facts = {**case_facts(case, actor), "union_name": union_name.strip()[:200],
             "wait_days": union.wait_days(clock.now())}
    document = documents.issue("union_notice", case.employee, case, facts, actor)
    db.session.commit()
    return document


def confirm(case: AbsenceCase, actor, *, note: str | None = None, review_note: str | None = None,
            not_before: date | None = None) -> Document:
    """HR confirms the termination: the notice is issued (to be served like the return notice) and the
    employee is `termination_pending`. Raises TerminationRefused naming every unmet precondition."""
    now = clock.now()
    reasons = unmet(case, now, review_note)
    if not_before is not None and not_before < clock.today():
        reasons.append(_("A termination date cannot be in the past: it takes effect when the notice is served."))
    if reasons:
        raise TerminationRefused(reasons)
    document = documents.issue(KIND, case.employee, case, _facts(case, actor, not_before, now), actor)
    separation = Separation(employee_id=case.employee_id, kind="dismissal", case_id=case.id, document_id=document.id,
                            not_before=not_before, note=(note or "").strip() or None,
                            review_note=(review_note or "").strip() or None,
                            confirmed_by=evidence.actor_of(actor), confirmed_at=now)
    db.session.add(separation)
    case.employee.status = "termination_pending"
    for todo in case.todos:
        if todo.kind in ("notify_union", "confirm_termination") and todo.done_at is None:
            todo.done_at, todo.done_by = now, evidence.actor_of(actor)
    db.session.flush()
    evidence.record("absence.termination_confirmed", subject(case.id), {
        "document": document.id, "number": document.number, "employee": case.employee.employee_no,
        "union": union.gate(case, now).basis, "note": separation.note, "review_note": separation.review_note,
        "not_before": not_before}, actor=actor)
    service.sync_todos(case, kind=KIND)
    db.session.commit()
    return document


def effective_on(case: AbsenceCase, separation: Separation) -> date | None:
    """The termination date: the notice's service date, or the later date it states; None while not served."""
    served = service.case_service(case, KIND).served_on
    if served is None:
        return None
    return max(served, separation.not_before) if separation.not_before else served


# ---------------------------------------------------------------- after termination (第五十条)


def _years_of_service(start: date, end: date) -> tuple[str, str]:
    months = (end.year - start.year) * 12 + end.month - start.month - (1 if end.day < start.day else 0)
    years, rest = divmod(max(months, 0), 12)
    zh = (f"{years}年" if years else "") + (f"{rest}个月" if rest or not years else "")
    en = ", ".join(part for part in (f"{years} year(s)" if years else "", f"{rest} month(s)" if rest or not years
                                     else "") if part)
    return zh, en


def issue_certificate(separation: Separation, actor="system") -> Document:
    """The 《解除劳动合同证明》: contract term, end date, position, years of service, who ended it; nothing
    disparaging (it matters for unemployment benefit)."""
    employee = separation.employee
    national_id = sensitive.mask(sensitive.decrypt(employee.national_id_encrypted)) \
        if employee.national_id_encrypted else None
    years_zh, years_en = _years_of_service(employee.hire_date, separation.effective_on)
    ending_zh, ending_en = ENDINGS[separation.kind]
    case = db.session.get(AbsenceCase, separation.case_id) if separation.case_id else None
    document = documents.issue("termination_certificate", employee, case, {
        "employee": {"name": employee.name, "employee_no": employee.employee_no,
                     "department": employee.department.name, "position": employee.position,
                     "national_id_masked": national_id},
        "hired_on": employee.hire_date.isoformat(), "contract_end": None,
        "ended_on": separation.effective_on.isoformat(), "ending": ending_zh, "ending_en": ending_en,
        "years_of_service": years_zh, "years_of_service_en": years_en}, actor)
    separation.certificate_id = document.id
    return document


def last_working_day_by(day: date) -> date:
    """A deadline that does not move for holidays is acted on by the last working day on or before it (a
    15-day transfer due on a Sunday is done by Friday): the day the to-do warns."""
    from lms.absence import calendar

    span = [day - timedelta(days=n) for n in range(0, 31)]
    infos = calendar.classify(span)
    return next((d for d in span if infos[d].is_workday), day)


def end_employment(separation: Separation, on: date, actor="system") -> None:
    """The employment ended on `on`: status, the certificate, the 15-day transfer to-dos, evidence."""
    employee = separation.employee
    separation.effective_on = on
    employee.status, employee.terminated_on = "terminated", on
    certificate = issue_certificate(separation, actor)
    due = on + timedelta(days=TRANSFER_DAYS)
    now = clock.now()
    for kind in ("send_certificate", "transfer_file", "transfer_insurance"):
        db.session.add(CaseTodo(case_id=separation.case_id, employee_id=employee.id, kind=kind, created_at=now,
                                due_on=on if kind == "send_certificate" else due))
    from lms.insurance import stop  # the 减员 filing follows the end of employment

    si_stop = stop.open_filing_todo(employee, separation.case_id)
    evidence.record("people.employment_ended", evidence.subject_of("employee", employee.id), {
        "employee": employee.employee_no, "kind": separation.kind, "effective_on": on, "case": separation.case_id,
        "certificate": certificate.number, "transfers_due": due, "warn_on": last_working_day_by(due),
        "si_stop": si_stop}, actor=actor)


def apply_due_separations(now: datetime) -> int:
    """Each separation whose date has come ends the employment: a dismissal once its notice is served (the
    case resolves, keeping the days it counted), another ending on the date HR recorded. The certificate is
    issued and the transfers open. Returns how many."""
    pending = db.session.scalars(select(Separation).where(Separation.effective_on.is_(None))
                                 .order_by(Separation.id)).all()
    today = clock.local(now).date()
    done = 0
    for separation in pending:
        case = db.session.get(AbsenceCase, separation.case_id) if separation.case_id else None
        on = effective_on(case, separation) if separation.kind == "dismissal" else separation.not_before
        if on is None or on > today:
            continue
        if case is not None and case.is_open:  # first: resolving closes the case's open to-dos
            cases.resolve(case, "terminated", at=now, commit=False)
        end_employment(separation, on)
        done += 1
    db.session.commit()
    return done


def lagging(case: AbsenceCase, now: datetime | None = None) -> str | None:
    """A warning when the termination lags the effective deadline by more than 30 days (an arbitrator asks why
    the employer waited)."""
    rtw = service.case_service(case)
    if rtw.effective is None:
        return None
    separation = separation_of(case)
    end = separation.effective_on if separation and separation.effective_on else clock.local(now or clock.now()).date()
    if (end - rtw.effective).days > LAG_WARNING_DAYS:
        return _("The termination lags the effective deadline (%(day)s) by more than %(n)s days: record why the "
                 "company waited.", day=short_date(rtw.effective), n=LAG_WARNING_DAYS)
    return None


# ---------------------------------------------------------------- other endings


def record_separation(employee: Employee, kind: str, on: date, actor, note: str | None = None) -> Separation:
    """A resignation, a mutual agreement or an expiry, effective on `on` (today or earlier: at once; later:
    the tick ends the employment that day), with the same certificate and transfer to-dos as a dismissal."""
    if kind not in ("resignation", "mutual", "expiry"):
        raise CaseError(_l("The ending is one of resignation, mutual or expiry (a dismissal goes through an "
                           "absence case)."))
    if db.session.scalar(select(Separation.id).where(Separation.employee_id == employee.id,
                                                     Separation.effective_on.is_(None))) is not None:
        raise CaseError(_l("An ending of %(name)s's employment is already pending.", name=employee.name))
    if employee.status == "terminated":
        raise CaseError(_l("%(name)s's employment has already ended (%(day)s).", name=employee.name,
                           day=employee.terminated_on.isoformat() if employee.terminated_on else "—"))
    if on < employee.hire_date:
        raise CaseError(_l("The end date is before the hire date (%(day)s).", day=employee.hire_date.isoformat()))
    if on > clock.today() + timedelta(days=366):
        raise CaseError(_l("The end date is more than a year ahead."))
    separation = Separation(employee_id=employee.id, kind=kind, not_before=on, note=(note or "").strip() or None,
                            confirmed_by=evidence.actor_of(actor), confirmed_at=clock.now())
    db.session.add(separation)
    db.session.flush()
    evidence.record("people.separation_recorded", evidence.subject_of("employee", employee.id), {
        "employee": employee.employee_no, "kind": kind, "effective_on": on, "note": separation.note}, actor=actor)
    if on <= clock.today():
        end_employment(separation, on, actor)
    db.session.commit()
    return separation
