"""The employee's page is where HR starts: training on record, absence cases, and the dispute file."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from lms.extensions import db
from lms.people.models import Employee


@pytest.fixture
def demo(app, runner):
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    return app


def _hr(app):
    client = app.test_client()
    assert client.post("/login", data={"username": "hr", "password": "demo-hr-2026"}).status_code == 302
    return client


def _id(number: str) -> int:
    return db.session.scalars(select(Employee.id).where(Employee.employee_no == number)).one()


def test_hr_sees_training_cases_and_the_dispute_file_on_the_employee_page(demo):
    client = _hr(demo)
    page = client.get(f"/people/employees/{_id('E0014')}").get_data(as_text=True)
    assert page.count('data-test="record-enrollment"') >= 1
    assert page.count('data-test="record-attestation"') == 3
    attempts = re.findall(r'data-test="record-attempt">(.*?)</tr>', page, flags=re.S)
    assert len(attempts) == 3 and all(re.search(r"\d+\.\d", row) for row in attempts if "in progress" not in row)
    certificates = re.findall(r'data-test="record-certificate">(.*?)</li>', page, flags=re.S)
    assert len(certificates) == 3
    link = re.search(r'href="(/exams/certificates/\d+\.pdf)"', certificates[0]).group(1)
    assert client.get(link).content_type == "application/pdf"
    # Her absence case, linked; and the action that builds the dispute file from her page.
    assert re.search(r'data-test="employee-case"><a href="/absence/cases/\d+"', page)
    assert 'data-test="build-dispute-file"' in page
    assert f'action="/absence/employees/{_id("E0014")}/dispute-file"' in page


def test_the_page_takes_the_same_number_of_queries_however_long_the_record(demo, count_statements):
    client = _hr(demo)
    counts = []
    for number in ("E0014", "E0091"):  # three of everything and a case; one attempt and nothing else
        with count_statements() as statements:
            assert client.get(f"/people/employees/{_id(number)}").status_code == 200
        counts.append(len(statements))
    assert counts[0] <= counts[1] + 1, counts
