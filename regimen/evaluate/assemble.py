"""Result assembly: the patient summary, the ctDNA section, what was not considered.

:func:`evaluate` is the whole pipeline for one profile: ctDNA events -> facts
-> engine firings -> findings -> ranking -> :class:`~regimen.result.Result`.
"""

from __future__ import annotations

import datetime as dt

from ..engine.base import Runner
from ..knowledge.base import KnowledgeBase
from ..profile import Profile, profile_warnings
from ..result import (
    CtdnaEvent,
    CtdnaSection,
    KnowledgeInfo,
    NotConsidered,
    PatientSummary,
    Result,
    TherapySummary,
)
from .ctdna import derive_events, series
from .facts import profile_facts
from .findings import collect
from .rank import rank


def evaluate(kb: KnowledgeBase, runner: Runner, profile: Profile, *,
             as_of: dt.date | None = None, top: int | None = None) -> Result:
    """Evaluate a validated profile (already restricted to ``as_of`` when given)."""
    events = derive_events(profile.ctdna, profile.therapies, profile.settings.ctdna)
    firings = runner.run(profile_facts(profile, kb, events))
    findings = collect(kb, firings)
    recommendations, dropped = rank(kb, profile, findings)
    if top is not None:
        recommendations = recommendations[:top]
    return Result(
        profile_id=profile.id,
        as_of=as_of,
        knowledge=KnowledgeInfo(name=kb.manifest.name, version=kb.version,
                                digest=kb.digest, rules=len(kb.rules)),
        patient=patient_summary(profile, kb),
        mechanisms=findings.mechanisms,
        recommendations=recommendations,
        dropped=dropped,
        avoid=findings.avoid,
        cautions=findings.cautions,
        suggested_tests=findings.tests,
        ctdna=ctdna_section(profile, events),
        not_considered=not_considered(profile, kb),
        trace=findings.trace,
        warnings=profile_warnings(profile),
    )


def patient_summary(profile: Profile, kb: KnowledgeBase) -> PatientSummary:
    """The profile in a few lines, as the report's patient section shows it."""
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


def ctdna_section(profile: Profile, events: list[CtdnaEvent]) -> CtdnaSection:
    """The events and the series of the report's ctDNA section."""
    draws = profile.ctdna
    note = None
    if len(draws) == 1:
        note = "one ctDNA draw only: no trend can be derived"
    elif not draws:
        note = "no ctDNA draws in the profile"
    return CtdnaSection(draws=len(draws), trend=len(draws) > 1, note=note,
                        events=list(events), series=series(draws, profile.settings.ctdna),
                        dates=[d.date for d in draws])


def not_considered(profile: Profile, kb: KnowledgeBase) -> NotConsidered:
    """Genes and agents in the profile that no rule names."""
    genes = {a.gene for a in profile.alterations}
    genes |= set(profile.biomarkers.expression)
    genes |= {v.gene for d in profile.ctdna for v in d.variants}
    agents = {a for t in profile.therapies for a in t.agents}
    agents |= {s.agent for s in profile.drug_sensitivity}
    return NotConsidered(genes=sorted(genes - kb.used_genes()),
                         agents=sorted(agents - kb.used_agents()))
