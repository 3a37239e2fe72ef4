"""Each condition kind, compiled and fired, on a knowledge base holding only test rules."""

from __future__ import annotations

from typing import Any

import pytest

from regimen import Recommender

CITE = {"source": "gi-resistance-2025", "refs": [30], "where": "3.1.3"}


def mech(rule_id: str, when: list[dict[str, Any]], mechanism: str = "drug-efflux") -> dict:
    return {"id": rule_id, "stage": "mechanism", "when": when,
            "then": {"mechanism": mechanism, "confidence": "moderate"}, "cite": CITE}


def fired(rec: Recommender, profile: dict[str, Any]) -> set[str]:
    return {t.rule for t in rec.evaluate(profile).trace}


BASE = {"tumour": {"type": "COAD"}}

CASES = [
    ("tumour", {"tumour": ["COADREAD"]}, BASE, {"tumour": {"type": "STAD"}}),
    ("alteration", {"alteration": {"gene": "KRAS", "change": ["G12C", "G12D"]}},
     {**BASE, "alterations": [{"gene": "KRAS", "change": "p.Gly12Asp"}]},
     {**BASE, "alterations": [{"gene": "KRAS", "change": "G13D"}]}),
    ("alteration-wild-type-excluded", {"alteration": {"gene": "KRAS"}},
     {**BASE, "alterations": [{"gene": "KRAS", "change": "G13D"}]},
     {**BASE, "alterations": [{"gene": "KRAS", "type": "wild-type"}]}),
    ("alteration-any", {"alteration": {"gene": "KRAS", "type": "any"}},
     {**BASE, "alterations": [{"gene": "KRAS", "type": "wild-type"}]}, BASE),
    ("alteration-ctdna", {"alteration": {"gene": "EGFR", "change": "S492R", "origin": "ctdna"}},
     {**BASE, "ctdna": [{"date": "2025-01-01",
                         "variants": [{"gene": "EGFR", "change": "S492R", "vaf": 0.02}]}]},
     {**BASE, "alterations": [{"gene": "EGFR", "change": "S492R"}]}),
    ("expression", {"expression": {"gene": ["ABCB1", "ABCG2"], "level": "high"}},
     {**BASE, "biomarkers": {"expression": {"BCRP": "high"}}},
     {**BASE, "biomarkers": {"expression": {"ABCG2": "low"}}}),
    ("biomarker-ge", {"biomarker": {"name": "tmb", "ge": 10}},
     {**BASE, "biomarkers": {"tmb": 10}}, {**BASE, "biomarkers": {"tmb": 9.9}}),
    ("biomarker-eq", {"biomarker": {"name": "msi", "eq": "MSI-H"}},
     {**BASE, "biomarkers": {"msi": "msi-h"}}, {**BASE, "biomarkers": {"msi": "MSS"}}),
    ("tme", {"tme": ["caf-rich", "dense-stroma"]},
     {**BASE, "biomarkers": {"tme": ["dense-stroma"]}},
     {**BASE, "biomarkers": {"tme": ["hypoxic"]}}),
    ("microbiome", {"microbiome": {"taxon": "fusobacterium-nucleatum", "level": "high"}},
     {**BASE, "biomarkers": {"microbiome": {"F. nucleatum": "high"}}},
     {**BASE, "biomarkers": {"microbiome": {"fusobacterium-nucleatum": "low"}}}),
    ("therapy-class", {"therapy": {"class": "anti-egfr-antibody", "response": "PD"}},
     {**BASE, "therapies": [{"agents": ["panitumumab"], "start": "2025-01-01",
                             "end": "2025-05-01", "response": "PD"}]},
     {**BASE, "therapies": [{"agents": ["panitumumab"], "start": "2025-01-01",
                             "end": "2025-05-01", "response": "PR"}]}),
    ("therapy-ongoing", {"therapy": {"agent": "cetuximab", "ongoing": True}},
     {**BASE, "therapies": [{"agents": ["cetuximab"], "start": "2025-01-01"}]},
     {**BASE, "therapies": [{"agents": ["cetuximab"], "start": "2025-01-01",
                             "end": "2025-02-01"}]}),
    ("ctdna", {"ctdna": {"event": "emergent-variant", "gene": "KRAS",
                         "during_class": "anti-egfr-antibody"}},
     {**BASE, "therapies": [{"agents": ["cetuximab"], "start": "2025-01-01"}],
      "ctdna": [{"date": "2025-01-02", "tumour_fraction": 0.05},
                {"date": "2025-03-01", "variants": [{"gene": "KRAS", "change": "G12D",
                                                     "vaf": 0.01}]}]},
     {**BASE, "therapies": [{"agents": ["oxaliplatin"], "start": "2025-01-01"}],
      "ctdna": [{"date": "2025-01-02", "tumour_fraction": 0.05},
                {"date": "2025-03-01", "variants": [{"gene": "KRAS", "change": "G12D",
                                                     "vaf": 0.01}]}]}),
    ("sensitivity", {"sensitivity": {"class": "taxane", "result": "resistant"}},
     {**BASE, "drug_sensitivity": [{"agent": "paclitaxel", "result": "resistant"}]},
     {**BASE, "drug_sensitivity": [{"agent": "paclitaxel", "result": "sensitive"}]}),
    ("condition", {"condition": ["autoimmune-disease"]},
     {**BASE, "clinical": {"conditions": ["autoimmune-disease"]}}, BASE),
    ("not", {"not": {"alteration": {"gene": "KRAS", "type": "any"}}},
     BASE, {**BASE, "alterations": [{"gene": "KRAS", "change": "G12C"}]}),
    ("any", {"any": [{"tme": "hypoxic"}, {"expression": {"gene": "HIF1A", "level": "high"}}]},
     {**BASE, "biomarkers": {"expression": {"HIF-1a": "high"}}}, BASE),
]


