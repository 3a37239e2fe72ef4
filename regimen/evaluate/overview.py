"""The one-screen summary a report opens with: what to weigh first, what to avoid, alerts
and the first tests to order. Built from the ranked options and findings, nothing new."""

from __future__ import annotations

import datetime as dt

from ..result import (
    AvoidOut,
    CautionOut,
    CtdnaEvent,
    Dropped,
    Recommendation,
    ReportSummary,
    SummaryOption,
    TestOut,
)

MAX_STANDARD = 3
"""Standard options the summary lists."""

MAX_TESTS = 3
"""Suggested tests the summary lists (the full list follows the options)."""

ALREADY_GIVEN = "standard option already given"
"""The start of a dropped option's reason when it is a standard option the tumour progressed
on (see :mod:`regimen.evaluate.rank`)."""


def _short(rec: Recommendation) -> SummaryOption:
    return SummaryOption(rank=rec.rank, id=rec.id, label=rec.label, tier=rec.tier,
                         escat=rec.escat, evidence_level=rec.evidence_level, score=rec.score)


def summarise(recommendations: list[Recommendation], dropped: list[Dropped],
              avoid: list[AvoidOut], cautions: list[CautionOut], tests: list[TestOut],
              events: list[CtdnaEvent], standard_as_of: dt.date | None) -> ReportSummary:
    """The summary of one evaluation (``recommendations`` ranked, tier first)."""
    def first(tier: str) -> SummaryOption | None:
        found = next((r for r in recommendations if r.tier == tier), None)
        return _short(found) if found is not None else None

    return ReportSummary(
        standard=[_short(r) for r in recommendations if r.tier == "standard"][:MAX_STANDARD],
        trial=first("trial"),
        investigational=first("investigational"),
        already_given=[f"{d.label}: {d.reason}" for d in dropped
                       if d.reason.startswith(ALREADY_GIVEN)],
        avoid=[f"{', '.join(a.agents)}: {a.reason}" for a in avoid],
        alerts=[f"ctDNA {e.date.isoformat()}: {e.detail}" for e in events]
        + [f"caution: {c.text}" for c in cautions],
        tests=[t.test for t in tests][:MAX_TESTS],
        standard_as_of=standard_as_of,
    )
