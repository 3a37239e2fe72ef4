"""Shared pydantic base class: frozen, strict about unknown keys."""

# Annotations here are evaluated when the module runs (no ``from __future__ import
# annotations``): pydantic reads them as each model class is created, and would
# otherwise compile every string annotation (about 8 ms of a cold command over the
# model modules; tests/test_architecture.py keeps it so).


from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True,
                              defer_build=True)


EVIDENCE_LEVELS: tuple[str, ...] = (
    "approved",
    "phase-3",
    "phase-2",
    "phase-1-2",
    "phase-1",
    "clinical",
    "preclinical-in-vivo",
    "preclinical-in-vitro",
    "mechanistic",
)
"""Evidence labels, strongest first. ``clinical`` means patient data whose trial
phase the review does not state; ``mechanistic`` is the review's own inference."""

CONFIDENCE_LEVELS: tuple[str, ...] = ("high", "moderate", "low")
STAGES: tuple[str, ...] = ("mechanism", "option", "avoid", "caution", "test", "preference")