@pytest.mark.parametrize(("name", "condition", "matching", "other"), CASES,
                         ids=[c[0] for c in CASES])
def test_condition_kind(mini_kb, name: str, condition: dict, matching: dict, other: dict) -> None:
    rec = Recommender(mini_kb([mech("t.rule", [condition])]))
    assert "t.rule" in fired(rec, matching)
    assert "t.rule" not in fired(rec, other)


def test_stages_chain_mechanism_option_avoid_caution(mini_kb) -> None:
    rules = [
        mech("t.mech", [{"expression": {"gene": "ABCB1", "level": "high"}}]),
        {"id": "t.option", "stage": "option", "when": [{"mechanism": "drug-efflux"}],
         "then": {"option": {"id": "opt", "label": "Tariquidar", "agents": ["tariquidar"],
                             "strategy": "s", "evidence": "phase-2", "studied_in": ["STAD"]}},
         "cite": CITE},
        {"id": "t.caution", "stage": "caution", "when": [{"option": ["opt"]}],
         "then": {"caution": {"id": "c1", "text": "careful", "applies_to": ["tariquidar"]}},
         "cite": CITE},
        {"id": "t.test", "stage": "test", "when": [{"not": {"biomarker": {
            "name": "msi", "in": ["MSI-H", "MSS", "MSI-L"]}}}],
         "then": {"test": {"test": "MSI testing", "why": "unknown"}}, "cite": CITE},
    ]
    rec = Recommender(mini_kb(rules))
    result = rec.evaluate({**BASE, "biomarkers": {"expression": {"ABCB1": "high"}}})
    assert [m.id for m in result.mechanisms] == ["drug-efflux"]
    assert [r.id for r in result.recommendations] == ["opt"]
    assert result.recommendations[0].addresses == ["drug-efflux"]
    assert result.recommendations[0].cautions == ["c1: careful"]
    assert [c.id for c in result.cautions] == ["c1"]
    assert [t.id for t in result.suggested_tests] == ["t.test"]
    stages = [t.stage for t in result.trace]
    assert stages == sorted(stages, key=["mechanism", "option", "avoid", "caution",
                                         "test"].index)
    option_entry = next(t for t in result.trace if t.rule == "t.option")
    assert option_entry.matched == ["mechanism drug-efflux (moderate)"]
    assert option_entry.derived == "option:opt"


def test_two_rules_deriving_one_mechanism_merge(mini_kb) -> None:
    rules = [mech("t.a", [{"expression": {"gene": "ABCB1", "level": "high"}}]),
             mech("t.b", [{"expression": {"gene": "ABCG2", "level": "high"}}])]
    rec = Recommender(mini_kb(rules))
    result = rec.evaluate({**BASE, "biomarkers": {"expression": {"ABCB1": "high",
                                                                  "ABCG2": "high"}}})
    assert len(result.mechanisms) == 1
    assert result.mechanisms[0].rules == ["t.a", "t.b"]
    assert result.mechanisms[0].evidence == ["expression ABCB1 high", "expression ABCG2 high"]


