"""`flask absence …`: punches, leave, monitoring, the scan and scenario replays."""

from __future__ import annotations

from flask.cli import AppGroup

absence_cli = AppGroup("absence", help="Punches, leave, absence cases and scenario replays.")
