"""The shipped knowledge base: loads, lints clean, covers the sources."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from regimen.errors import KnowledgeError
from regimen.io.resources import knowledge_dir
from regimen.knowledge import load_knowledge
from regimen.tools.coverage import coverage
from regimen.tools.lint import lint


def _lint_errors(kb) -> list:
    return [p for p in lint(kb) if p.level == "error"]


def test_shipped_knowledge_has_no_lint_errors(kb) -> None:
    assert [p.render() for p in _lint_errors(kb)] == []


def test_no_standard_option_is_avoided(kb) -> None:
    conflicts = {p.rule for p in _lint_errors(kb) if "another rule avoids" in p.message}
    assert conflicts == set()


def test_every_rule_cites_a_known_source_with_location(kb) -> None:
    for rule in kb.rules:
        assert rule.cite, rule.id
        for cite in rule.cite:
            assert cite.source in kb.sources
            assert cite.where.strip()


def test_sources_are_the_three_reviews_and_the_standard_layer(kb) -> None:
    reviews = {k for k, s in kb.sources.items() if s.kind == "review"}
    assert reviews == {"gi-resistance-2025", "ici-resistance-2025", "ferroptosis-2025"}
    others = [s for s in kb.sources.values() if s.kind != "review"]
    assert len(others) == 60
    assert {s.kind for s in others} == {"trial", "approval", "meta-analysis"}
    assert all(s.verified for s in others)
    assert kb.standard_as_of is not None
    assert len(kb.sources["ici-resistance-2025"].references) == 62
    assert len(kb.sources["ferroptosis-2025"].references) == 187
    assert not kb.sources["gi-resistance-2025"].references


def test_every_table_row_and_section_is_accounted_for(kb) -> None:
    report = coverage(kb)
    missing = [(s.key, i.where) for s in report.sources for i in s.items
               if i.status == "unaccounted"]
    assert missing == []


def test_named_false_for_classes_and_targets(kb) -> None:
    for agent in kb.agents.values():
        if agent.kind in ("class", "target"):
            assert agent.named is False, agent.id


def test_option_agents_without_names_are_flagged_in_reports(recommender, kb) -> None:
    from regimen.tools.witness import WitnessBuilder

    builder = WitnessBuilder(kb)
    rule = next(r for r in kb.rules if r.stage == "option" and r.then.option is not None
                and any(not kb.agents[a].named for a in r.then.option.agents))
    result = recommender.evaluate(builder.for_rule(rule))
    rec = next(r for r in result.recommendations if r.id == rule.option_id)
    assert rec.named_agent is False
    assert "no specific agent is named" in (rec.note or "")


def _copy_kb(tmp_path: Path) -> Path:
    import shutil

    root = tmp_path / "kb"
    shutil.copytree(knowledge_dir(), root)
    return root


def test_broken_rule_file_names_file_rule_and_field(tmp_path: Path) -> None:
    root = _copy_kb(tmp_path)
    path = root / "rules" / "zz-broken.yaml"
    path.write_text(yaml.safe_dump({"rules": [{
        "id": "zz.broken", "stage": "option", "when": [{"tme": "hypoxic"}],
        "then": {"option": {"label": "x", "agents": ["tariquidar"], "strategy": "s",
                            "evidence": "phase-9", "studied_in": ["STAD"]}},
        "cite": {"source": "gi-resistance-2025", "refs": [1], "where": "1"}}]}))
    with pytest.raises(KnowledgeError) as info:
        load_knowledge(root)
    message = str(info.value)
    assert message.startswith(f"{path}:")
    assert "rules[0].then.option.evidence" in message
    assert "rule 'zz.broken'" in message


def test_duplicate_rule_id_is_an_error(tmp_path: Path, kb) -> None:
    root = _copy_kb(tmp_path)
    rule = kb.rules[0]
    (root / "rules" / "zz-dup.yaml").write_text(yaml.safe_dump(
        {"rules": [rule.model_dump(mode="json", by_alias=True, exclude_none=True)]}))
    with pytest.raises(KnowledgeError, match=f"duplicate rule id '{rule.id}'"):
        load_knowledge(root)


def test_condition_with_two_kinds_is_rejected(tmp_path: Path) -> None:
    root = _copy_kb(tmp_path)
    (root / "rules" / "zz.yaml").write_text(yaml.safe_dump({"rules": [{
        "id": "zz.two", "stage": "mechanism",
        "when": [{"tme": "hypoxic", "expression": {"gene": "ABCB1"}}],
        "then": {"mechanism": "drug-efflux", "confidence": "low"},
        "cite": {"source": "gi-resistance-2025", "refs": [1], "where": "1"}}]}))
    with pytest.raises(KnowledgeError, match="exactly one kind"):
        load_knowledge(root)


def test_missing_directory() -> None:
    with pytest.raises(KnowledgeError, match="knowledge directory not found"):
        load_knowledge(Path("/nonexistent/knowledge"))


def test_lint_finds_unknown_references_and_vocabulary(mini_kb) -> None:
    root = mini_kb([{
        "id": "t.bad", "stage": "option", "when": [{"mechanism": "no-such-mechanism"}],
        "then": {"option": {"label": "x", "agents": ["madeupmab"], "strategy": "s",
                            "evidence": "phase-2", "studied_in": ["XYZ"]}},
        "cite": {"source": "ferroptosis-2025", "refs": [188], "where": "Table 2 row 99"}}])
    messages = [p.message for p in lint(load_knowledge(root), fire=False)]
    assert any("reference 188" in m for m in messages)
    assert any("'Table 2 row 99'" in m for m in messages)
    assert any("unknown mechanism: no-such-mechanism" in m for m in messages)
    assert any("unknown agent: madeupmab" in m for m in messages)
    assert any("unknown tumour codes: XYZ" in m for m in messages)


def test_lint_finds_unknown_agent_in_rule_blunts(mini_kb) -> None:
    root = mini_kb([{
        "id": "t.mech", "stage": "mechanism",
        "when": [{"expression": {"gene": "ABCB1", "level": "high"}}],
        "then": {"mechanism": "pgp-efflux", "confidence": "moderate",
                 "blunts": ["paclitaxel", "madeupmab"]},
        "cite": {"source": "gi-resistance-2025", "refs": [30], "where": "3.1.3"}}])
    problems = [p for p in lint(load_knowledge(root), fire=False) if p.rule == "t.mech"]
    assert [(p.level, p.message) for p in problems] == [
        ("error", "mechanism rule blunts unknown agents: madeupmab")]


def test_lint_finds_option_that_can_never_fire(mini_kb) -> None:
    root = mini_kb([{
        "id": "t.never", "stage": "option",
        "when": [{"tumour": ["HCC"]}, {"not": {"tumour": ["HCC"]}}],
        "then": {"option": {"label": "x", "agents": ["venetoclax"], "strategy": "s",
                            "evidence": "phase-2", "studied_in": ["HCC"]}},
        "cite": {"source": "gi-resistance-2025", "refs": [38], "where": "4.1"}}])
    messages = [p.message for p in lint(load_knowledge(root))]
    assert any("never fires" in m for m in messages)


def test_lint_finds_recommend_and_avoid_same_conditions(mini_kb) -> None:
    cite = {"source": "gi-resistance-2025", "refs": [24], "where": "3.1.2"}
    root = mini_kb([
        {"id": "t.give", "stage": "option", "when": [{"tme": "hypoxic"}],
         "then": {"option": {"label": "x", "agents": ["cetuximab"], "strategy": "s",
                             "evidence": "phase-2", "studied_in": ["COADREAD"]}},
         "cite": cite},
        {"id": "t.avoid", "stage": "avoid", "when": [{"tme": "hypoxic"}],
         "then": {"avoid": {"agents": ["cetuximab"], "reason": "r"}}, "cite": cite}])
    messages = [p.message for p in lint(load_knowledge(root))]
    assert any("recommends an agent that another rule avoids" in m for m in messages)
