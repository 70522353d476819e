"""People and organisation: departments, employees, the manager hierarchy, accounts."""
