"""The union gate before a unilateral termination (《劳动合同法》第四十三条, SPEC §4).

The employer must tell the union the reasons in writing before terminating, consider its opinion,
and answer an objection in writing. HR records the facts one by one — the notice given (when, to
which union, who signed the receipt, its scan), the union's opinion, the company's reply — each an
evidence event on the case. `gate()` reads them: termination may be confirmed only once the receipt
is on record and either the union raised no objection, or it objected and the reply is on record, or
the waiting period (`termination.union_wait_days` of the rule set, default 3 calendar days) has
ended since the receipt with no answer. Without the notice the termination is unlawful; a missing
notice can be cured only before the employee files a claim (劳动争议司法解释（一）第四十七条).

A company without a union records that once (`record_no_union`, with its evidence); the same gate then
asks for the notice to the body the settings name (LMS_UNION_ALTERNATIVE: the employees'
representatives or the regional union), and says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms import clock, evidence
from lms.absence import reads, service
from lms.absence.cases import CaseError, day_end, subject
from lms.absence.models import UNION_OPINIONS, AbsenceCase, NoUnionRecord, UnionRecord
from lms.absence.rules import rules_by_day
from lms.documents.files import described
from lms.documents.models import StoredFile
from lms.extensions import db
from lms.ui import short_date

DEFAULT_WAIT_DAYS = 3
ARTICLE = "《劳动合同法》第四十三条"
ALTERNATIVES = {"employee_representatives": _l("the employees' representatives (职工代表)"),
                "regional_union": _l("the regional union (所在地区的地方工会)")}


def no_union() -> NoUnionRecord | None:
    """The company's record that it has no union, if HR made one."""
    return reads.read_once(("no_union",), lambda: db.session.scalars(
        select(NoUnionRecord).order_by(NoUnionRecord.id.desc())).first())


def body_to_notify() -> str:
    """Whom the gate asks to be notified: the union, or (no union on record) the body the settings name."""
    if no_union() is None:
        return _("the union")
    return str(ALTERNATIVES.get(current_app.config["LMS_UNION_ALTERNATIVE"], ALTERNATIVES["employee_representatives"]))


def addressee(case: AbsenceCase) -> str:
    """Whom the letter about this case is addressed to, by default: the union named before, else the
    company's union, or (no union on record) the body the settings name."""
    named = [r.union_name for r in records(case) if r.union_name]
    if named:
        return named[-1]
    with force_locale("zh_CN"):  # it is written into a Chinese letter, whatever HR's language
        return body_to_notify() if no_union() else _("the company's labour union")


def record_no_union(note: str, evidence_file: StoredFile | None, actor) -> NoUnionRecord:
    """Record once that the company has no union, with its evidence (e.g. the union registration search)."""
    if no_union() is not None:
        raise UnionRefused(_l("That the company has no union is already on record."))
    if not (note or "").strip():
        raise UnionRefused(_l("Say how you established that the company has no union (e.g. the search of the union "
                              "registration)."))
    record = NoUnionRecord(note=note.strip(), file_id=evidence_file.id if evidence_file else None,
                           recorded_by=evidence.actor_of(actor), recorded_at=clock.now())
    db.session.add(record)
    db.session.flush()
    evidence.record("absence.no_union_recorded", "company:union", {
        "note": record.note, "notify_instead": current_app.config["LMS_UNION_ALTERNATIVE"],
        "scan": described(evidence_file) if evidence_file else None}, actor=actor)
    db.session.commit()
    return record


class UnionRefused(CaseError):
    """A union fact that cannot be recorded; the message says why."""


@dataclass
class Gate:
    """Whether termination may be confirmed as far as the union is concerned, and why (or why not)."""

    holds: bool
    reasons: list[str] = field(default_factory=list)  # what is missing, each naming 第四十三条
    basis: str | None = None  # why it holds, in words
    possible_from: datetime | None = None  # when it will hold if nothing else happens (the waiting period)
    notice: UnionRecord | None = None
    opinion: UnionRecord | None = None
    reply: UnionRecord | None = None


def records(case: AbsenceCase) -> list[UnionRecord]:
    return reads.read_once(("union_records", case.id), lambda: list(db.session.scalars(
        select(UnionRecord).where(UnionRecord.case_id == case.id).order_by(UnionRecord.at, UnionRecord.id))))


def wait_days(at: datetime) -> int:
    """The rule set's waiting period for the union's answer (values of clause `termination`)."""
    day = clock.local(at).date()
    rules = rules_by_day([day])[day]
    if rules is None or rules.rule_set_id is None:
        return DEFAULT_WAIT_DAYS
    from lms.courses.models import RuleClause

    values = db.session.scalar(select(RuleClause.values).where(
        RuleClause.rule_set_id == rules.rule_set_id, RuleClause.clause_id == "termination")) or {}
    return int(values.get("union_wait_days", DEFAULT_WAIT_DAYS))


