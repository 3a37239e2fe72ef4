"""Result assembly: the patient summary, the ctDNA section, what was not considered.

:func:`evaluate` is the whole pipeline for one profile: ctDNA events -> facts
-> engine firings -> findings -> ranking -> :class:`~regimen.result.Result`.
"""

from __future__ import annotations

import datetime as dt

from ..engine.base import Runner
from ..knowledge.base import KnowledgeBase
from ..profile import Profile, Therapy, profile_warnings
from ..result import (
    CtdnaEvent,
    CtdnaSection,
    KnowledgeInfo,
    PatientSummary,
    Result,
    TherapySummary,
)
from .conditional import DEFAULT_CAP, conditional_options, with_unlocks
from .considered import not_considered
from .ctdna import derive_events, series
from .facts import profile_facts
from .findings import collect
from .overview import summarise
from .rank import rank


def evaluate(kb: KnowledgeBase, runner: Runner, profile: Profile, *,
             as_of: dt.date | None = None, top: int | None = None,
             conditional: int = DEFAULT_CAP) -> Result:
    """Evaluate a validated profile (already restricted to ``as_of`` when given).

    ``conditional`` caps the conditional options (0 hides them)."""
    events = derive_events(profile.ctdna, profile.therapies, profile.settings.ctdna)
    facts = list(profile_facts(profile, kb, events))
    firings = runner.run(facts)
    findings = collect(kb, firings)
    recommendations, dropped = rank(kb, profile, findings)
    summary = summarise(recommendations, dropped, findings.avoid, findings.cautions,
                        findings.tests, events, kb.standard_as_of)
    if top is not None:
        recommendations = recommendations[:top]
    unlocking, more = conditional_options(kb, profile, facts, findings, cap=conditional)
    return Result(
        profile_id=profile.id,
        as_of=as_of,
        knowledge=KnowledgeInfo(name=kb.manifest.name, version=kb.version,
                                digest=kb.digest, rules=len(kb.rules),
                                standard_as_of=kb.standard_as_of),
        patient=patient_summary(profile, kb),
        summary=summary,
        mechanisms=findings.mechanisms,
        recommendations=recommendations,
        conditional_options=unlocking,
        conditional_options_more=more,
        dropped=dropped,
        avoid=findings.avoid,
        cautions=findings.cautions,
        preferences=findings.preferences,
        suggested_tests=with_unlocks(findings.tests, unlocking),
        ctdna=ctdna_section(profile, events),
        not_considered=not_considered(profile, kb),
        trace=findings.trace,
        warnings=profile_warnings(profile),
    )


def patient_summary(profile: Profile, kb: KnowledgeBase) -> PatientSummary:
    """The profile in a few lines, as the report's patient section shows it."""
    alterations = []
    for alt in profile.alterations:
        gene = f"{alt.gene} (isoform {alt.isoform})" if alt.isoform else alt.gene
        text = f"{gene} {alt.change}" if alt.change else f"{gene} {alt.type}"
        notes = [f"as written: {alt.change_as_written}"] if alt.change_as_written else []
        if alt.vaf is not None:
            notes.append(f"VAF {alt.vaf:g}")
        if alt.origin == "germline":
            notes.append("germline")
        if notes:
            text += f" ({'; '.join(notes)})"
        alterations.append(text)
    b = profile.biomarkers
    shown = (("msi", "MSI: {}"), ("tmb", "TMB: {:g}/Mb"), ("pdl1_cps", "PD-L1 CPS: {:g}"),
             ("her2_ihc", "HER2 IHC: {}"), ("her2_status", "HER2 status: {}"),
             ("cldn18_2", "CLDN18.2: {}"), ("afp", "AFP: {:g} ng/mL"))
    markers = [text.format(getattr(b, name)) for name, text in shown
               if getattr(b, name) is not None]
    markers += [f"{gene} expression: {level}" for gene, level in sorted(b.expression.items())]
    if b.tme:
        markers.append("TME: " + ", ".join(b.tme))
    markers += [f"microbiome {t}: {lvl}" for t, lvl in sorted(b.microbiome.items())]
    return PatientSummary(
        tumour=profile.tumour.type,
        tumour_name=kb.vocabulary.tumour(profile.tumour.type).name,
        stage=profile.tumour.stage,
        alterations=alterations,
        biomarkers=markers,
        therapies=[TherapySummary(line=t.line or i, agents=list(t.agents),
                                  regimens=list(t.regimens), label=therapy_label(t, kb),
                                  start=t.start, end=t.end, response=t.response)
                   for i, t in enumerate(profile.therapies, start=1)],
        drug_sensitivity=[f"{s.agent}: {s.result}" for s in profile.drug_sensitivity],
        conditions=list(profile.clinical.conditions),
        ctdna_draws=len(profile.ctdna),
    )


def therapy_label(therapy: Therapy, kb: KnowledgeBase) -> str:
    """``FOLFOX (oxaliplatin + fluorouracil + leucovorin) + bevacizumab``."""
    covered: set[str] = set()
    for display in therapy.regimens:
        regimen = next(r for r in kb.vocabulary.regimens.regimens if r.display == display)
        covered |= set(regimen.agents)
    rest = [a for a in therapy.agents if a not in covered]
    return " + ".join([*therapy.regimens, *rest])


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
