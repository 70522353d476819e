"""The staged steps of SPEC §4, hour by hour: the seed's case, holidays, catch-up and double ticks."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, select

from lms import clock
from lms.absence import detection, steps
from lms.absence.models import AbsenceCase, CaseStep, Punch
from lms.extensions import db
from lms.notify.models import Message
from tests.absence.conftest import add_leave, add_punch, everyone_present, run_ticks


def _case_of(employee) -> AbsenceCase:
    return db.session.scalars(select(AbsenceCase).where(AbsenceCase.employee_id == employee.id)).one()


def _sent(case: AbsenceCase) -> list[tuple[str, str]]:
    db.session.expire_all()
    return [(step.key, step.done_at.astimezone(clock.zone()).strftime("%m-%d %H:%M"))
            for step in sorted(case.steps, key=lambda s: s.done_at or s.due_at) if step.status == "sent"]


def test_the_seed_case_alerts_reminds_and_reaches_the_threshold_after_6_17(absence_setup):
    org = absence_setup
    add_leave(org.learner, date(2026, 6, 1), date(2026, 6, 14))
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 19), but=[org.learner])
    run_ticks(datetime(2026, 6, 14, 23, 0), datetime(2026, 6, 18, 12, 0))
    case = _case_of(org.learner)
    assert _sent(case) == [("alert1", "06-15 11:00"), ("alert2", "06-15 15:00"),
                           ("reminder:2026-06-16", "06-16 11:00"), ("reminder:2026-06-17", "06-17 11:00")]
    assert case.state == "threshold_reached"
    assert case.counted_days == [date(2026, 6, 15), date(2026, 6, 16), date(2026, 6, 17)]
    assert case.threshold_reached_at == clock.as_utc(datetime(2026, 6, 18, 0, 0))
    assert [t.kind for t in case.todos] == ["call_employee", "prepare_return_notice"]
    # Nobody else was absent; the employee got SMS + in-app, the manager and HR a copy each step.
    assert db.session.scalar(select(func.count()).select_from(AbsenceCase)) == 1
    roles = sorted(m.step_key.rsplit(":", 1)[1] for m in db.session.scalars(select(Message)))
    assert roles == ["employee"] * 4 + ["hr"] * 4 + ["manager"] * 4


def test_counting_goes_on_after_the_threshold_without_reminders(absence_setup):
    org = absence_setup
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 30), but=[org.learner])
    add_leave(org.learner, date(2026, 6, 1), date(2026, 6, 14))
    run_ticks(datetime(2026, 6, 15, 0, 0), datetime(2026, 6, 23, 12, 0), every=timedelta(hours=3))
    case = _case_of(org.learner)
    # 6.19 is the Dragon Boat Festival: neither counted nor breaking the run.
    assert case.counted_days == [date(2026, 6, d) for d in (15, 16, 17, 18, 22)]
    assert all(not key.startswith("reminder:2026-06-18") for key, _at in _sent(case))


def test_a_second_tick_at_the_same_instant_sends_nothing_new(absence_setup):
    org = absence_setup
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 19), but=[org.learner])
    add_leave(org.learner, date(2026, 6, 1), date(2026, 6, 14))
    run_ticks(datetime(2026, 6, 15, 11, 0), datetime(2026, 6, 15, 11, 0))
    before = db.session.scalar(select(func.count()).select_from(Message))
    run_ticks(datetime(2026, 6, 15, 11, 0), datetime(2026, 6, 15, 11, 0))
    detection.scan(clock.as_utc(datetime(2026, 6, 15, 11, 0)))
    steps.send_due_steps(clock.as_utc(datetime(2026, 6, 15, 11, 0)))
    assert before == 3
    assert db.session.scalar(select(func.count()).select_from(Message)) == before


def test_a_scheduler_down_for_a_day_catches_up_without_stale_alerts(absence_setup):
    org = absence_setup
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 19), but=[org.learner])
    add_leave(org.learner, date(2026, 6, 1), date(2026, 6, 14))
    run_ticks(datetime(2026, 6, 15, 8, 0), datetime(2026, 6, 15, 16, 0))
    # Down from 6.15 16:00 until 6.17 10:00.
    run_ticks(datetime(2026, 6, 17, 10, 0), datetime(2026, 6, 17, 12, 0))
    case = _case_of(org.learner)
    steps = {s.key: (s.status, s.skip_reason) for s in case.steps}
    assert steps["reminder:2026-06-16"] == ("skipped", "day_closed")
    assert steps["reminder:2026-06-17"] == ("sent", None)
    assert case.counted_days == [date(2026, 6, 15), date(2026, 6, 16)]


def test_a_punch_uploaded_late_closes_the_day_and_resolves_the_case(absence_setup):
    org = absence_setup
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 19), but=[org.learner])
    add_leave(org.learner, date(2026, 6, 1), date(2026, 6, 14))
    run_ticks(datetime(2026, 6, 15, 11, 0), datetime(2026, 6, 15, 11, 0))
    # The time clock uploads at noon: she had punched at 08:58.
    with clock.frozen(clock.as_utc(datetime(2026, 6, 15, 12, 0))):
        add_punch(org.learner, datetime(2026, 6, 15, 8, 58))
    add_punch(org.learner, datetime(2026, 6, 16, 8, 50))  # and the next morning she is at work
    run_ticks(datetime(2026, 6, 15, 12, 0), datetime(2026, 6, 16, 12, 0))
    case = _case_of(org.learner)
    assert case.state == "resolved" and case.resolution == "returned"
    assert case.counted_days == []
    steps = {s.key: (s.status, s.skip_reason) for s in case.steps}
    assert steps["alert2"] == ("skipped", "case_resolved")
    assert "reminder:2026-06-16" not in steps


def test_national_day_2026_counts_only_working_days_including_the_saturday_make_up_day(absence_setup):
    org = absence_setup
    everyone_present(org, date(2026, 6, 1), date(2026, 10, 16), but=[org.learner])
    everyone_present(org, date(2026, 6, 1), date(2026, 9, 29), but=[org.director, org.manager, org.colleague,
                                                                  org.hr_officer, org.outsider])
    # She is absent from Wednesday 9.30; 10.1–10.7 is the holiday, 10.10 (Saturday) a make-up working day.
    db.session.execute(delete(Punch).where(Punch.employee_id == org.learner.id, Punch.work_day == date(2026, 9, 30)))
    db.session.commit()
    run_ticks(datetime(2026, 9, 30, 0, 0), datetime(2026, 10, 12, 12, 0), every=timedelta(hours=4))
    case = _case_of(org.learner)
    assert case.counted_days[:3] == [date(2026, 9, 30), date(2026, 10, 8), date(2026, 10, 9)]
    assert case.threshold_reached_at == clock.as_utc(datetime(2026, 10, 10, 0, 0))
    assert date(2026, 10, 10) in case.counted_days  # the make-up Saturday counts
    assert date(2026, 10, 11) not in case.counted_days  # Sunday after it does not


def test_steps_are_queued_once_per_case(absence_setup):
    org = absence_setup
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 19), but=[org.learner])
    add_leave(org.learner, date(2026, 6, 1), date(2026, 6, 14))
    run_ticks(datetime(2026, 6, 15, 11, 0), datetime(2026, 6, 15, 11, 0))
    detection.scan(clock.as_utc(datetime(2026, 6, 15, 11, 30)))
    assert db.session.scalar(select(func.count()).select_from(CaseStep)) == 2  # alert 1 and alert 2


def test_a_late_shift_gets_its_alert_after_midnight_and_the_day_is_counted(absence_setup):
    from datetime import time

    from lms.absence import schedules

    org = absence_setup
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 19), but=[org.learner])
    add_leave(org.learner, date(2026, 6, 1), date(2026, 6, 14))
    late = schedules.save_shift_group("晚班", time(22, 30), time(23, 59))
    schedules.assign([org.learner.employee_no], late.id)
    run_ticks(datetime(2026, 6, 15, 0, 0), datetime(2026, 6, 16, 2, 0))
    case = _case_of(org.learner)
    assert case.counted_days == [date(2026, 6, 15)]
    steps = {s.key: s for s in case.steps}
    # Due at 00:30 on the 16th, sent by the 01:00 tick: the shift's night, not a closed day.
    assert (steps["alert1"].status, steps["alert1"].day) == ("sent", date(2026, 6, 15))
    assert clock.local(steps["alert1"].done_at).replace(tzinfo=None) == datetime(2026, 6, 16, 1, 0)
    assert steps["alert2"].status == "queued"
    assert clock.local(steps["alert2"].due_at).replace(tzinfo=None) == datetime(2026, 6, 16, 5, 0)


def test_an_alert_whose_own_day_is_over_is_skipped_not_sent_late(absence_setup):
    org = absence_setup
    everyone_present(org, date(2026, 6, 1), date(2026, 6, 19), but=[org.learner])
    add_leave(org.learner, date(2026, 6, 1), date(2026, 6, 14))
    run_ticks(datetime(2026, 6, 16, 0, 30), datetime(2026, 6, 16, 0, 30))  # the scheduler was down on the 15th
    case = _case_of(org.learner)
    assert case.counted_days == [date(2026, 6, 15)]
    assert {s.key: (s.status, s.skip_reason) for s in case.steps} == {"alert1": ("skipped", "day_closed")}
