"""Cohorts: many profiles at once (batch evaluation, cohort evidence summaries, Dask)."""
