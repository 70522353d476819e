"""The absence workflow (SPEC §4): calendar, schedules, punches, leave, detection, cases, replies, replay."""
