"""What the profile says that no rule reads: the report's "not considered" list.

Every item of the profile (an alteration, an expression level, a ctDNA variant, a
biomarker, a TME or microbiome term, a clinical condition, an organoid result, an agent
of the treatment history) is either read by at least one rule (one that fired or could
fire) or listed here with the reason, so nothing is silently ignored.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..knowledge import reference
from ..knowledge.base import KnowledgeBase
from ..knowledge.conditions import BIOMARKER_NAMES
from ..knowledge.reads import Reads
from ..profile import Alteration, Profile
from ..result import NotConsidered


def _reads_alteration(reads: Reads, alt: Alteration) -> bool:
    for types, changes in reads.alterations.get(alt.gene, ()):
        if alt.type == "wild-type" or not (types or changes):
            return True
        if changes and alt.change in changes:
            return True
        if not changes and alt.type in types:
            return True
    return False


def _what_rules_read(reads: Reads, gene: str) -> str:
    """``MDM2 expression``, ``KRAS G12C, G13D or mutation``: what the rules read of a gene."""
    parts: list[str] = []
    for types, changes in reads.alterations.get(gene, ()):
        for part in (*changes, *types):
            if part not in parts:
                parts.append(part)
    if gene in reads.expression:
        parts.append("expression")
    if not parts:
        return f"no rule reads {gene}"
    return f"rules read {gene} " + ", ".join(parts)


def _agent_reason(kb: KnowledgeBase, agent: str) -> str:
    if agent in kb.agents:
        return "no rule names it or a class it belongs to"
    if reference.is_agent_name(agent):
        return ("known through NCIt only: the agent catalogue gives it no classes and no "
                "rule names it")
    return "not a known agent name (knowledge base, regimens or NCIt); no rule names it"


def _items(profile: Profile, kb: KnowledgeBase) -> Iterator[tuple[str, str]]:
    reads = kb.reads()
    used_genes = kb.used_genes()
    for alt in profile.alterations:
        if not _reads_alteration(reads, alt):
            written = alt.change_as_written or alt.change or alt.type
            gene = f"{alt.gene} (isoform {alt.isoform})" if alt.isoform else alt.gene
            yield f"{gene} {written}", _what_rules_read(reads, alt.gene)
    for gene, level in sorted(profile.biomarkers.expression.items()):
        if gene not in reads.expression:
            yield f"{gene} expression {level}", _what_rules_read(reads, gene)
    ctdna_seen: set[str] = set()
    for draw in profile.ctdna:
        for variant in draw.variants:
            item = f"ctDNA {variant.gene} {variant.change or ''}".rstrip()
            if item in ctdna_seen or reads.ctdna_any or variant.gene in reads.ctdna_genes:
                continue
            if variant.gene in used_genes and variant.gene in reads.alterations:
                continue
            ctdna_seen.add(item)
            yield item, _what_rules_read(reads, variant.gene)
    markers = profile.biomarkers
    for name in BIOMARKER_NAMES:
        if getattr(markers, name, None) is not None and name not in reads.biomarkers:
            yield f"biomarker {name}", f"no rule reads {name}"
    for term in markers.tme:
        if term not in reads.tme:
            yield f"TME {term}", "no rule reads this tumour-microenvironment term"
    for taxon in sorted(markers.microbiome):
        if taxon not in reads.microbiome:
            yield f"microbiome {taxon}", "no rule reads this microbiome term"
    for condition in profile.clinical.conditions:
        if condition not in reads.conditions:
            yield f"condition {condition}", "no rule reads this clinical condition"
    for result in profile.drug_sensitivity:
        if result.regimen:
            yield (f"organoid {result.agent}: {result.result}",
                   "a result for the combination: organoid results are read per agent (give "
                   "one result per agent to use them)")
            continue
        base = kb.active_ingredient(result.agent)
        if (reads.sensitivity_any or result.agent in reads.sensitivity
                or base in reads.sensitivity or result.agent in reads.options
                or base in reads.options):
            continue
        yield (f"organoid {result.agent}: {result.result}",
               f"no option contains {result.agent} and no rule reads its organoid result")
    yield from _unread_context(profile)
    agents: list[str] = []
    for therapy in profile.therapies:
        agents += [a for a in therapy.agents if a not in agents]
    for agent in sorted(agents):
        if agent not in reads.agents and kb.active_ingredient(agent) not in reads.agents:
            yield f"agent {agent}", _agent_reason(kb, agent)


def _unread_context(profile: Profile) -> Iterator[tuple[str, str]]:
    """Descriptive fields no rule reads (the stage is also shown in the report's patient
    section; the others are not shown anywhere else)."""
    tumour = profile.tumour
    if tumour.stage:
        yield (f"tumour stage {tumour.stage}",
               "shown in the report; no rule reads the stage (each standard option states its "
               "own setting, mostly advanced or metastatic disease: check it applies)")
    if tumour.histology:
        yield (f"tumour histology {tumour.histology}",
               "no rule reads histology; rules match the tumour type (OncoTree code)")
    for therapy in profile.therapies:
        what = " + ".join(therapy.agents)
        if therapy.setting:
            yield (f"therapy setting {therapy.setting} ({what})",
                   "no rule reads a line's setting; rules read its agents, dates and response")
        if therapy.best_response:
            yield (f"best response {therapy.best_response} ({what})",
                   "no rule reads the best response; progression is read from 'response'")
    for assay in dict.fromkeys(d.assay for d in profile.ctdna if d.assay):
        yield f"ctDNA assay {assay}", "no rule reads the assay name"
    for result in profile.drug_sensitivity:
        if result.assay or result.date:
            when = f" on {result.date.isoformat()}" if result.date else ""
            yield (f"organoid {result.agent}: {result.assay or 'assay'}{when}",
                   "the result is read; no rule reads the assay or its date")
    if profile.clinical.ecog is not None:
        yield (f"ECOG {profile.clinical.ecog}",
               "no rule reads performance status; fitness for each option is for the tumour "
               "board to judge")


def not_considered(profile: Profile, kb: KnowledgeBase) -> list[NotConsidered]:
    """Every profile item that no rule reads, with the reason (profile order)."""
    out: list[NotConsidered] = []
    seen: set[tuple[str, str]] = set()
    for item, reason in _items(profile, kb):
        if (item, reason) not in seen:
            seen.add((item, reason))
            out.append(NotConsidered(item=item, reason=reason))
    return out
