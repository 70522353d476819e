"""Courses: versioned handbook content and rules, enrolment, reading progress, attestation."""
