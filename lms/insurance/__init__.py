"""Social insurance and the payroll ledger (SPEC §6): city rules, the stop after employment ends, registration
of new hires, the cost of an absence, the final settlement and the monthly ledger export."""
