"""The indexes and memos of the evaluation give what the scans they replace give.

Each fast path is checked against a plain re-statement of the code it replaced: the rule
indexes and the memoised class expansion of the knowledge base, a condition's kind, the
conditional options (over examples and generated profiles, against the exhaustive
assessment that scores every candidate), the memoised change parser and the control
character search of profile validation.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable
from types import ModuleType
from typing import Any

import pytest
from conftest import EXAMPLES, benchmark_module

from regimen import Recommender
from regimen.engine.base import FactRecord
from regimen.errors import VocabularyError
from regimen.evaluate import findings as findings_module
from regimen.evaluate.conditional import MAX_TESTS, ProfileView, conditional_options
from regimen.evaluate.ctdna import derive_events
from regimen.evaluate.facts import profile_facts
from regimen.evaluate.findings import Candidate, Findings, citations_of, collect
from regimen.evaluate.rank import (
    EVIDENCE_POINTS,
    MATCH_LEVELS,
    MATCH_POINTS,
    TIERS,
    already_given,
    avoided_in,
    score,
)
from regimen.knowledge import KnowledgeBase, walk_conditions
from regimen.knowledge.conditions import (
    CONTRADICTED,
    SATISFIED,
    Assessment,
    Condition,
    ConditionKind,
    fewest_tests,
)
from regimen.knowledge.language import Rule
from regimen.knowledge.notation import _parse_change, parse_change
from regimen.knowledge.plans import on_derived
from regimen.models import EVIDENCE_LEVELS
from regimen.profile import BIDI_CONTROLS, Profile, _unsafe_character
from regimen.result import ConditionalOption, MissingCondition, OptionOut


def _generator() -> ModuleType:
    return benchmark_module("profiles.py", "bench_profiles_fast")


# -- knowledge-base indexes -------------------------------------------------------------------

def test_rule_indexes_give_what_a_scan_of_the_rules_gives(kb: KnowledgeBase) -> None:
    stages = {rule.stage for rule in kb.rules}
    for stage in stages:
        assert kb.rules_at(stage) == tuple(r for r in kb.rules if r.stage == stage)
    assert kb.rules_at("no-such-stage") == ()
    mechanisms = {r.then.mechanism for r in kb.rules if r.then.mechanism is not None}
    options = {r.option_id for r in kb.rules if r.stage == "option"}
    assert len(mechanisms) > 10 and len(options) > 10
    for mid in mechanisms | {"no-such-mechanism"}:
        assert kb.rules_deriving("mechanism", mid) == tuple(
            r for r in kb.rules if r.stage == "mechanism" and r.then.mechanism == mid)
    for oid in options | {"no-such-option"}:
        assert kb.rules_deriving("option", oid) == tuple(
            r for r in kb.rules if r.stage == "option" and r.option_id == oid)


def _expand_by_scan(kb: KnowledgeBase, ids: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for item in ids:
        out |= {item} | {a.id for a in kb.agents.values() if item in a.classes}
    return out


def test_memoised_expansion_gives_what_a_scan_of_the_agents_gives(kb: KnowledgeBase) -> None:
    groups: list[list[str]] = [[a] for a in sorted(kb.agents)] + [["no-such-agent"], []]
    for rule in kb.rules:
        then = rule.then
        for group in (then.option.agents if then.option else None,
                      then.avoid.agents if then.avoid else None,
                      then.caution.applies_to if then.caution else None, then.blunts):
            if group:
                groups.append(list(group))
    for group in groups:
        expected = _expand_by_scan(kb, group)
        assert kb.expanded(group) == expected
        assert kb.expanded(tuple(group)) == expected  # list and tuple share one entry
        assert kb.expand(group) == expected
    # expand() hands out a set of the caller's own: changing it changes no later answer
    some_class = next(a.classes[0] for a in kb.agents.values() if a.classes)
    mine = kb.expand([some_class])
    mine.add("changed-by-the-caller")
    assert "changed-by-the-caller" not in kb.expand([some_class])
    assert "changed-by-the-caller" not in kb.expanded([some_class])


def test_agents_with_their_classes_match_a_scan(kb: KnowledgeBase) -> None:
    groups = [[a] for a in sorted(kb.agents)] + [["no-such-agent"]]
    groups += [list(r.then.option.agents) for r in kb.rules if r.then.option is not None]
    for group in groups:
        expected = set(group) | {c for a in group for c in kb.classes_of(a)}
        assert kb.with_classes(group) == expected
        assert kb.with_classes(tuple(group)) == expected


def test_knowledge_base_memos_stay_bounded(kb: KnowledgeBase,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from regimen.knowledge import base

    fresh = KnowledgeBase(root=kb.root, manifest=kb.manifest, sources=kb.sources,
                          vocabulary=kb.vocabulary, agents=kb.agents, mechanisms=kb.mechanisms,
                          rules=kb.rules, rule_files=kb.rule_files, exclusions=kb.exclusions,
                          digest=kb.digest)
    monkeypatch.setattr(base, "MEMO_SIZE", 5)
    agents = sorted(kb.agents)[:20]
    for agent in agents:
        assert fresh.expanded([agent]) == _expand_by_scan(kb, [agent])
        assert agent in fresh.with_classes([agent])
    assert len(fresh._expanded) <= 5 and len(fresh._with_classes) <= 5


def test_citations_are_remembered_as_new_lists_of_the_same_items(kb: KnowledgeBase) -> None:
    groups = [[r.id] for r in kb.rules[:40]] + [[r.id for r in kb.rules[i:i + 3]]
                                                 for i in range(0, 60, 3)]
    for group in groups:
        first = citations_of(kb, group)
        assert first == findings_module._citations(kb, group)
        again = citations_of(kb, group)
        assert again == first and again is not first
        again.append(again[0])  # the caller's list: the memo keeps its own
        assert citations_of(kb, group) == first


def test_index_is_built_once_per_knowledge_base(kb: KnowledgeBase) -> None:
    calls: list[KnowledgeBase] = []

    def build(base: KnowledgeBase) -> int:
        calls.append(base)
        return len(base.rules)

    name = "test.fast-paths.count"
    assert kb.index(name, build) == len(kb.rules)
    assert kb.index(name, build) == len(kb.rules)
    assert calls == [kb]


def _spec_by_scan(cond: Condition) -> ConditionKind:
    values = [getattr(cond, name) for name in type(cond).model_fields]
    found = [v for v in values if v is not None]
    assert len(found) == 1
    assert isinstance(found[0], ConditionKind)
    return found[0]


def test_condition_kind_is_the_one_field_set(kb: KnowledgeBase) -> None:
    conditions = [c for rule in kb.rules for c in walk_conditions(rule.when)]
    assert len(conditions) > 300
    kinds = set()
    for cond in conditions:
        assert cond.spec is _spec_by_scan(cond)
        kinds.add(cond.kind)
    assert {"tumour", "alteration", "mechanism", "not", "any", "therapy"} <= kinds
    # a kind written next to explicit nulls, the spelling "tumor", a copy, a pickle
    odd = [
        Condition.model_validate({"tumour": None, "alteration": {"gene": "KRAS"},
                                  "any": None}),
        Condition.model_validate({"tumor": "COADREAD"}),
        Condition.model_validate({"not": {"tme": "hypoxic"}}),
        Condition.model_validate({"tme": "hypoxic"}).model_copy(),
        pickle.loads(pickle.dumps(Condition.model_validate({"condition": "hbv-infection"}))),
    ]
    for cond in odd:
        assert cond.spec == _spec_by_scan(cond)
    assert [c.kind for c in odd] == ["alteration", "tumour", "not", "tme", "condition"]


# -- conditional options against the exhaustive assessment -------------------------------------

class _ScanView(ProfileView):
    """The view as it was: every rule scanned for each derivation, every condition assessed."""

    def _derive(self, kind: str, value: str) -> Assessment:
        made = self._mechanisms if kind == "mechanism" else self._options
        if value in made:
            return SATISFIED
        self._cache[(kind, value)] = CONTRADICTED
        routes = [_assess_rule(self, rule) for rule in self.kb.rules
                  if rule.stage == kind and (rule.then.mechanism == value
                                             if kind == "mechanism" else rule.option_id == value)]
        if any(a.state == "unknown" for a in routes):
            return fewest_tests(routes)
        return CONTRADICTED


def _assess_rule(view: ProfileView, rule: Rule) -> Assessment:
    results = [c.spec.assess(view) for c in rule.when]
    if any(a.state == "contradicted" for a in results):
        return CONTRADICTED
    tests = sorted({t for a in results if a.state == "unknown" for t in a.tests})
    return Assessment("unknown", tuple(tests)) if tests else SATISFIED


def _reference(kb: KnowledgeBase, profile: Profile, facts: list[FactRecord],
               findings: Findings, cap: int) -> tuple[list[ConditionalOption], int]:
    """Every option rule assessed in full and every candidate scored, then sorted."""
    view = _ScanView(kb, facts, findings)
    progressed = {kb.active_ingredient(a) for t in profile.therapies if t.progressed
                  for a in t.agents}
    organoid = {kb.active_ingredient(s.agent): s.result for s in profile.drug_sensitivity}
    active = {m.id for m in findings.mechanisms}
    confidence = findings.mechanism_confidence
    best: dict[str, tuple[int, str, ConditionalOption]] = {}
    for rule in kb.rules:
        if rule.stage != "option" or rule.option_id in view.proposed:
            continue
        spec = rule.then.option
        assert spec is not None
        agents = list(spec.agents)
        if already_given(kb, profile, spec) is not None:
            continue
        if avoided_in(kb, findings.avoid, agents) or any(
                kb.active_ingredient(a) in progressed and a not in spec.rechallenge
                for a in agents):
            continue
        assessed = [(c, c.spec.assess(view)) for c in rule.when]
        if any(a.state == "contradicted" for _, a in assessed):
            continue
        tests = sorted({t for _, a in assessed if a.state == "unknown" for t in a.tests})
        if not tests or len(tests) > MAX_TESTS:
            continue
        addresses = {m for c, a in assessed if c.kind == "mechanism" and a.state == "satisfied"
                     for m in c.spec.any_of if m in active}  # type: ignore[attr-defined]
        confidences = [confidence[m] for m in sorted(addresses)]
        if rule.then.confidence:
            confidences.append(rule.then.confidence)
        cand = Candidate(id=rule.option_id, rules=[rule.id], addresses=addresses,
                         confidences=confidences)
        rec = score(kb, profile, cand, findings, organoid, active, progressed)
        item = ConditionalOption(
            option=OptionOut.model_validate(rec.model_dump(exclude={"rank"})),
            missing=[MissingCondition(text=c.describe(),
                                      condition=c.model_dump(mode="json", by_alias=True,
                                                             exclude_none=True),
                                      tests=list(a.tests))
                     for c, a in assessed if a.state == "unknown"],
            tests=tests, citations=citations_of(kb, [rule.id]))
        key = (len(tests), rule.id)
        if rule.option_id not in best or key < best[rule.option_id][:2]:
            best[rule.option_id] = (*key, item)
    items = sorted((entry[2] for entry in best.values()), key=lambda i: (
        TIERS.index(i.option.tier),
        -(EVIDENCE_POINTS[i.option.evidence_level] + MATCH_POINTS[i.option.tumour_match]),
        EVIDENCE_LEVELS.index(i.option.evidence_level),
        MATCH_LEVELS.index(i.option.tumour_match), i.option.id))
    return items[:cap], max(0, len(items) - cap)


def _dump(result: tuple[list[ConditionalOption], int]) -> tuple[list[dict[str, Any]], int]:
    return [item.model_dump(mode="json") for item in result[0]], result[1]


def test_conditional_options_match_the_exhaustive_assessment(
        recommender: Recommender) -> None:
    kb = recommender.kb
    inputs: list[Any] = sorted(EXAMPLES.glob("*.yaml"))
    inputs += _generator().ProfileGenerator(kb).profiles(150, seed=31)
    shown = more = 0
    for source in inputs:
        profile = recommender.load(source)
        events = derive_events(profile.ctdna, profile.therapies, profile.settings.ctdna)
        facts = list(profile_facts(profile, kb, events))
        findings = collect(kb, recommender.engine.run(facts))
        for cap in (0, 3, 10, 1000):
            expected = _dump(_reference(kb, profile, facts, findings, cap))
            assert _dump(conditional_options(kb, profile, facts, findings, cap=cap)) == \
                expected, (source, cap)
            if cap == 1000:
                shown += len(expected[0])
            if cap == 3:
                more += expected[1]
    assert shown > 100 and more > 10  # the profiles do have conditional options


def test_assessment_plan_puts_derived_conditions_last(kb: KnowledgeBase) -> None:
    plans = kb.plans()
    assert set(plans) == {r.id for r in kb.rules}
    reordered = 0
    for rule in kb.rules:
        plan = plans[rule.id]
        assert sorted(i for i, _, _ in plan) == list(range(len(rule.when)))
        assert all(rule.when[i].spec is spec for i, _, spec in plan)
        late = [on_derived(rule.when[i]) for i, _, _ in plan]
        assert late == sorted(late)  # no fact condition after a derived one
        reordered += [i for i, _, _ in plan] != sorted(i for i, _, _ in plan)
    assert reordered > 10
    # a key stands for one condition: equal keys only for equal conditions
    by_key: dict[int, Condition] = {}
    for rule in kb.rules:
        for i, key, _ in plans[rule.id]:
            assert by_key.setdefault(key, rule.when[i]) == rule.when[i]
    assert len(by_key) < sum(len(r.when) for r in kb.rules)  # and rules do share some


# -- profile validation ------------------------------------------------------------------------

CHANGES = ["G12C", "p.Gly12Cys", "p.(Gly12Cys)", "KRAS G12C", "c.34G>T", "R97fs",
           "E746_A750del", "exon 19 deletion", "FGFR2::BICC1", "splice site", "V600E",
           "p.Val600Glu", "M1?", "K3326*", " g12c ", "Q61K"]


@pytest.mark.parametrize("gene", ["KRAS", "BRAF", "EGFR", None])
def test_memoised_change_parser_gives_what_the_parser_gives(gene: str | None) -> None:
    for raw in CHANGES:
        try:
            expected = _parse_change(raw, gene)
        except VocabularyError as exc:
            for _ in range(2):  # a refused value is refused every time, with the same words
                with pytest.raises(VocabularyError) as again:
                    parse_change(raw, gene)
                assert again.value.message == exc.message
            continue
        assert parse_change(raw, gene) == expected
        assert parse_change(raw, gene) == expected


def test_change_parser_refuses_what_it_cannot_memoise() -> None:
    with pytest.raises(VocabularyError, match="change must be text"):
        parse_change(["G12C"])  # type: ignore[arg-type]
    for bad in ("G12C\u200b", "amplification", "c.*12A>G"):
        for _ in range(2):
            with pytest.raises(VocabularyError):
                parse_change(bad, "KRAS")


def _unsafe_by_scan(text: str) -> str | None:
    for char in text:
        code = ord(char)
        if code < 0x20 or 0x7F <= code <= 0x9F or char in BIDI_CONTROLS:
            return char
    return None


def test_control_character_search_finds_what_a_scan_finds() -> None:
    for code in [*range(0x3000), *(ord(c) for c in BIDI_CONTROLS), 0xFEFF, 0x10FFFF]:
        char = chr(code)
        for text in (char, f"ab{char}", f"{char}cd\x07", f"x{char}\u202ey"):
            assert _unsafe_character(text) == _unsafe_by_scan(text), hex(code)
    assert _unsafe_character("plain text, ünïcode and ‘quotes’") is None


# -- findings ----------------------------------------------------------------------------------

def test_remembered_fact_descriptions_match_matched_text(recommender: Recommender) -> None:
    from regimen.engine.base import Firing

    kb = recommender.kb
    text = findings_module._MatchedText()
    checked = 0
    for profile in _generator().ProfileGenerator(kb).profiles(40, seed=5):
        model = recommender.load(profile)
        events = derive_events(model.ctdna, model.therapies, model.settings.ctdna)
        firings = recommender.engine.run(list(profile_facts(model, kb, events)))
        for firing in firings:
            assert text(firing) == findings_module.matched_text(firing)
            assert text(firing) == findings_module.matched_text(firing)  # remembered
            checked += 1
    assert checked > 100
    odd = Firing(rule="r", stage="test", derived=FactRecord.of("Test", id="r"),
                 matched=(FactRecord.of("Tme", feature=["not", "hashable"]),))
    assert text(odd) == findings_module.matched_text(odd)


def test_an_option_has_every_field_of_a_recommendation_but_its_rank() -> None:
    # conditional options copy a scored Recommendation into an OptionOut by attribute
    from regimen.result import Recommendation

    assert set(OptionOut.model_fields) == set(Recommendation.model_fields) - {"rank"}
