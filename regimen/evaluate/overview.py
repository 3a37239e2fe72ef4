"""The one-screen summary a report opens with: what to weigh first, what to avoid, alerts
and the first tests to order. Built from the ranked options and findings, nothing new."""

from __future__ import annotations

import datetime as dt
import re

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

MAX_ALERTS = 5
"""Alerts the summary lists; the rest are counted (all cautions follow the options)."""

MAX_ALERT = 160
"""Characters of a caution's text the summary shows (the full text follows the options)."""


_SENTENCE_END = re.compile(r"(?<!\be\.g)(?<!\bi\.e)(?<!\bvs)(?<!\bet al)\.\s")


def _brief(text: str) -> str:
    """The first sentence of ``text``, cut at :data:`MAX_ALERT` characters."""
    found = _SENTENCE_END.search(text)
    first = text if found is None else text[:found.start() + 1]
    return first if len(first) <= MAX_ALERT else first[:MAX_ALERT - 3].rstrip() + "..."


def _short(rec: Recommendation) -> SummaryOption:
    return SummaryOption(rank=rec.rank, id=rec.id, label=rec.label, tier=rec.tier,
                         escat=rec.escat, evidence_level=rec.evidence_level, score=rec.score)


def _alerts(events: list[CtdnaEvent], cautions: list[CautionOut]) -> list[str]:
    """ctDNA events first, then the first sentence of each caution; capped at MAX_ALERTS."""
    alerts = [f"ctDNA {e.date.isoformat()}: {e.detail}" for e in events]
    alerts += [f"caution: {_brief(c.text)}" for c in cautions]
    if len(alerts) > MAX_ALERTS:
        more = len(alerts) - (MAX_ALERTS - 1)
        alerts = [*alerts[:MAX_ALERTS - 1], f"{more} more: see Cautions and ctDNA below"]
    return alerts


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
        standard_dropped=[f"{d.label}: {d.reason}" for d in dropped if d.tier == "standard"],
        avoid=[f"{', '.join(a.agents)}: {a.reason}" for a in avoid],
        alerts=_alerts(events, cautions),
        tests=[t.test for t in tests][:MAX_TESTS],
        standard_as_of=standard_as_of,
    )