def test_engine_is_reused_between_evaluations(recommender) -> None:
    engine = recommender.engine._engine
    recommender.evaluate({"tumour": {"type": "HCC"}})
    recommender.evaluate({"tumour": {"type": "PAAD"}})
    assert recommender.engine._engine is engine


def test_dirty_tracking_matcher_gives_the_same_results_as_experta_stock(kb, monkeypatch) -> None:
    from pathlib import Path

    from experta.matchers import ReteMatcher

    from regimen.engine.experta import engine as engine_module

    fast = Recommender(kb)
    monkeypatch.setattr(engine_module._BaseEngine, "__matcher__", ReteMatcher)
    stock = Recommender(kb)
    assert type(stock.engine._engine.matcher) is ReteMatcher
    assert type(fast.engine._engine.matcher) is not ReteMatcher
    examples = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.yaml"))
    for example in examples:
        assert fast.evaluate(example).to_json() == stock.evaluate(example).to_json(), example


def _mech_blunting(rule_id: str, gene: str, blunts: list[str] | None) -> dict[str, Any]:
    rule = mech(rule_id, [{"expression": {"gene": gene, "level": "high"}}], "pgp-efflux")
    if blunts is not None:
        rule["then"]["blunts"] = blunts
    return rule


def test_rule_blunts_replace_the_mechanism_list_and_union_over_fired_rules(mini_kb) -> None:
    # pgp-efflux blunts [paclitaxel, doxorubicin, irinotecan] at the mechanism level
    rules = [_mech_blunting("t.a", "ABCB1", ["doxorubicin"]),
             _mech_blunting("t.b", "ABCG2", None),
             _mech_blunting("t.c", "HIF1A", [])]
    rec = Recommender(mini_kb(rules))

    def blunts(expression: dict[str, str]) -> list[str]:
        result = rec.evaluate({**BASE, "biomarkers": {"expression": expression}})
        return next(m.blunts for m in result.mechanisms if m.id == "pgp-efflux")

    assert blunts({"ABCB1": "high"}) == ["doxorubicin"]
    assert blunts({"HIF1A": "high"}) == []
    assert blunts({"ABCB1": "high", "HIF1A": "high"}) == ["doxorubicin"]
    assert blunts({"ABCB1": "high", "ABCG2": "high"}) == ["doxorubicin", "irinotecan",
                                                           "paclitaxel"]


def test_blunted_agent_caution_uses_the_rules_that_fired(mini_kb) -> None:
    rules = [_mech_blunting("t.a", "ABCB1", ["doxorubicin"]),
             _mech_blunting("t.b", "ABCG2", None),
             {"id": "t.option", "stage": "option", "when": [{"tumour": ["COADREAD"]}],
              "then": {"option": {"id": "opt", "label": "Irinotecan", "agents": ["irinotecan"],
                                  "strategy": "s", "evidence": "phase-2",
                                  "studied_in": ["COADREAD"]}},
              "cite": CITE}]
    rec = Recommender(mini_kb(rules))

    def cautions(expression: dict[str, str]) -> list[str]:
        result = rec.evaluate({**BASE, "biomarkers": {"expression": expression}})
        return next(r.cautions for r in result.recommendations if r.id == "opt")

    assert cautions({"ABCB1": "high"}) == []
    assert cautions({"ABCG2": "high"}) == ["active mechanism pgp-efflux blunts irinotecan"]


def test_blunts_only_on_mechanism_rules(mini_kb) -> None:
    from regimen.errors import RegimenError

    bad = {"id": "t.option", "stage": "option", "when": [{"tumour": ["COADREAD"]}],
           "then": {"option": {"label": "x", "agents": ["irinotecan"], "strategy": "s",
                               "evidence": "phase-2", "studied_in": ["COADREAD"]},
                    "blunts": ["irinotecan"]},
           "cite": CITE}
    with pytest.raises(RegimenError, match=r"only a mechanism rule may give 'then\.blunts'"):
        Recommender(mini_kb([bad]))
