"""A refresher's draw is personalised: a clause answered wrongly in the last graded attempt gets its
count + retest_extra questions, preferring unseen ones; the paper is frozen and the pass mark unchanged."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from lms import clock
from lms.campaigns import retest, services
from lms.courses.models import RuleClause
from lms.courses.services import sync_content
from lms.exams import services as exams
from lms.exams.content import question_clause
from lms.exams.models import ExamAttempt
from lms.extensions import db
from tests.campaigns.test_quarter_runs_itself import right_answers


def clauses_of(paper: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in paper:
        clause = question_clause(item)
        counts[clause] = counts.get(clause, 0) + 1
    return counts


def sit_onboarding(employee_id: int, wrong_clause: str | None) -> ExamAttempt:
    attempt = exams.start_attempt(employee_id, "onboarding")
    choices = {}
    for item in attempt.paper:
        units = item["parts"] if item["type"] == "scenario" else [item]
        for (slot, right), unit in zip(right_answers(item).items(), units, strict=True):
            choices[slot] = [] if unit["clause"] == wrong_clause else right  # nothing ticked: wrong
    return exams.submit(attempt, choices)


def units_of(paper: list[dict], clause: str) -> int:
    return sum(1 for item in paper for unit in item.get("parts", [item]) if unit["clause"] == clause)


def test_a_person_who_got_the_threshold_wrong_gets_more_threshold_questions(app, make_employee, client):
    sync_content()
    shaky = make_employee("答错的", status="active", hire_date=date(2026, 1, 5))
    steady = make_employee("全对的", status="active", hire_date=date(2026, 1, 5))
    with clock.frozen(clock.as_utc(datetime(2026, 3, 2, 10, 0))):
        onboarding = sit_onboarding(shaky.id, "absence.threshold")
        sit_onboarding(steady.id, None)
    assert retest.wrong_clauses(onboarding) == {"absence.threshold"}
    with clock.frozen(clock.as_utc(datetime(2026, 4, 1, 9, 0))):
        services.assign([shaky.id, steady.id], "employee-handbook", "quarterly-refresher", date(2026, 5, 6), "hr",
                        source="hr")
    with clock.frozen(clock.as_utc(datetime(2026, 4, 2, 10, 0))):
        refresher = exams.start_attempt(shaky.id, "quarterly-refresher")
        usual = exams.start_attempt(steady.id, "quarterly-refresher")
        assert exams.start_attempt(shaky.id, "quarterly-refresher").id == refresher.id  # resumed, not redrawn
    exam = exams.current_exam("quarterly-refresher")
    assert exam.draw["absence.threshold"] == 3 and exam.pass_mark == 80
    assert clauses_of(usual.paper) == exam.draw
    assert clauses_of(refresher.paper) == {**exam.draw, "absence.threshold": 4}  # 3 + retest_extra 1
    seen = {item["id"] for item in onboarding.paper}
    threshold_now = [i["id"] for i in refresher.paper if question_clause(i) == "absence.threshold"]
    assert not set(threshold_now) & seen  # 14 in the bank: all four are new to this person
    db.session.expire_all()
    stored = db.session.get(ExamAttempt, refresher.id)
    assert [i["id"] for i in stored.paper] == [i["id"] for i in refresher.paper]  # frozen on the attempt
    assert stored.exam_version.pass_mark == 80
    progress = {row["clause"]: row["cycles"] for row in retest.clause_progress(shaky.id)}
    assert progress["absence.threshold"][0] == {"right": 0, "asked": units_of(onboarding.paper, "absence.threshold"),
                                                "all_right": False}
    assert all(cells[0]["all_right"] for clause, cells in progress.items() if clause != "absence.threshold")


def test_the_attempt_api_names_each_questions_clause(app, make_employee, make_user, client):
    sync_content()
    person = make_employee("应用用户", status="active")
    make_user("appuser", "employee", person)
    token = client.post("/api/v1/auth/token", json={"username": "appuser", "password": "correct-horse-battery"})
    headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
    started = client.post("/api/v1/exams/onboarding/attempts", headers=headers).get_json()
    shown = client.get(f"/api/v1/attempts/{started['id']}", headers=headers).get_json()["questions"]
    paper = {i["n"]: i for i in db.session.get(ExamAttempt, started["id"]).paper}
    assert [q["clause"] for q in shown] == [question_clause(paper[q["n"]]) for q in shown]
    assert all("correct" not in option for q in shown for option in q.get("options", []))


def test_the_refreshers_result_page_shows_progress_per_clause_across_cycles(app, make_employee, make_user):
    sync_content()
    shaky = make_employee("答错的", status="active", hire_date=date(2026, 1, 5))
    make_user("shaky", "employee", shaky)
    with clock.frozen(clock.as_utc(datetime(2026, 3, 2, 10, 0))):
        onboarding = sit_onboarding(shaky.id, "absence.threshold")
    client = app.test_client()
    client.post("/login", data={"username": "shaky", "password": "correct-horse-battery"})
    client.post("/language", data={"locale": "en"})
    before = client.get(f"/exams/attempts/{onboarding.id}/result").get_data(as_text=True)
    assert 'data-test="clause-progress"' not in before  # onboarding alone: no refresher, no progress table
    with clock.frozen(clock.as_utc(datetime(2026, 4, 1, 9, 0))):
        services.assign([shaky.id], "employee-handbook", "quarterly-refresher", date(2026, 5, 6), "hr", source="hr")
    with clock.frozen(clock.as_utc(datetime(2026, 4, 2, 10, 0))):
        refresher = exams.start_attempt(shaky.id, "quarterly-refresher")
        exams.submit(refresher, {slot: right for item in refresher.paper
                                 for slot, right in right_answers(item).items()})
        page = client.get(f"/exams/attempts/{refresher.id}/result").get_data(as_text=True)
        mine = client.get("/campaigns/mine").get_data(as_text=True)
    table = page.split('data-test="clause-progress"')[1].split("</table>")[0]
    threshold = units_of(onboarding.paper, "absence.threshold")
    title = db.session.scalars(select(RuleClause.title_en).where(RuleClause.clause_id == "absence.threshold")).first()
    row = next(r for r in table.split("<tr>") if f">{title}<" in r)
    now_asked = units_of(refresher.paper, "absence.threshold")
    assert f">0/{threshold}<" in row and f">{now_asked}/{now_asked}<" in row  # all wrong, then all right
    head = table.split("</thead>")[0]
    assert head.count("<th>") == 3 and "· 2026-03-02</th>" in head and "· 2026-04-02</th>" in head  # two cycles
    assert 'data-test="clause-progress"' in mine
