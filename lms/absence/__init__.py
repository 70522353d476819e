"""The absence workflow (SPEC §4). So far: the working-day calendar."""
