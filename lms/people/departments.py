"""The departments tree: sub-departments at any depth, parents without cycles.

A department's parent is set by the import (the parent-department column), the API and HR's
departments page; every one of them goes through `check_parents` so no path leads back to where it
started. Reading a subtree is one recursive CTE, the same SQL on SQLite and PostgreSQL.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from lms import evidence
from lms.extensions import db
from lms.people.models import Department

MESSAGES = {
    "self_parent": _l("A department cannot be its own parent."),
    "cycle": _l("This parent makes a cycle of departments: %(chain)s."),
    "two_parents": _l("Department %(name)s is given parent %(other)s in row %(row)s."),
    "unknown": _l("No department is named %(name)s."),
}


class DepartmentTreeError(ValueError):
    """A parent that would make a cycle (or is otherwise wrong): `errors` is [(field, message)]."""

    def __init__(self, errors: list[tuple[str, str]]):
        super().__init__("; ".join(f"{f}: {m}" for f, m in errors))
        self.errors = errors


def subtree_ids(root_condition):
    """A SELECT of the ids of the departments matching `root_condition` and of all their
    sub-departments at any depth: one recursive CTE, nested so it can stand inside any statement
    (a CASE of an INSERT … SELECT included)."""
    tree = select(Department.id.label("id")).where(root_condition).cte("department_tree", recursive=True,
                                                                       nesting=True)
    below = select(Department.id).join(tree, Department.parent_id == tree.c.id)
    tree = tree.union(below)
    return select(tree.c.id)


def subtree_of_name(name: str):
    """The ids of the department called `name` and of its sub-departments (a SELECT)."""
    return subtree_ids(Department.name == name)


def subtree_of_id(department_id: int):
    """The ids of department `department_id` and of its sub-departments (a SELECT)."""
    return subtree_ids(Department.id == department_id)


def parents_by_name() -> dict[str, str | None]:
    """Every department's parent's name, by name: one query."""
    parent = db.aliased(Department)
    return dict(db.session.execute(select(Department.name, parent.name)
                                   .outerjoin(parent, parent.id == Department.parent_id)).all())


def cycle_through(name: str, parents: dict[str, str | None]) -> list[str] | None:
    """The chain name → parent → … → name if following parents from `name` returns to it (any parent
    map: departments here, managers in the import)."""
    chain, seen, current = [name], {name}, parents.get(name)
    while current:
        chain.append(current)
        if current == name:
            return chain
        if current in seen:  # a cycle further up, reported where it starts
            return None
        seen.add(current)
        current = parents.get(current)
    return None


def check_parents(wanted: dict[str, str | None], parents: dict[str, str | None] | None = None) -> dict[str, str]:
    """Problems (department name → message) if the departments took the `wanted` parents, given the
    tree as it stands (`parents`, read when not given)."""
    tree = dict(parents_by_name() if parents is None else parents)
    tree.update(wanted)
    problems: dict[str, str] = {}
    for name, parent in wanted.items():
        if parent is None:
            continue
        if parent == name:
            problems[name] = str(MESSAGES["self_parent"])
            continue
        chain = cycle_through(name, tree)
        if chain:
            problems[name] = str(MESSAGES["cycle"] % {"chain": " → ".join(chain)})
    return problems


def set_parent(department_id: int, parent_name: str | None, actor=None) -> Department:
    """Give a department a parent (or none); refuses an unknown parent or a cycle, writing nothing."""
    department = db.session.get(Department, department_id)
    parent_name = (parent_name or "").strip() or None
    parent = None
    if parent_name is not None:
        parent = db.session.scalars(select(Department).where(Department.name == parent_name)).first()
        if parent is None:
            raise DepartmentTreeError([("parent", str(MESSAGES["unknown"] % {"name": parent_name}))])
    problems = check_parents({department.name: parent_name})
    if problems:
        raise DepartmentTreeError([("parent", problems[department.name])])
    before = department.parent.name if department.parent else None
    department.parent = parent
    evidence.record("people.department_parent_set", evidence.subject_of("department", department.id),
                    {"department": department.name, "parent": parent_name, "previous_parent": before}, actor=actor)
    db.session.commit()
    return department


@dataclass
class Node:
    department: Department
    depth: int
    parent_name: str | None


def tree_order() -> list[Node]:
    """Every department in tree order (parents before their sub-departments, names sorted): one query."""
    departments = list(db.session.scalars(select(Department).order_by(Department.name)))
    children: dict[int | None, list[Department]] = {}
    for d in departments:
        children.setdefault(d.parent_id, []).append(d)
    names = {d.id: d.name for d in departments}
    ordered: list[Node] = []

    def walk(parent_id: int | None, depth: int) -> None:
        for d in children.get(parent_id, []):
            ordered.append(Node(d, depth, names.get(d.parent_id)))
            walk(d.id, depth + 1)

    walk(None, 0)
    return ordered


def descendants(nodes: list[Node]) -> dict[int, set[int]]:
    """Each department's id → the ids of itself and every sub-department, from `tree_order()`."""
    below: dict[int, set[int]] = {n.department.id: {n.department.id} for n in nodes}
    for node in reversed(nodes):  # children come after their parent: fold them upwards
        if node.department.parent_id in below:
            below[node.department.parent_id] |= below[node.department.id]
    return below
