"""Reconciliation: avoid scope (``except_with``, colorectal only), cautions that need every
group in the option, and clinical conditions that reach the options they concern."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from conftest import EXAMPLES, base_profile

from regimen import Recommender
from regimen.evaluate.rank import avoided_in, caution_applies
from regimen.knowledge import KnowledgeBase
from regimen.knowledge.conditions import walk_conditions
from regimen.result import CautionOut

ROOT = Path(__file__).resolve().parent.parent
AVOID = "egfr.avoid-anti-egfr-downstream"


def standard_agents(option_id: str) -> list[str]:
    """The agents of a standard-of-care option, read from knowledge/standard/colorectal.yaml."""
    doc = yaml.safe_load((ROOT / "knowledge" / "standard" / "colorectal.yaml").read_text())
    for rule in doc["rules"]:
        if rule["stage"] == "option" and rule["then"]["option"]["id"] == option_id:
            return list(rule["then"]["option"]["agents"])
    raise AssertionError(f"no standard option {option_id}")


def evaluate(recommender: Recommender, write_yaml: Callable[..., Path], **extra: Any) -> Any:
    return recommender.evaluate(write_yaml(base_profile(**extra)))


def test_kras_g12c_standard_combination_is_not_blocked(kb: KnowledgeBase,
                                                       recommender: Recommender) -> None:
    result = recommender.evaluate(EXAMPLES / "crc-kras-g12c.yaml")
    avoid = {a.id: a for a in result.avoid}
    assert avoid[AVOID].except_with == ["kras-g12c-inhibitor", "encorafenib"]
    assert "alone or with chemotherapy" in (avoid[AVOID].scope or "")
    agents = standard_agents("sotorasib-panitumumab-kras-g12c-crc")
    assert agents == ["sotorasib", "panitumumab"]
    assert avoided_in(kb, result.avoid, agents) == []
    assert avoided_in(kb, result.avoid, standard_agents("adagrasib-cetuximab-kras-g12c-crc")) \
        == []
    # panitumumab on its own stays blocked
    assert avoided_in(kb, result.avoid, ["panitumumab"]) == ["panitumumab"]


def test_kras_g12d_crc_panitumumab_folfox_is_blocked(kb: KnowledgeBase, recommender: Recommender,
                                                     write_yaml: Callable[..., Path]) -> None:
    result = evaluate(recommender, write_yaml,
                      alterations=[{"gene": "KRAS", "change": "G12D"}])
    assert AVOID in {a.id for a in result.avoid}
    agents = standard_agents("panitumumab-folfox-ras-wt-crc")
    assert "panitumumab" in agents
    assert avoided_in(kb, result.avoid, agents) == ["panitumumab"]


def test_braf_v600e_crc_encorafenib_cetuximab_is_not_blocked(
        kb: KnowledgeBase, recommender: Recommender, write_yaml: Callable[..., Path]) -> None:
    result = evaluate(recommender, write_yaml,
                      alterations=[{"gene": "BRAF", "change": "V600E"}])
    assert AVOID in {a.id for a in result.avoid}
    assert avoided_in(kb, result.avoid, standard_agents("encorafenib-cetuximab-braf-crc")) == []
    assert avoided_in(kb, result.avoid, ["cetuximab", "irinotecan"]) == ["cetuximab"]


def test_lifted_avoid_lifts_the_blunting_caution_too(recommender: Recommender,
                                                     write_yaml: Callable[..., Path]) -> None:
    # egfr-bypass (the same KRAS/BRAF trigger as the avoid) blunts anti-EGFR antibodies; the
    # approved combinations that the avoid's except_with lifts are built against it, so they
    # do not carry "egfr-bypass blunts panitumumab/cetuximab".
    g12c = recommender.evaluate(EXAMPLES / "crc-kras-g12c.yaml")
    assert "egfr-bypass" in {m.id for m in g12c.mechanisms}
    first = g12c.recommendations[0]
    assert first.agents == ["sotorasib", "panitumumab"]
    assert not any("egfr-bypass" in c for c in first.cautions)
    assert first.score_breakdown["cautions"] == 0
    braf = evaluate(recommender, write_yaml, alterations=[{"gene": "BRAF", "change": "V600E"}])
    combos = [r for r in braf.recommendations if {"encorafenib", "cetuximab"} <= set(r.agents)]
    assert combos and not any("egfr-bypass" in c for r in combos for c in r.cautions)


def test_pancreatic_kras_g12d_gets_a_caution_not_an_avoid(
        recommender: Recommender, write_yaml: Callable[..., Path]) -> None:
    result = evaluate(recommender, write_yaml, tumour={"type": "PAAD"},
                      alterations=[{"gene": "KRAS", "change": "G12D"}])
    assert result.avoid == [] or AVOID not in {a.id for a in result.avoid}
    caution = {c.id: c for c in result.cautions}["anti-egfr-downstream-extrapolated"]
    assert caution.text.startswith("Extrapolated from colorectal cancer")
    assert caution.applies_to == ["anti-egfr-antibody"]


def test_avoid_scope_is_said_in_every_format(recommender: Recommender) -> None:
    from regimen.render import render

    result = recommender.evaluate(EXAMPLES / "crc-kras-g12c.yaml")
    for fmt in ("txt", "md", "html"):
        text = render(result, fmt)
        assert "avoid anti-EGFR antibodies alone or with chemotherapy" in text, fmt
        assert "except together with a KRAS G12C inhibitor" in text, fmt


def test_chemo_ici_caution_needs_both_in_the_option(kb: KnowledgeBase,
                                                    recommender: Recommender) -> None:
    result = recommender.evaluate(EXAMPLES / "crc-kras-g12c.yaml")
    caution = {c.id: c for c in result.cautions}["chemo-ici-adverse-events"]
    assert caution.applies_when_all == [["chemotherapy"], ["immune-checkpoint-inhibitor"]]
    recs = {r.id: r for r in result.recommendations}
    assert not any(c.startswith("chemo-ici-adverse-events")
                   for c in recs["tariquidar-nanoparticle-paclitaxel"].cautions)
    # the chemotherapy + checkpoint-inhibitor option holds both: the caution applies, and with
    # its other cautions its score falls below zero, so it is dropped
    chemo_ici = next(r.then.option for r in kb.rules
                     if r.stage == "option" and r.option_id == "chemotherapy-plus-ici")
    assert chemo_ici is not None
    assert caution_applies(kb, caution, list(chemo_ici.agents))
    dropped = {d.id: d for d in result.dropped}
    assert dropped["chemotherapy-plus-ici"].reason.startswith("score below zero")
    assert not caution_applies(kb, caution, ["tariquidar", "nanoparticle-paclitaxel"])
    assert not caution_applies(kb, caution, ["pembrolizumab"])
    assert caution_applies(kb, caution, ["oxaliplatin", "pembrolizumab"])


def test_caution_without_groups_applies_to_any_member(kb: KnowledgeBase) -> None:
    caution = CautionOut(id="x", text="t", applies_to=["chemotherapy"], evidence=[],
                         citations=[])
    assert caution_applies(kb, caution, ["oxaliplatin"])
    assert not caution_applies(kb, caution, ["pembrolizumab"])


def test_autoimmune_disease_reaches_every_checkpoint_inhibitor_option(
        kb: KnowledgeBase, recommender: Recommender, write_yaml: Callable[..., Path]) -> None:
    result = evaluate(recommender, write_yaml, biomarkers={"msi": "MSI-H"},
                      clinical={"conditions": ["autoimmune-disease"]})
    caution = {c.id: c for c in result.cautions}["ici-autoimmune-disease"]
    assert caution.citations[0].source == "ici-resistance-2025"
    assert caution.citations[0].where == "3.1"
    ici = kb.members_of("immune-checkpoint-inhibitor")
    with_ici = [r for r in result.recommendations
                if {a for x in r.agents for a in (x, *kb.classes_of(x))} & ici]
    assert with_ici
    for rec in with_ici:
        assert any(c.startswith("ici-autoimmune-disease:") for c in rec.cautions), rec.id
    without = evaluate(recommender, write_yaml, biomarkers={"msi": "MSI-H"})
    assert "ici-autoimmune-disease" not in {c.id for c in without.cautions}


NOT_READ_BY_ANY_RULE = {"organ-transplant", "interstitial-lung-disease"}
"""Clinical conditions in the vocabulary that no rule reads (the reviews say nothing about
them): reports must list them as not considered."""


def test_every_clinical_condition_reaches_a_rule_or_is_listed(kb: KnowledgeBase) -> None:
    read = {term for rule in kb.rules for cond in walk_conditions(rule.when)
            if cond.kind == "condition" for term in cond.spec.any_of}  # type: ignore[attr-defined]
    vocabulary = set(kb.vocabulary.conditions)
    assert vocabulary - read == NOT_READ_BY_ANY_RULE
    assert "autoimmune-disease" in read
