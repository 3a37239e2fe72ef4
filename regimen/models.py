"""Shared pydantic base class: frozen, strict about unknown keys."""

from __future__ import annotations

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
