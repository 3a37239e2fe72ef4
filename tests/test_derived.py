"""What is derived from the rules once (what they read, each condition as JSON, the order
conditions are assessed in) is the same
whether computed now or read back with the knowledge base from the cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from regimen.knowledge import base as base_module
from regimen.knowledge.conditions import Condition
from regimen.knowledge.language import Rule
from regimen.knowledge.loader import load_knowledge
from regimen.knowledge.plans import Plan, assessment_plans
from regimen.knowledge.reads import collect_reads


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "cache"
    monkeypatch.setenv("REGIMEN_CACHE_DIR", str(directory))
    return directory


def test_the_cached_knowledge_base_brings_what_is_derived(
        cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = load_knowledge()

    def refuse(*_: object) -> None:
        raise AssertionError("derived again instead of read from the cache")

    monkeypatch.setattr(base_module, "collect_reads", refuse)
    monkeypatch.setattr(base_module, "_condition_json", refuse)
    monkeypatch.setattr(base_module, "assessment_plans", refuse)
    cached = load_knowledge()
    assert cached is not fresh
    assert cached.reads() == fresh.reads()
    rule = next(r for r in cached.rules if len(r.when) > 1)
    assert cached.condition_json(rule.id, 1, rule.when[1]) == \
        fresh.condition_json(rule.id, 1, fresh.rules_by_id[rule.id].when[1])
    assert _plain(cached.plans()) == _plain(fresh.plans())
    assert all(step[2] is cached.rules_by_id[rule_id].when[step[0]].spec
               for rule_id, plan in cached.plans().items() for step in plan)


def _plain(plans: dict[str, Plan]) -> dict[str, list[tuple[int, int, str]]]:
    return {rule_id: [(i, key, spec.model_dump_json()) for i, key, spec in plan]
            for rule_id, plan in plans.items()}


def test_plans_key_equal_conditions_alike_whatever_their_spelling() -> None:
    def rule(when: list[dict[str, object]], n: int) -> Rule:
        return Rule.model_validate({
            "id": f"test.r{n}", "stage": "mechanism", "when": when,
            "then": {"mechanism": "m", "confidence": "high"},
            "cite": [{"source": "s", "refs": [1], "where": "x"}]})

    first = {"alteration": {"gene": ["KRAS"], "change": ["G12C"]}}
    same = {"alteration": {"change": ["G12C"], "gene": ["KRAS"]}}
    other = {"mechanism": {"any_of": ["m"]}}
    rules = [rule([other, first], 1), rule([same], 2)]
    plans = assessment_plans(rules, lambda _rid, _i, c: c.model_dump(
        mode="json", by_alias=True, exclude_none=True))
    assert [i for i, _, _ in plans["test.r1"]] == [1, 0]  # the derived condition last
    assert plans["test.r1"][0][1] == plans["test.r2"][0][1]
    assert plans["test.r1"][1][1] != plans["test.r1"][0][1]


def test_condition_json_is_the_model_dump_of_every_condition() -> None:
    kb = load_knowledge(use_cache=False)
    count = 0
    for rule in kb.rules:
        for i, cond in enumerate(rule.when):
            expected = cond.model_dump(mode="json", by_alias=True, exclude_none=True)
            assert kb.condition_json(rule.id, i, cond) == expected
            count += 1
    assert count > len(kb.rules)
    assert any("not" in kb.condition_json(r.id, i, c)
               for r in kb.rules for i, c in enumerate(r.when))  # by alias


def test_condition_json_hands_out_copies_and_checks_the_condition() -> None:
    kb = load_knowledge(use_cache=False)
    rule = next(r for r in kb.rules if r.when[0].kind == "alteration")
    first = kb.condition_json(rule.id, 0, rule.when[0])
    first["alteration"]["gene"].append("MUTATED")
    assert "MUTATED" not in kb.condition_json(rule.id, 0, rule.when[0])["alteration"]["gene"]
    other = Condition.model_validate({"tme": {"any_of": ["hypoxic"]}})
    assert kb.condition_json(rule.id, 0, other) == {"tme": {"any_of": ["hypoxic"]}}


def test_reads_match_a_fresh_collection() -> None:
    kb = load_knowledge()
    reads = kb.reads()
    assert reads == collect_reads(kb)
    assert "KRAS" in reads.alterations and reads.options
