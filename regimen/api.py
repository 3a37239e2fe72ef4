"""The public API: :class:`Recommender`.

>>> from regimen import Recommender
>>> rec = Recommender()                       # compiles the knowledge base once
>>> result = rec.evaluate("examples/crc-kras-g12c.yaml")
>>> result.recommendations[0].label
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from .ctdna import (
    derive_events,
    lod_of,
    tracked_variants,
    tumour_fraction_reading,
    variant_reading,
)
from .engine import Engine
from .errors import InputError
from .explain import Explanation, explain
from .facts import profile_facts
from .findings import collect
from .knowledge import KnowledgeBase, load_knowledge
from .profile import Profile, Therapy, load_profile
from .rank import rank
from .report import cite_text
from .result import (
    CtdnaSection,
    KnowledgeInfo,
    NotConsidered,
    PatientSummary,
    Result,
    Series,
    SeriesPoint,
    TherapySummary,
)
from .timeline import Timeline, build_timeline

ProfileInput = str | Path | dict[str, Any] | Profile | IO[bytes]


class Recommender:
    """A compiled knowledge base that evaluates patient profiles.

    Build one and reuse it: the rule network is compiled once (about half a
    millisecond per rule) and every evaluation only resets it.
    """

    def __init__(self, knowledge: str | Path | KnowledgeBase | None = None) -> None:
        if isinstance(knowledge, KnowledgeBase):
            self.kb = knowledge
        else:
            self.kb = load_knowledge(Path(knowledge) if knowledge is not None else None)
        self.engine = Engine(self.kb)

    # ------------------------------------------------------------------ profiles
    def load(self, profile: ProfileInput) -> Profile:
        """Validate and normalise a profile (path, ``-``, dict, stream or model)."""
        return load_profile(profile, self.kb.vocabulary)

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, profile: ProfileInput, *, as_of: dt.date | None = None,
                 top: int | None = None) -> Result:
        """Evaluate a profile; with ``as_of``, use only what was known on that date."""
        model = self.load(profile)
        if as_of is not None:
            model = restrict_to(model, as_of)
        if top is not None and top < 1:
            raise InputError("--top must be at least 1", field="top")
        events = derive_events(model.ctdna, model.therapies, model.settings.ctdna)
        firings = self.engine.run(profile_facts(model, self.kb, events))
        findings = collect(self.kb, firings)
        recommendations, dropped = rank(self.kb, model, findings)
        if top is not None:
            recommendations = recommendations[:top]
        return Result(
            profile_id=model.id,
            as_of=as_of,
            knowledge=KnowledgeInfo(name=self.kb.manifest.name, version=self.kb.version,
                                    digest=self.kb.digest, rules=len(self.kb.rules)),
            patient=summarise(model, self.kb),
            mechanisms=findings.mechanisms,
            recommendations=recommendations,
            dropped=dropped,
            avoid=findings.avoid,
            cautions=findings.cautions,
            suggested_tests=findings.tests,
            ctdna=ctdna_section(model, events),
            not_considered=not_considered(model, self.kb),
            trace=findings.trace,
        )


    def explain(self, profile: ProfileInput, item_id: str | None = None, *,
                as_of: dt.date | None = None) -> list[Explanation]:
        """Derivation chains for one recommendation/avoid/caution id, or for all."""
        result = self.evaluate(profile, as_of=as_of)
        citations = {rule.id: [cite_text(c.model_dump()) for c in rule.cite]
                     for rule in self.kb.rules}
        return explain(result, item_id, citations)

    def timeline(self, profile: ProfileInput,
                 progress: Callable[[int, int], None] | None = None) -> Timeline:
        """Re-evaluate as of each ctDNA draw and therapy change."""
        model = self.load(profile)
        return build_timeline(model, lambda p, date: self.evaluate(p, as_of=date),
                              progress=progress)


def restrict_to(profile: Profile, as_of: dt.date) -> Profile:
    """The profile as it was known on ``as_of``.

    Therapies that had not started are removed; one still running then is made
    ongoing (its end and response are not yet known); ctDNA draws and dated
    organoid results after the date are removed. Tissue findings carry no
    date and are kept.
    """
    therapies: list[Therapy] = []
    for therapy in profile.therapies:
        if therapy.start is not None and therapy.start > as_of:
            continue
        outcome = therapy.outcome_date
        if (therapy.end is not None and therapy.end > as_of) or (outcome and outcome > as_of):
            therapy = therapy.model_copy(update={"end": None, "response": None,
                                                 "response_date": None})
        therapies.append(therapy)
    return profile.model_copy(update={
        "therapies": therapies,
        "ctdna": [d for d in profile.ctdna if d.date <= as_of],
        "drug_sensitivity": [s for s in profile.drug_sensitivity
                             if s.date is None or s.date <= as_of],
    })


def summarise(profile: Profile, kb: KnowledgeBase) -> PatientSummary:
    alterations = []
    for alt in profile.alterations:
        text = f"{alt.gene} {alt.change}" if alt.change else f"{alt.gene} {alt.type}"
        if alt.vaf is not None:
            text += f" (VAF {alt.vaf:g})"
        alterations.append(text)
    b = profile.biomarkers
    markers = []
    if b.msi:
        markers.append(f"MSI: {b.msi}")
    if b.tmb is not None:
        markers.append(f"TMB: {b.tmb:g}/Mb")
    if b.pdl1_cps is not None:
        markers.append(f"PD-L1 CPS: {b.pdl1_cps:g}")
    markers += [f"{gene} expression: {level}" for gene, level in sorted(b.expression.items())]
    if b.tme:
        markers.append("TME: " + ", ".join(b.tme))
    markers += [f"microbiome {t}: {lvl}" for t, lvl in sorted(b.microbiome.items())]
    return PatientSummary(
        tumour=profile.tumour.type,
        tumour_name=kb.vocabulary.tumours[profile.tumour.type].name,
        stage=profile.tumour.stage,
        alterations=alterations,
        biomarkers=markers,
        therapies=[TherapySummary(line=t.line or i, agents=list(t.agents), start=t.start,
                                  end=t.end, response=t.response)
                   for i, t in enumerate(profile.therapies, start=1)],
        drug_sensitivity=[f"{s.agent}: {s.result}" for s in profile.drug_sensitivity],
        conditions=list(profile.clinical.conditions),
        ctdna_draws=len(profile.ctdna),
    )


def ctdna_section(profile: Profile, events: list[Any]) -> CtdnaSection:
    draws = profile.ctdna
    settings = profile.settings.ctdna
    series: list[Series] = []
    fractions = [(d, tumour_fraction_reading(d, settings)) for d in draws]
    if any(reading is not None for _, reading in fractions):
        series.append(Series(name="tumour fraction", points=[
            SeriesPoint(date=d.date, value=d.tumour_fraction, below_lod=not reading.detected,
                        lod=lod_of(d, settings))
            for d, reading in fractions if reading is not None]))
    for gene, change in tracked_variants(draws):
        points = []
        for d in draws:
            reading = variant_reading(d, (gene, change), settings)
            points.append(SeriesPoint(date=d.date, value=reading.shown,
                                      below_lod=not reading.detected,
                                      lod=lod_of(d, settings)))
        series.append(Series(name=f"{gene} {change}" if change else gene, points=points))
    note = None
    if len(draws) == 1:
        note = "one ctDNA draw only: no trend can be derived"
    elif not draws:
        note = "no ctDNA draws in the profile"
    return CtdnaSection(draws=len(draws), trend=len(draws) > 1, note=note,
                        events=list(events), series=series)


def not_considered(profile: Profile, kb: KnowledgeBase) -> NotConsidered:
    used_genes = kb.used_genes()
    genes = {a.gene for a in profile.alterations}
    genes |= set(profile.biomarkers.expression)
    genes |= {v.gene for d in profile.ctdna for v in d.variants}
    used_agents = kb.used_agents()
    agents = {a for t in profile.therapies for a in t.agents}
    agents |= {s.agent for s in profile.drug_sensitivity}
    return NotConsidered(genes=sorted(genes - used_genes), agents=sorted(agents - used_agents))
