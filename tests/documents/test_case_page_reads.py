"""The case page's sections (service, union, termination) share what they read: the return-to-work notice,
its dispatches, the union records, the no-union record and the separation are each read once per page, not
once per section that asks (what the sections show is checked by the union and termination tests)."""

from __future__ import annotations

from datetime import datetime

from tests.documents.conftest import at


def test_the_case_page_reads_each_case_fact_once(past_deadline, login_as, count_statements):
    case = past_deadline
    hr = login_as("hr")
    with at(datetime(2026, 6, 26, 9, 30)):
        hr.get(f"/absence/cases/{case.id}")  # the layout's own caches warm up
        with count_statements() as seen:
            page = hr.get(f"/absence/cases/{case.id}").get_data(as_text=True)
    reads = [" ".join(s.split()) for s in seen]

    def count(table: str) -> int:
        return sum(1 for s in reads if f"FROM {table} WHERE {table}.case_id" in s or f"FROM {table} ORDER" in s)

    assert 'data-test="union-notice-form"' in page and "第四十三条" in page  # every section is on the page
    assert count("dispatch") == 1 and count("union_record") == 1 and count("no_union_record") == 1
    assert count("separation") == 1
    # Each kind of document once: the return-to-work notice, the termination notice and its certificate (the
    # service form offers each), the letter to the union.
    assert sum(1 for s in reads if "FROM document WHERE document.case_id = " in s and "AND document.kind = " in s) == 4
