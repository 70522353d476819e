"""Rule clauses in words: a clause id (`leave.notice`) is a key for the code, its title is what people read."""

from __future__ import annotations

from flask import g, has_request_context
from sqlalchemy import select

from lms.courses.models import RuleClause, RuleSet
from lms.extensions import db


def clause_titles(locale: str | None = None) -> dict[str, str]:
    """Each clause's title in `locale` (the viewer's by default), as the newest rule set words it; one query."""
    if locale is None:
        from lms.ui import current_locale

        locale = current_locale() if has_request_context() else "zh_CN"
    zh = locale == "zh_CN"
    rows = db.session.execute(select(RuleClause.clause_id, RuleClause.title_zh, RuleClause.title_en)
                              .join(RuleClause.rule_set).order_by(RuleSet.effective_from, RuleSet.id))
    return {clause: (title_zh if zh else title_en) for clause, title_zh, title_en in rows}


def clause_title(clause_id: str) -> str:
    """One clause's title for a page (the titles are read once per request); the id if no rule set names it."""
    if not has_request_context():
        return clause_titles().get(clause_id, clause_id)
    if "clause_titles" not in g:
        g.clause_titles = clause_titles()
    return g.clause_titles.get(clause_id, clause_id)
