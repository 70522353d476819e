"""`flask demo load`: a small company to try the product with (SPEC §1's people).

Later features add their own demo records through `DEMO_LOADERS`. The data is generated
from a fixed seed, so every install shows the same company.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from lms import clock
from lms.absence.demo import load_absence_demo
from lms.campaigns.demo import load_campaign_demo
from lms.courses.demo import load_course_demo
from lms.exams.demo import load_exam_demo
from lms.extensions import db
from lms.insurance.demo import load_insurance_demo
from lms.people import services
from lms.people.models import Employee, User
from lms.requests.demo import load_requests_demo

demo_cli = AppGroup("demo", help="Demonstration data.")

# Demo-only credentials, printed on start; a real install creates its own accounts.
DEMO_LOGINS = (
    ("admin", "demo-admin-2026", "admin", None),
    ("hr", "demo-hr-2026", "hr", "E0002"),
    ("manager", "demo-manager-2026", "manager", "E0010"),
    ("employee", "demo-employee-2026", "employee", "E0013"),
    ("newhire", "demo-newhire-2026", "employee", "E0090"),
)
DEMO_LOADERS: list[Callable[[], None]] = [load_course_demo, load_exam_demo, load_absence_demo,
                                          load_requests_demo,
                                          load_campaign_demo, load_insurance_demo]

_SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
_GIVEN = ["伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
          "超", "秀兰", "霞", "平", "刚", "桂英", "晨", "宇", "浩然", "欣怡", "子涵", "梓萱", "思远"]
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)

# (department, job family, head's position, staff position, staff count)
_DEPARTMENTS = (
    ("销售部", "sales", "销售经理", "销售代表", 12),
    ("物流部", "logistics", "物流主管", "配送员", 10),
    ("生产部", "production", "生产主管", "操作工", 12),
    ("行政部", "office", "行政主管", "行政专员", 4),
    ("研发部", "rd", "研发经理", "工程师", 5),
)


def _national_id(rng: random.Random, birth_year: int) -> str:
    body = f"110105{birth_year}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(100, 999)}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]
    return body + check


def demo_people(today) -> list[dict]:
    """The demo organisation as import records: a general manager, HR, five departments (sales with two
    levels of sub-departments)."""
    rng = random.Random(20260615)
    # Sorted before shuffling: a set's order depends on PYTHONHASHSEED, and the demo must not.
    names = iter(sorted(sorted({s + g for s in _SURNAMES for g in _GIVEN}), key=lambda _: rng.random()))
    fixed = {"E0001": "陈建国", "E0002": "李娜", "E0010": "张伟", "E0011": "刘洋", "E0013": "王芳", "E0090": "赵晨"}
    records: list[dict] = []

    def add(no, department, family, position, manager_no, hired_days_ago, status="active", parent=None):
        birth_year = rng.randint(1975, 2002)
        records.append({
            "employee_no": no, "name": fixed.get(no) or next(names), "department": department,
            "parent_department": parent,
            "job_family": family, "position": position, "manager_no": manager_no,
            "hire_date": today - timedelta(days=hired_days_ago), "status": status,
            "mobile": f"1{rng.choice('3589')}{rng.randint(0, 999999999):09d}",
            "email": f"{no.lower()}@demo.example.cn", "work_city": "北京",
            "household_address": f"北京市朝阳区建国路{rng.randint(1, 300)}号",
            "contact_address": f"北京市海淀区中关村大街{rng.randint(1, 300)}号{rng.randint(1, 30)}单元",
            "social_insurance_base": f"{rng.randint(60, 300) * 100}",
            "national_id": _national_id(rng, birth_year),
        })

    add("E0001", "总经理办公室", "management", "总经理", None, 3650)
    add("E0002", "人力资源部", "office", "人力资源经理", "E0001", 2100)
    add("E0003", "人力资源部", "office", "人事专员", "E0002", 900)
    number = 10
    for department, family, head_title, staff_title, count in _DEPARTMENTS:
        head = f"E{number:04d}"
        add(head, department, family, head_title, "E0001", rng.randint(1500, 3000))
        number += 1
        # Sales has a team lead between the manager and the reps: reporting is transitive.
        lead = head
        if family == "sales":
            lead = f"E{number:04d}"
            add(lead, department, family, "销售组长", head, rng.randint(800, 1500))
            number += 1
        for n in range(count):
            # The sales reps E0018–E0023 sit in sub-departments: 销售部 → 华东销售部 → 上海销售组.
            where, parent = department, None
            if family == "sales" and n >= count - 6:
                where, parent = ("华东销售部", "销售部") if n < count - 3 else ("上海销售组", "华东销售部")
            add(f"E{number:04d}", where, family, staff_title, lead, rng.randint(30, 1800), parent=parent)
            number += 1
    add("E0090", "销售部", "sales", "销售代表", "E0011", 3, status="onboarding")
    add("E0091", "物流部", "logistics", "配送员", "E0024", 5, status="onboarding")
    return records


def load_demo() -> None:
    """Create the demo company, its accounts, and every feature's demo records."""
    records = demo_people(clock.today())
    services.save_employees(list(enumerate(records, start=2)), allow_existing=False, source="demo")
    ids = {number: id_ for number, id_ in db.session.execute(select(Employee.employee_no, Employee.id))}
    for username, password, role, employee_no in DEMO_LOGINS:
        services.create_user(username, password, role, ids.get(employee_no))
    for loader in DEMO_LOADERS:
        loader()


def print_logins() -> None:
    click.echo("Demo sign-ins (demo data only):")
    for username, password, role, _employee_no in DEMO_LOGINS:
        click.echo(f"  {role:<9} {username:<9} {password}")


@demo_cli.command("load")
@click.option("--if-empty", is_flag=True, help="Do nothing (but print the logins) if people exist.")
def load_command(if_empty: bool):
    """Load the demo company into an empty database and print the sign-ins."""
    existing = db.session.scalar(select(func.count(User.id)))
    if existing:
        if not if_empty:
            raise click.ClickException("the database already has accounts; demo data goes into an empty one")
    else:
        load_demo()
        click.echo(f"demo company loaded: {db.session.scalar(select(func.count(Employee.id)))} employees")
    print_logins()
