"""What the rules of a knowledge base read, by kind: the profile items no rule reads are
listed in the report as not considered (:mod:`regimen.evaluate.considered`).

A pure function of the rules, computed once per knowledge base and kept with it in the
knowledge-base cache (:meth:`regimen.knowledge.base.KnowledgeBase.reads`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .conditions import (
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

if TYPE_CHECKING:
    from .base import KnowledgeBase


@dataclass
class Reads:
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


def collect_reads(kb: KnowledgeBase) -> Reads:
    reads = Reads(agents=kb.used_agents())
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
