"""A profile -> backend-neutral facts (:class:`~regimen.engine.base.FactRecord`).

Facts carry plain, hashable values (strings, numbers, tuples of strings, ISO
dates) and every field is always present (``None`` when unknown), so that the
compiled patterns never meet a missing key. Fact kinds: ``Tumour`` (with its
OncoTree lineage, code first), ``Alteration`` (tissue or ctDNA origin),
``Biomarker``, ``Expression``, ``Tme``, ``Microbe``, ``Therapy`` (one per agent
of a line), ``Ctdna`` (a trend event), ``Sensitivity`` (organoid result),
``Clinical``; rules derive ``Mechanism``, ``Option``, ``Avoid``, ``Caution``,
``Test`` and ``Preference``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..engine.base import FactRecord
from ..knowledge.base import KnowledgeBase
from ..knowledge.conditions import BIOMARKER_NAMES, BY_FACT
from ..profile import Profile
from ..result import CtdnaEvent
from .ctdna import detected_variants

fact = FactRecord.of


def profile_facts(profile: Profile, kb: KnowledgeBase,
                  events: list[CtdnaEvent]) -> Iterator[FactRecord]:
    """Translate a validated profile (and its ctDNA events) into facts."""
    vocab = kb.vocabulary
    code = profile.tumour.type
    tumour_type = vocab.tumour(code)
    yield fact("Tumour", code=code, lineage=vocab.lineage(code), organ=tumour_type.organ)
    for alt in profile.alterations:
        yield fact("Alteration", gene=alt.gene, change=alt.change, type=alt.type,
                   origin="germline" if alt.origin == "germline" else "tissue", vaf=alt.vaf)
    for gene, change in detected_variants(profile.ctdna, profile.settings.ctdna):
        yield fact("Alteration", gene=gene, change=change, type="mutation", origin="ctdna",
                   vaf=None)
    markers = profile.biomarkers
    for name in BIOMARKER_NAMES:
        value = getattr(markers, name)
        if value is not None:
            yield fact("Biomarker", name=name, value=value)
    for gene, level in sorted(markers.expression.items()):
        yield fact("Expression", gene=gene, level=level)
    for feature in markers.tme:
        yield fact("Tme", feature=feature)
    for taxon, level in sorted(markers.microbiome.items()):
        yield fact("Microbe", taxon=taxon, level=level)
    for index, therapy in enumerate(profile.therapies, start=1):
        for agent in therapy.agents:
            yield fact(
                "Therapy",
                line=therapy.line or index,
                agent=agent,
                classes=kb.classes_of(agent),
                response=therapy.response,
                ongoing=therapy.ongoing,
                start=_iso(therapy.start),
                end=_iso(therapy.end),
            )
    for event in events:
        yield fact(
            "Ctdna",
            event=event.event,
            gene=event.gene,
            change=event.change,
            date=event.date.isoformat(),
            during_agents=tuple(event.during_agents),
            during_classes=tuple(sorted({c for a in event.during_agents
                                         for c in kb.classes_of(a)})),
            confirmed=event.confirmed,
        )
    for index, result in enumerate(profile.drug_sensitivity):
        yield fact("Sensitivity", agent=result.agent, classes=kb.classes_of(result.agent),
                   result=result.result, index=index)
    for condition in profile.clinical.conditions:
        yield fact("Clinical", condition=condition)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def describe(record: FactRecord) -> str:
    """One readable line for a fact, used in traces and explanations.

    The condition kind that matches a fact kind describes it; derived facts no
    condition matches (``Avoid``, ``Test``) list their fields.

    >>> describe(FactRecord.of("Tme", feature="hypoxic"))
    'tumour microenvironment hypoxic'
    """
    d = record.as_dict()
    kind = BY_FACT.get(record.kind)
    if kind is not None:
        return kind.describe_fact(d)
    if record.kind in ("Caution", "Preference"):
        return f"{record.kind.lower()} {d['id']}"
    return f"{record.kind.lower()} " + ", ".join(f"{k}={v}" for k, v in sorted(d.items()))
