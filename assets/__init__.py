"""Dagster definitions: assets, partitions, schedules, checks and resources. No SQL, no HTTP."""
