"""One page of a list: a count and one page query, whatever the list. Every paged HTML list uses this (with the
shared `pager` macro), so that each counts, clamps and offsets the same way."""

from __future__ import annotations

from sqlalchemy import Select, func, select

from lms.extensions import db

PAGE_SIZE = 50


def page_of(query: Select, page: int | None, *, order_by=(), scalars: bool = False,
            size: int = PAGE_SIZE) -> tuple[list, int, int, int]:
    """(rows, page, pages, total) of `query` ordered by `order_by` (or its own order), `size` rows a page; the
    page asked for is clamped to the pages there are (a page past the end shows the last)."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    pages = max((total + size - 1) // size, 1)
    page = min(max(page or 1, 1), pages)
    paged = (query.order_by(*order_by) if order_by else query).limit(size).offset((page - 1) * size)
    rows = db.session.scalars(paged).all() if scalars else db.session.execute(paged).all()
    return list(rows), page, pages, total
