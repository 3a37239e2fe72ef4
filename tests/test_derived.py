"""What is derived from the rules once (what they read, each condition as JSON) is the same
whether computed now or read back with the knowledge base from the cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from regimen.knowledge import base as base_module
from regimen.knowledge.conditions import Condition
from regimen.knowledge.loader import load_knowledge
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
    cached = load_knowledge()
    assert cached is not fresh
    assert cached.reads() == fresh.reads()
    rule = next(r for r in cached.rules if len(r.when) > 1)
    assert cached.condition_json(rule.id, 1, rule.when[1]) == \
        fresh.condition_json(rule.id, 1, fresh.rules_by_id[rule.id].when[1])


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
