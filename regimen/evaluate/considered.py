"""What the profile says that no rule reads: the report's "not considered" list.

Every item of the profile (an alteration, an expression level, a ctDNA variant, a
biomarker, a TME or microbiome term, a clinical condition, an organoid result, an agent
of the treatment history) is either read by at least one rule (one that fired or could
fire) or listed here with the reason, so nothing is silently ignored.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from ..knowledge import reference
from ..knowledge.base import KnowledgeBase
from ..knowledge.conditions import (
    AlterationCond,
    BiomarkerCond,
    ClinicalCond,
    Condition,
    CtdnaCond,
    ExpressionCond,
    MicrobiomeCond,
    NotCond,
    SensitivityCond,
    TherapyCond,
    TmeCond,
)
from ..profile import Alteration, Profile
from ..result import NotConsidered


@dataclass
class _Reads:
    """What the rules of a knowledge base read, by kind."""

    alterations: dict[str, list[tuple[tuple[str, ...], tuple[str, ...]]]] = field(
        default_factory=dict)               # gene -> [(types, changes)]; () = any
    expression: set[str] = field(default_factory=set)
    ctdna_genes: set[str] = field(default_factory=set)
    ctdna_any: bool = False
    biomarkers: set[str] = field(default_factory=set)
    tme: set[str] = field(default_factory=set)
    microbiome: set[str] = field(default_factory=set)
    conditions: set[str] = field(default_factory=set)
    sensitivity: set[str] = field(default_factory=set)
    sensitivity_any: bool = False
    options: set[str] = field(default_factory=set)
    agents: set[str] = field(default_factory=set)


def _walk(conditions: list[Condition], negated: bool = False) -> Iterator[
        tuple[Condition, bool]]:
    """Every condition with whether it sits under a ``not``."""
    for cond in conditions:
        yield cond, negated
        yield from _walk(cond.spec.children(), negated or isinstance(cond.spec, NotCond))


@lru_cache(maxsize=8)
def _reads(kb: KnowledgeBase) -> _Reads:
    reads = _Reads(agents=kb.used_agents())
    for rule in kb.rules:
        if rule.then.option is not None:
            reads.options |= kb.expand(rule.then.option.agents)
        for cond, negated in _walk(rule.when):
            spec = cond.spec
            if isinstance(spec, AlterationCond):
                types = tuple(t for t in spec.type or () if t != "any")
                for gene in spec.gene:
                    reads.alterations.setdefault(gene, []).append(
                        (types, tuple(spec.change or ())))
            elif isinstance(spec, ExpressionCond):
                reads.expression |= set(spec.gene)
            elif isinstance(spec, CtdnaCond):
                if spec.gene:
                    reads.ctdna_genes |= set(spec.gene)
                else:
                    reads.ctdna_any = True
            elif isinstance(spec, BiomarkerCond):
                reads.biomarkers.add(spec.name)
            elif isinstance(spec, TmeCond):
                reads.tme |= set(spec.any_of)
            elif isinstance(spec, MicrobiomeCond):
                reads.microbiome |= set(spec.taxon)
            elif isinstance(spec, ClinicalCond):
                reads.conditions |= set(spec.any_of)
            elif isinstance(spec, SensitivityCond) and not negated:
                # "no organoid result at all" (a negated condition) reads no result
                named = [*(spec.agent or ()), *(spec.klass or ())]
                if named:
                    reads.sensitivity |= kb.expand(named)
                else:
                    reads.sensitivity_any = True
            elif isinstance(spec, TherapyCond):
                pass  # agents and classes are in kb.used_agents()
    return reads


def _reads_alteration(reads: _Reads, alt: Alteration) -> bool:
    for types, changes in reads.alterations.get(alt.gene, ()):
        if alt.type == "wild-type" or not (types or changes):
            return True
        if changes and alt.change in changes:
            return True
        if not changes and alt.type in types:
            return True
    return False


def _what_rules_read(reads: _Reads, gene: str) -> str:
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
    reads = _reads(kb)
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
    for name in ("msi", "tmb", "pdl1_cps"):
        if getattr(markers, name) is not None and name not in reads.biomarkers:
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
        base = kb.active_ingredient(result.agent)
        if (reads.sensitivity_any or result.agent in reads.sensitivity
                or base in reads.sensitivity or result.agent in reads.options
                or base in reads.options):
            continue
        yield (f"organoid {result.agent}: {result.result}",
               f"no option contains {result.agent} and no rule reads its organoid result")
    agents: list[str] = []
    for therapy in profile.therapies:
        agents += [a for a in therapy.agents if a not in agents]
    for agent in sorted(agents):
        if agent not in reads.agents and kb.active_ingredient(agent) not in reads.agents:
            yield f"agent {agent}", _agent_reason(kb, agent)


def not_considered(profile: Profile, kb: KnowledgeBase) -> list[NotConsidered]:
    """Every profile item that no rule reads, with the reason (profile order)."""
    out: list[NotConsidered] = []
    seen: set[tuple[str, str]] = set()
    for item, reason in _items(profile, kb):
        if (item, reason) not in seen:
            seen.add((item, reason))
            out.append(NotConsidered(item=item, reason=reason))
    return out
