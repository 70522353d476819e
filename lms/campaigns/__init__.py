"""Refresher and annual campaigns, manager assignments, reminders and the compliance record (SPEC §3)."""
