"""Exams: question banks, attempts with a frozen draw, server-side grading."""
