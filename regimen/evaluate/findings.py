"""Firings -> the derived findings (mechanisms, candidates, avoid, cautions, tests, trace).

Order never depends on firing order: everything is sorted on explicit keys.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ..engine.base import FactRecord, Firing
from ..knowledge.base import MEMO_SIZE, KnowledgeBase
from ..knowledge.language import Citation
from ..models import CONFIDENCE_LEVELS, STAGES
from ..result import (
    AvoidOut,
    CautionOut,
    CitationOut,
    MechanismOut,
    PreferenceOut,
    TestOut,
    TraceEntry,
)
from .facts import describe


def matched_text(firing: Firing) -> list[str]:
    """The facts a firing matched, in words, sorted."""
    return sorted(describe(f) for f in firing.matched)


class _MatchedText:
    """:func:`matched_text` for the firings of one evaluation, each fact described once
    (most rules match the same tumour and therapy facts) and each firing once."""

    def __init__(self) -> None:
        self._facts: dict[FactRecord, str] = {}
        # by id(): each entry holds its firing, so that no other object can take its id
        self._firings: dict[int, tuple[Firing, list[str]]] = {}

    def __call__(self, firing: Firing) -> list[str]:
        found = self._firings.get(id(firing))
        if found is None:
            found = self._firings[id(firing)] = (
                firing, sorted(self._describe(f) for f in firing.matched))
        return list(found[1])

    def _describe(self, record: FactRecord) -> str:
        try:
            text = self._facts.get(record)
        except TypeError:  # a value that cannot be hashed: describe it every time
            return describe(record)
        if text is None:
            text = self._facts[record] = describe(record)
        return text


def citations_of(kb: KnowledgeBase, rule_ids: list[str]) -> list[CitationOut]:
    """The citations of these rules, merged and sorted (a new list of shared, frozen items;
    remembered per set of rules with the knowledge base)."""
    memo: dict[tuple[str, ...], list[CitationOut]] = kb.index("findings.citations", _new_memo)
    key = tuple(rule_ids)
    found = memo.get(key)
    if found is None:
        found = _citations(kb, rule_ids)
        if len(memo) >= MEMO_SIZE:
            memo.clear()
        memo[key] = found
    return list(found)


def _new_memo(kb: KnowledgeBase) -> dict[tuple[str, ...], list[CitationOut]]:
    return {}


def _citations(kb: KnowledgeBase, rule_ids: list[str]) -> list[CitationOut]:
    seen: dict[tuple[str, tuple[int, ...], str], CitationOut] = {}
    for rule_id in sorted(rule_ids):
        for cite in kb.rules_by_id[rule_id].cite:
            key = (cite.source, tuple(cite.refs), cite.where)
            seen.setdefault(key, _cite_out(cite))
    return [seen[k] for k in sorted(seen)]


def _cite_out(cite: Citation) -> CitationOut:
    return CitationOut(source=cite.source, refs=sorted(set(cite.refs)), where=cite.where)


@dataclass
class Candidate:
    """An option that at least one rule proposed, with everything that supports it."""

    id: str
    rules: list[str]
    addresses: set[str] = field(default_factory=set)
    confidences: list[str] = field(default_factory=list)


@dataclass
class Findings:
    mechanisms: list[MechanismOut]
    candidates: list[Candidate]
    avoid: list[AvoidOut]
    cautions: list[CautionOut]
    tests: list[TestOut]
    trace: list[TraceEntry]
    preferences: list[PreferenceOut] = field(default_factory=list)

    @property
    def mechanism_confidence(self) -> dict[str, str]:
        return {m.id: m.confidence for m in self.mechanisms}


def _strongest(levels: list[str]) -> str:
    return min(levels, key=CONFIDENCE_LEVELS.index)


def collect(kb: KnowledgeBase, firings: list[Firing]) -> Findings:
    text = _MatchedText()
    by_stage: dict[str, list[Firing]] = {s: [] for s in STAGES}
    for firing in firings:
        by_stage[firing.stage].append(firing)

    # mechanisms: merged by id across the rules that derived them
    mech_rules, mech_evidence = _group_by_derived_id(by_stage["mechanism"], text)
    mech_conf: dict[str, list[str]] = {}
    for firing in by_stage["mechanism"]:
        mech_conf.setdefault(firing.derived["id"], []).append(firing.derived["confidence"])
    mechanisms = []
    order = sorted(mech_rules, key=lambda m: (CONFIDENCE_LEVELS.index(_strongest(mech_conf[m])), m))
    for mid in order:
        known = kb.mechanisms[mid]
        rules = sorted(mech_rules[mid])
        mechanisms.append(MechanismOut(
            id=mid, label=known.label, category=known.category,
            confidence=_strongest(mech_conf[mid]), evidence=sorted(mech_evidence[mid]),
            rule=rules[0], rules=rules, blunts=kb.blunts_of(rules),
            citations=citations_of(kb, rules),
        ))

    candidates: dict[str, Candidate] = {}
    for firing in by_stage["option"]:
        oid = firing.derived["id"]
        cand = candidates.setdefault(oid, Candidate(id=oid, rules=[]))
        if firing.rule not in cand.rules:
            cand.rules.append(firing.rule)
        for fact in firing.matched:
            if fact.kind == "Mechanism":
                cand.addresses.add(fact["id"])
                cand.confidences.append(fact["confidence"])
        rule_conf = kb.rules_by_id[firing.rule].then.confidence
        if rule_conf:
            cand.confidences.append(rule_conf)
    for cand in candidates.values():
        cand.rules.sort()

    avoid = []
    for rule_id, evidence in _merge(by_stage["avoid"], text).items():
        spec = kb.rules_by_id[rule_id].then.avoid
        assert spec is not None
        avoid.append(AvoidOut(id=rule_id, agents=list(spec.agents), reason=spec.reason,
                              scope=spec.scope, except_with=list(spec.except_with),
                              evidence=evidence, citations=citations_of(kb, [rule_id])))

    caution_rules, caution_evidence = _group_by_derived_id(by_stage["caution"], text)
    cautions = []
    for cid in sorted(caution_rules):
        rules = sorted(caution_rules[cid])
        specs = [kb.rules_by_id[r].then.caution for r in rules]
        caution_specs = [s for s in specs if s is not None]
        applies = sorted({a for s in caution_specs for a in s.applies_to})
        names = [kb.agents[a].name if a in kb.agents else a for a in applies]
        # groups every rule requires (a rule without groups applies more widely)
        common = set.intersection(*({tuple(sorted(g)) for g in s.applies_when_all}
                                    for s in caution_specs))
        groups = sorted(common)
        cautions.append(CautionOut(id=cid, text=caution_specs[0].text, applies_to=applies,
                                   applies_to_names=names,
                                   applies_when_all=[list(g) for g in groups],
                                   evidence=sorted(caution_evidence[cid]),
                                   citations=citations_of(kb, rules)))

    tests = []
    for rule_id in sorted(_merge(by_stage["test"], text)):
        test_spec = kb.rules_by_id[rule_id].then.test
        assert test_spec is not None
        tests.append(TestOut(id=rule_id, test=test_spec.test, why=test_spec.why,
                             citations=citations_of(kb, [rule_id])))

    pref_rules, pref_evidence = _group_by_derived_id(by_stage["preference"])
    preferences = []
    for pid in sorted(pref_rules):
        rules = sorted(pref_rules[pid])
        pref_specs = [s for s in (kb.rules_by_id[r].then.preference for r in rules)
                      if s is not None]
        wanted = sorted({a for s in pref_specs for a in s.agents})
        preferences.append(PreferenceOut(
            id=pid, text=pref_specs[0].text, agents=wanted,
            agent_names=[kb.agents[a].name if a in kb.agents else a for a in wanted],
            evidence=sorted(pref_evidence[pid]), citations=citations_of(kb, rules)))

    trace = sorted(
        (TraceEntry(rule=f.rule, stage=f.stage, matched=text(f),
                    derived=_derived_label(f)) for f in firings),
        key=lambda t: (STAGES.index(t.stage), t.rule, t.derived, t.matched),
    )
    return Findings(mechanisms=mechanisms, candidates=sorted(candidates.values(),
                    key=lambda c: c.id), avoid=sorted(avoid, key=lambda a: a.id),
                    cautions=cautions, tests=tests, trace=trace, preferences=preferences)


def _group_by_derived_id(firings: list[Firing], text: Callable[[Firing], list[str]] = matched_text,
                         ) -> tuple[dict[str, list[str]], dict[str, set[str]]]:
    """Derived id -> the rules that derived it, and the facts they matched."""
    rules: dict[str, list[str]] = {}
    evidence: dict[str, set[str]] = {}
    for firing in firings:
        derived_id = firing.derived["id"]
        rules.setdefault(derived_id, [])
        if firing.rule not in rules[derived_id]:
            rules[derived_id].append(firing.rule)
        evidence.setdefault(derived_id, set()).update(text(firing))
    return rules, evidence


def _merge(firings: list[Firing], text: Callable[[Firing], list[str]] = matched_text,
           ) -> dict[str, list[str]]:
    out: dict[str, set[str]] = {}
    for firing in firings:
        out.setdefault(firing.rule, set()).update(text(firing))
    return {k: sorted(v) for k, v in sorted(out.items())}


def _derived_label(firing: Firing) -> str:
    d = firing.derived
    if firing.stage == "mechanism":
        return f"mechanism:{d['id']}"
    if firing.stage == "option":
        return f"option:{d['id']}"
    if firing.stage in ("caution", "preference"):
        return f"{firing.stage}:{d['id']}"
    return f"{firing.stage}:{firing.rule}"