def gate(case: AbsenceCase, now: datetime | None = None) -> Gate:
    """The union gate as of `now`, from the case's union records."""
    now = now or clock.now()
    facts = [r for r in records(case) if r.at <= now]
    notices = [r for r in facts if r.kind == "notice"]
    if not notices:
        return Gate(False, [_("%(article)s: %(body)s has not been notified of the reasons in writing (no receipt "
                              "is on record).", article=ARTICLE, body=body_to_notify())])
    notice = notices[-1]
    opinions = [r for r in facts if r.kind == "opinion" and r.at >= notice.at]
    opinion = opinions[-1] if opinions else None
    result = Gate(False, notice=notice, opinion=opinion)
    if opinion is not None and opinion.opinion == "no_objection":
        result.holds, result.basis = True, _("The union raised no objection on %(day)s.",
                                             day=short_date(clock.local(opinion.at).date()))
        return result
    if opinion is not None:
        replies = [r for r in facts if r.kind == "reply" and r.at >= opinion.at]
        result.reply = replies[-1] if replies else None
        if result.reply is not None:
            result.holds, result.basis = True, _(
                "The union objected on %(objected)s; the company answered in writing on %(replied)s.",
                objected=short_date(clock.local(opinion.at).date()),
                replied=short_date(clock.local(result.reply.at).date()))
            return result
        result.reasons.append(_("%(article)s: the union objected on %(day)s; record the company's written reply "
                                "first.", article=ARTICLE, day=short_date(clock.local(opinion.at).date())))
        return result
    days = wait_days(notice.at)
    ends = day_end(clock.local(notice.at).date() + timedelta(days=days))
    if now >= ends:
        result.holds, result.basis = True, _(
            "The union gave no answer within %(n)s days of the notice of %(day)s.", n=days,
            day=short_date(clock.local(notice.at).date()))
        return result
    result.possible_from = ends
    result.reasons.append(_("%(article)s: the union was notified on %(day)s and has not answered; without an answer, "
                            "termination is possible from %(from)s.", article=ARTICLE,
                            day=short_date(clock.local(notice.at).date()),
                            **{"from": clock.local(ends).strftime("%Y-%m-%d %H:%M")}))
    return result


# ---------------------------------------------------------------- recording the facts


def _checked_time(at: datetime) -> datetime:
    at = clock.as_utc(at)
    if at > clock.now() + timedelta(minutes=5):
        raise UnionRefused(_l("The time is in the future."))
    return at


def _record(case: AbsenceCase, kind: str, at: datetime, actor, *, stored: StoredFile | None = None,
            **values) -> UnionRecord:
    record = UnionRecord(case_id=case.id, kind=kind, at=at, file_id=stored.id if stored else None,
                         recorded_by=evidence.actor_of(actor), recorded_at=clock.now(), **values)
    db.session.add(record)
    db.session.flush()
    evidence.record(f"absence.union_{kind}", subject(case.id), {
        "record": record.id, "at": at, **{k: v for k, v in values.items() if v is not None},
        "scan": described(stored) if stored else None}, actor=actor)
    db.session.commit()
    return record


def record_notice(case: AbsenceCase, *, at: datetime, union_name: str, receipt_signed_by: str,
                  receipt: StoredFile | None = None, actor=None) -> UnionRecord:
    """The written notice of the reasons given to the union, with its receipt; only once the effective
    deadline's day has ended (nothing about termination may be drafted before)."""
    at = _checked_time(at)
    if not case.is_open:
        raise UnionRefused(_l("This case is already resolved."))
    if case.paused_at is not None:
        raise UnionRefused(_l("A reply or a return awaits HR's decision: decide on it first."))
    passed, why = service.deadline_has_passed(case, at)
    if not passed:
        raise UnionRefused(_l("The union can be notified of a termination only after the effective deadline has "
                              "passed: %(why)s", why=why))
    if not (union_name or "").strip() or not (receipt_signed_by or "").strip():
        raise UnionRefused(_l("Name the union notified and who signed its receipt."))
    for todo in case.todos:
        if todo.kind == "notify_union" and todo.done_at is None:
            todo.done_at, todo.done_by = clock.now(), evidence.actor_of(actor)
    return _record(case, "notice", at, actor, stored=receipt, union_name=union_name.strip()[:200],
                   receipt_signed_by=receipt_signed_by.strip()[:120])


def record_opinion(case: AbsenceCase, *, at: datetime, opinion: str, text: str | None = None,
                   actor=None) -> UnionRecord:
    """The union's opinion: no objection, or an objection with its text."""
    at = _checked_time(at)
    if opinion not in UNION_OPINIONS:
        raise UnionRefused(_l("The union's opinion is “no objection” or “objection”."))
    notice = gate(case, at).notice
    if notice is None:
        raise UnionRefused(_l("No notice to the union is on record before %(at)s.",
                              at=clock.local(at).strftime("%Y-%m-%d %H:%M")))
    if opinion == "objection" and not (text or "").strip():
        raise UnionRefused(_l("Give the text of the union's objection."))
    return _record(case, "opinion", at, actor, opinion=opinion, text=(text or "").strip() or None)


def record_reply(case: AbsenceCase, *, at: datetime, text: str, actor=None) -> UnionRecord:
    """The company's written reply to the union's objection."""
    at = _checked_time(at)
    current = gate(case, at)
    if current.opinion is None or current.opinion.opinion != "objection":
        raise UnionRefused(_l("The union has not objected: there is nothing to reply to."))
    if not (text or "").strip():
        raise UnionRefused(_l("Give the text of the company's reply."))
    return _record(case, "reply", at, actor, text=text.strip())
