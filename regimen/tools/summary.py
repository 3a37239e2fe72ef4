"""Evidence summaries of the knowledge base, mechanism by mechanism.

For each resistance mechanism: what finding triggers it, what it blunts, which
options address it (evidence level, where studied, citations); then the
agents to avoid, the cautions and the tests. With a tumour type, each option
also shows how well its evidence matches that tumour and options are ordered
by that match.
"""

from __future__ import annotations

from ..evaluate.findings import citations_of
from ..evaluate.rank import MATCH_LEVELS, tumour_match
from ..knowledge.base import KnowledgeBase
from ..knowledge.language import Rule
from ..models import EVIDENCE_LEVELS, Model
from ..result import DISCLAIMER, CitationOut


class SummaryOption(Model):
    id: str
    label: str
    agents: list[str]
    named_agent: bool
    evidence_level: str
    studied_in: list[str]
    tumour_match: str | None
    when: list[str]
    note: str | None
    citations: list[CitationOut]


class SummaryMechanism(Model):
    id: str
    label: str
    category: str
    blunts: list[str]
    triggered_by: list[str]
    citations: list[CitationOut]
    options: list[SummaryOption]


class SummaryItem(Model):
    id: str
    text: str
    agents: list[str]
    when: list[str]
    citations: list[CitationOut]


class EvidenceSummary(Model):
    knowledge: str
    tumour: str | None
    tumour_name: str | None
    mechanisms: list[SummaryMechanism]
    other_options: list[SummaryOption]
    avoid: list[SummaryItem]
    cautions: list[SummaryItem]
    tests: list[SummaryItem]
    preferences: list[SummaryItem] = []
    disclaimer: str = DISCLAIMER


def _when(rule: Rule) -> str:
    return " and ".join(c.describe() for c in rule.when)


def summarise_knowledge(kb: KnowledgeBase, tumour: str | None = None) -> EvidenceSummary:
    def option_entry(rules: list[Rule]) -> SummaryOption:
        spec = rules[0].then.option
        assert spec is not None
        match = tumour_match(kb, tumour, spec.studied_in) if tumour else None
        return SummaryOption(
            id=rules[0].option_id, label=spec.label, agents=list(spec.agents),
            named_agent=all(kb.agents[a].named for a in spec.agents if a in kb.agents),
            evidence_level=spec.evidence, studied_in=list(spec.studied_in), tumour_match=match,
            when=[_when(r) for r in rules], note=spec.note,
            citations=citations_of(kb, [r.id for r in rules]))

    def order(option: SummaryOption) -> tuple[int, int, str]:
        match = MATCH_LEVELS.index(option.tumour_match) if option.tumour_match else 0
        return (match, EVIDENCE_LEVELS.index(option.evidence_level), option.id)

    options_by_id: dict[str, list[Rule]] = {}
    for rule in sorted(kb.rules, key=lambda r: r.id):
        if rule.stage == "option":
            options_by_id.setdefault(rule.option_id, []).append(rule)
    addressed: dict[str, set[str]] = {}
    for option_id, rules in options_by_id.items():
        for rule in rules:
            for cond in rule.when:
                if cond.mechanism is not None:
                    for mid in cond.mechanism.any_of:
                        addressed.setdefault(mid, set()).add(option_id)

    mechanisms = []
    for mid in sorted(kb.mechanisms, key=lambda m: (kb.mechanisms[m].category, m)):
        mech = kb.mechanisms[mid]
        derivers = [r for r in sorted(kb.rules, key=lambda r: r.id)
                    if r.stage == "mechanism" and r.then.mechanism == mid]
        options = sorted((option_entry(options_by_id[o]) for o in addressed.get(mid, ())),
                         key=order)
        mechanisms.append(SummaryMechanism(
            id=mid, label=mech.label, category=mech.category,
            blunts=kb.blunts_of([r.id for r in derivers]) if derivers else sorted(mech.blunts),
            triggered_by=[_when(r) for r in derivers],
            citations=citations_of(kb, [r.id for r in derivers]), options=options))
    all_addressed = set().union(*addressed.values()) if addressed else set()
    other = sorted((option_entry(rules) for oid, rules in options_by_id.items()
                    if oid not in all_addressed), key=order)

    def items(stage: str) -> list[SummaryItem]:
        out = []
        for rule in sorted(kb.rules, key=lambda r: r.id):
            if rule.stage != stage:
                continue
            then = rule.then
            if stage == "avoid":
                assert then.avoid is not None
                text, agents = then.avoid.reason, list(then.avoid.agents)
            elif stage == "caution":
                assert then.caution is not None
                text, agents = then.caution.text, list(then.caution.applies_to)
            elif stage == "preference":
                assert then.preference is not None
                text, agents = then.preference.text, list(then.preference.agents)
            else:
                assert then.test is not None
                text, agents = f"{then.test.test}: {then.test.why}", []
            out.append(SummaryItem(id=rule.id, text=" ".join(text.split()), agents=agents,
                                   when=[_when(rule)], citations=citations_of(kb, [rule.id])))
        return out

    return EvidenceSummary(
        knowledge=f"{kb.manifest.name} {kb.version} ({len(kb.rules)} rules, digest {kb.digest})",
        tumour=tumour,
        tumour_name=kb.vocabulary.tumour(tumour).name if tumour else None,
        mechanisms=mechanisms, other_options=other, avoid=items("avoid"),
        cautions=items("caution"), tests=items("test"), preferences=items("preference"))
