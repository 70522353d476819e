"""Campaign templates (content/campaigns/*.yaml) and the quarter that runs itself.

Each template launches its campaign once per period (a quarter, or a year) on the period's first
working day by the working-day calendar — in 2026 the fourth quarter starts on 10.8, after the
National Day holiday — and HR may launch any template by hand.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import yaml
from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from lms import clock
from lms.absence import calendar
from lms.campaigns import services
from lms.campaigns.models import Campaign
from lms.config import PROJECT_DIR
from lms.extensions import db

EVERY = ("quarter", "year")
log = logging.getLogger(__name__)


class TemplateError(ValueError):
    pass


@dataclass(frozen=True)
class Template:
    slug: str
    name_zh: str
    name_en: str
    kind: str
    every: str
    window_days: int
    remind_days_before: int
    grace_days: int
    retest_extra: int
    rules: list[dict]

    def name(self, locale: str) -> str:
        return self.name_zh if locale == "zh_CN" else self.name_en


def templates_dir() -> Path:
    return Path(current_app.config.get("LMS_CAMPAIGN_TEMPLATES") or PROJECT_DIR / "content" / "campaigns")


def read_template(path: Path) -> Template:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    slug = data.get("template") or path.stem
    name = data.get("name") or {}
    every = data.get("every", "quarter")
    if every not in EVERY:
        raise TemplateError(f"{path}: every must be one of {EVERY}")
    if not data.get("rules"):
        raise TemplateError(f"{path}: a template needs rules")
    for n, rule in enumerate(data["rules"], start=1):
        unknown = set(rule) - set(services.RULE_FIELDS) - {"course", "exam"}
        if unknown or not rule.get("course") or not rule.get("exam"):
            raise TemplateError(f"{path}: rule {n} needs course and exam and knows only {services.RULE_FIELDS}")
    return Template(slug=slug, name_zh=name.get("zh", slug), name_en=name.get("en", slug),
                    kind=data.get("kind", "refresher"), every=every, window_days=int(data.get("window_days", 30)),
                    remind_days_before=int(data.get("remind_days_before", 3)),
                    grace_days=int(data.get("grace_days", 5)), retest_extra=int(data.get("retest_extra", 1)),
                    rules=list(data["rules"]))


def read_templates(root: Path | None = None) -> list[Template]:
    root = root or templates_dir()
    return [read_template(path) for path in sorted(root.glob("*.yaml"))] if root.is_dir() else []


def template(slug: str) -> Template | None:
    return next((t for t in read_templates() if t.slug == slug), None)


def period_of(day: date, every: str) -> tuple[str, date]:
    """The period a day lies in and its first calendar day: ("2026Q4", 2026-10-01) or ("2026", 2026-01-01)."""
    if every == "year":
        return str(day.year), date(day.year, 1, 1)
    quarter = (day.month - 1) // 3 + 1
    return f"{day.year}Q{quarter}", date(day.year, 3 * quarter - 2, 1)


def first_working_day(start: date) -> date | None:
    """The first working day on or after `start` by the working-day calendar (None: unknown days)."""
    days = calendar.classify(start + timedelta(days=n) for n in range(31))
    for day, info in sorted(days.items()):
        if info.kind == calendar.UNKNOWN:
            return None
        if info.is_workday:
            return day
    return None


def _due_on(tpl: Template, launch_on: date) -> date:
    """Launch + the window, moved to a working day."""
    due = launch_on + timedelta(days=tpl.window_days)
    return first_working_day(due) or due


def _launch(tpl: Template, period: str, launch_on: date, actor) -> Campaign:
    due_on = _due_on(tpl, launch_on)
    campaign = services.create_campaign({
        "name": f"{tpl.name_zh} {period}", "kind": tpl.kind, "launch_on": launch_on, "due_on": due_on,
        "rules": tpl.rules, "min_window_days": tpl.window_days, "remind_days_before": tpl.remind_days_before,
        "grace_days": tpl.grace_days, "retest_extra": tpl.retest_extra}, actor, template_slug=tpl.slug,
        period=period, commit=False)
    try:
        db.session.flush()
    except IntegrityError:  # another worker launched it a moment ago
        db.session.rollback()
        raise services.CampaignStateError(f"{tpl.slug} has been launched for {period} already") from None
    return services.launch(campaign.id, actor)


def launch_due_templates(today: date) -> list[Campaign]:
    """Launch each template whose period has reached its first working day and has no campaign yet."""
    launched = []
    for tpl in read_templates():
        period, start = period_of(today, tpl.every)
        first = first_working_day(start)
        if first is None or today < first or today > _due_on(tpl, first):
            continue  # not yet; or the period's campaign would be overdue at once: not launched late
        exists = db.session.scalar(select(Campaign.id).where(Campaign.template_slug == tpl.slug,
                                                             Campaign.period == period))
        if exists is None:
            try:
                launched.append(_launch(tpl, period, first, None))
            except services.CampaignStateError:
                continue
            except services.CampaignError as exc:  # e.g. its course not synced yet: tried again next pass
                db.session.rollback()
                log.warning("campaign template %s cannot launch for %s: %s", tpl.slug, period, exc)
    return launched


def launch_template_now(slug: str, actor) -> Campaign:
    """HR launches a template by hand, today, for the current period (then the tick will not)."""
    tpl = template(slug)
    if tpl is None:
        raise services.CampaignError([("template", f"no such template: {slug}")])
    today = clock.today()
    period, _start = period_of(today, tpl.every)
    if db.session.scalar(select(Campaign.id).where(Campaign.template_slug == slug, Campaign.period == period)):
        raise services.CampaignStateError(f"{slug} has been launched for {period} already")
    return _launch(tpl, period, today, actor)
