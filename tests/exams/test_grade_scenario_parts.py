"""A scenario question answered right in every part is full marks, however many parts: the shares
are exact fractions, so three thirds (or six sixths, seven sevenths) make one."""

from __future__ import annotations

import copy
from decimal import Decimal

import pytest

from lms.exams import services
from lms.extensions import db
from tests.exams.test_take_exam import right_answers


@pytest.fixture
def exam(app, content):
    content.sync()
    return services.current_exam("onboarding")


@pytest.mark.parametrize("parts", [3, 6, 7])
def test_a_scenario_with_every_part_right_is_full_marks(exam, org, parts):
    attempt = services.start_attempt(org.learner.id, "onboarding")
    paper = copy.deepcopy(attempt.paper)
    scenario = next(item for item in paper if item["type"] == "scenario")
    template = scenario["parts"][0]
    scenario["parts"] = [{**copy.deepcopy(template), "id": f"p{n}"} for n in range(1, parts + 1)]
    attempt.paper = paper
    db.session.commit()
    choices = {key: value for item in attempt.paper for key, value in right_answers(item).items()}
    services.submit(attempt, choices)
    assert attempt.score == Decimal("100.0") and attempt.is_passed
    assert attempt.results[str(scenario["n"])] == {"earned": "1.000", "full": True}
    [row] = [r for r in services.question_analytics("onboarding") if r["id"] == scenario["id"]]
    assert (row["drawn"], row["right"]) == (1, 1)


def test_two_of_three_parts_right_is_two_thirds_of_the_question(exam, org):
    attempt = services.start_attempt(org.learner.id, "onboarding")
    paper = copy.deepcopy(attempt.paper)
    scenario = next(item for item in paper if item["type"] == "scenario")
    scenario["parts"] = [{**copy.deepcopy(scenario["parts"][0]), "id": f"p{n}"} for n in (1, 2, 3)]
    attempt.paper = paper
    db.session.commit()
    choices = {key: value for item in attempt.paper for key, value in right_answers(item).items()}
    wrong = f"{scenario['n']}.p3"
    choices[wrong] = ["true"] if choices[wrong] == ["false"] else ["false"]
    services.submit(attempt, choices)
    assert attempt.results[str(scenario["n"])] == {"earned": "0.667", "full": False}
    # three questions: 1 + 1 + 2/3 of 3 → 88.9
    assert attempt.score == Decimal("88.9")
