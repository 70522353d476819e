"""A rule naming a department matches it and its sub-departments at any depth, in the preview, the
launch (a fixed number of statements, however deep the tree) and the late-joiner tick."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from lms import clock
from lms.campaigns import services
from lms.campaigns.models import Assignment
from lms.extensions import db
from lms.people import departments
from lms.people.models import Department

LAUNCH = date(2026, 10, 8)


def campaign(rules):
    return services.create_campaign({"name": "Q4", "kind": "refresher", "launch_on": LAUNCH,
                                     "due_on": date(2026, 11, 9), "rules": rules})


def rule(**fields):
    return {"course": "handbook", "exam": "onboarding", **fields}


def chain(make_employee, depth: int, prefix: str) -> list:
    """One person in each department of a chain 销售部 → {prefix}1 → … → {prefix}{depth}."""
    people, parent = [], "销售部"
    for level in range(1, depth + 1):
        name = f"{prefix}{level}"
        people.append(make_employee(f"{prefix}员工{level}", department=name, parent_department=parent,
                                    status="active"))
        parent = name
    return people


def test_a_department_rule_matches_every_sub_department_at_any_depth(synced, make_employee):
    top = make_employee("总部销售", department="销售部", status="active")
    east, shanghai, pudong = chain(make_employee, 3, "华东")
    other = make_employee("司机", department="物流部", status="active")
    found = services.preview(campaign([rule(department="华东1", course="urgent"), rule(department="销售部")]))
    by_person = {row["employee_no"]: row["rule"] for row in found["assignments"]}
    assert by_person == {east.employee_no: 1, shanghai.employee_no: 1, pudong.employee_no: 1, top.employee_no: 2}
    assert [row["employee_no"] for row in found["unmatched"]] == [other.employee_no]
    # a sub-department's rule does not reach up to its parent
    only_deepest = services.preview(campaign([rule(department="华东3")]))
    assert [row["employee_no"] for row in only_deepest["assignments"]] == [pudong.employee_no]


def test_launch_takes_the_same_statements_for_a_shallow_or_a_deep_tree(synced, make_employee, count_statements):
    def launch_for(depth: int, prefix: str) -> tuple[int, int]:
        people = chain(make_employee, depth, prefix)
        created = campaign([rule(department=f"{prefix}1")])
        with count_statements() as seen:
            services.launch(created.id)
        assigned = set(db.session.scalars(select(Assignment.employee_id).where(Assignment.campaign_id == created.id)))
        assert assigned == {p.id for p in people}
        return len(seen), len(assigned)

    shallow, deep = launch_for(1, "浅"), launch_for(6, "深")
    assert shallow[0] == deep[0] and (shallow[1], deep[1]) == (1, 6)


def test_someone_moved_into_a_sub_department_or_a_department_placed_under_the_target_joins_on_the_tick(
        synced, make_employee):
    seller = make_employee("销售甲", department="销售部", status="active")
    mover = make_employee("调来的", department="物流部", status="active")
    placed = make_employee("新组员工", department="直播组", status="active")
    (east,) = chain(make_employee, 1, "华东")
    with clock.frozen(datetime(2026, 10, 8, 9, 0)):
        launched = services.launch(campaign([rule(department="销售部")]).id)
    assert set(db.session.scalars(select(Assignment.employee_id))) == {seller.id, east.id}
    mover.department = east.department  # moved into a sub-department mid-campaign
    db.session.commit()
    live = db.session.scalars(select(Department).where(Department.name == "直播组")).one()
    departments.set_parent(live.id, "华东1")  # a department placed under the target, two levels down
    with clock.frozen(datetime(2026, 10, 20, 9, 0)):
        assert services.enrol_late_joiners(date(2026, 10, 20)) == 2
    rows = {a.employee_id: a.due_on for a in db.session.scalars(select(Assignment).where(
        Assignment.campaign_id == launched.id))}
    assert rows == {seller.id: date(2026, 11, 9), east.id: date(2026, 11, 9), mover.id: date(2026, 11, 19),
                    placed.id: date(2026, 11, 19)}
