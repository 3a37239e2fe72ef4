"""The standard-of-care layer: every rule surfaces for its own patient and stays away from
the patient built to miss it; tiers, ESCAT, the ranking between layers, the summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from regimen import Recommender
from regimen.errors import KnowledgeError
from regimen.evaluate.rank import escat_of, tier_of
from regimen.knowledge.language import OptionSpec
from regimen.render import render

DATA = Path(__file__).resolve().parent / "data" / "standard"
CASES = sorted(DATA.glob("*.yaml"))

def _case_id(path: Path) -> str:
    return path.name.removesuffix(".yaml")


def _cases() -> list[Any]:
    out = []
    for path in CASES:
        rule_id, kind = path.name.removesuffix(".yaml").rsplit(".", 1)
        out.append(pytest.param(path, rule_id, kind, id=_case_id(path)))
    return out


def test_every_standard_rule_has_both_profiles(kb) -> None:
    standard = {r.id for r in kb.rules if kb.rule_files[r.id].startswith("standard/")}
    assert len([r for r in standard if kb.rules_by_id[r].stage == "option"]) == 49
    assert len([r for r in standard if kb.rules_by_id[r].stage == "preference"]) == 1
    for rule_id in standard:
        assert (DATA / f"{rule_id}.surfaces.yaml").is_file(), rule_id
        assert (DATA / f"{rule_id}.absent.yaml").is_file(), rule_id


@pytest.mark.parametrize(("path", "rule_id", "kind"), _cases())
def test_standard_rule_profiles(recommender, kb, path: Path, rule_id: str, kind: str) -> None:
    rule = kb.rules_by_id[rule_id]
    result = recommender.evaluate(yaml.safe_load(path.read_text(encoding="utf-8")))
    if rule.stage == "preference":
        _check_preference(rule, result, kind == "surfaces")
        return
    spec = rule.then.option
    assert spec is not None and spec.tier is not None
    found = {r.id: r for r in result.recommendations}
    if kind == "surfaces":
        assert rule.option_id in found, [d.reason for d in result.dropped
                                         if d.id == rule.option_id]
        rec = found[rule.option_id]
        assert rec.tier == spec.tier
        assert rec.approvals == [a.model_dump() for a in spec.approvals]
        assert not rec.extrapolated
    else:
        assert rule.option_id not in found


def _check_preference(rule: Any, result: Any, surfaces: bool) -> None:
    standard = [r for r in result.recommendations if r.tier == "standard"]
    applied = [p.id for p in result.preferences]
    if not surfaces:
        assert rule.preference_id not in applied
        assert not any(r.preferred for r in result.recommendations)
        return
    assert applied == [rule.preference_id]
    preferred = [r for r in standard if r.preferred]
    # the preferred standard options come first, in score order among themselves
    assert preferred and standard[:len(preferred)] == preferred
    assert all(r.preferred == [rule.preference_id] for r in preferred)
    assert [r.score for r in preferred] == sorted((r.score for r in preferred), reverse=True)


def _spec(**extra: Any) -> OptionSpec:
    base: dict[str, Any] = {"label": "x", "agents": ["sotorasib"], "strategy": "s",
                            "evidence": "phase-2", "studied_in": ["COADREAD"]}
    return OptionSpec.model_validate({**base, **extra})


@pytest.mark.parametrize(("extra", "tier"), [
    ({}, "trial"),
    ({"evidence": "approved"}, "trial"),
    ({"evidence": "clinical"}, "trial"),
    ({"evidence": "preclinical-in-vivo"}, "investigational"),
    ({"evidence": "mechanistic"}, "investigational"),
    ({"evidence": "approved", "tier": "standard"}, "standard"),
    ({"evidence": "clinical", "tier": "trial"}, "trial"),
])
def test_tier_from_standard_layer_or_evidence(extra: dict[str, Any], tier: str) -> None:
    assert tier_of(_spec(**extra)) == tier


def test_escat_only_where_it_maps_cleanly(kb) -> None:
    g12c = kb.rules_by_id["soc-crc.kras-g12c-sotorasib-panitumumab"]
    ntrk = kb.rules_by_id["soc-agnostic.ntrk-larotrectinib"]
    regorafenib = kb.rules_by_id["soc-crc.refractory-regorafenib"]
    assert escat_of(g12c, "standard", "exact") == "I"
    assert escat_of(ntrk, "standard", "tumour-agnostic") == "I-C"
    assert escat_of(regorafenib, "standard", "exact") is None  # no molecular selection
    assert escat_of(g12c, "standard", "other-gi") is None  # extrapolated: not graded
    review = next(r for r in kb.rules if r.stage == "option"
                  and not kb.rule_files[r.id].startswith("standard/"))
    assert escat_of(review, "trial", "exact") is None


def test_msi_high_example_ranks_pd1_blockade_first(recommender) -> None:
    # BRAF V600E + MSI-H after FOLFOX + bevacizumab, with autoimmune disease: encorafenib +
    # cetuximab (the anti-EGFR avoid is lifted by encorafenib) and PD-1 blockade are both
    # standard, ESCAT I. The BRAF combination scores higher (the checkpoint options carry
    # three cautions), but the cited preference ranks checkpoint blockade first; the cautions
    # stay on the option.
    result = recommender.evaluate(Path("examples/crc-msi-high.yaml"))
    first = result.recommendations[0]
    braf = next(r for r in result.recommendations
                if set(r.agents) == {"encorafenib", "cetuximab"})
    assert first.tier == braf.tier == "standard" and first.escat == braf.escat == "I"
    assert {"nivolumab", "pembrolizumab"} & set(first.agents)
    assert first.preferred and not braf.preferred
    assert braf.score > first.score  # the order is the preference's, not the score's
    assert any(c.startswith("ici-autoimmune-disease:") for c in first.cautions)
    ranks = [r.rank for r in result.recommendations if r.preferred]
    assert ranks == list(range(1, len(ranks) + 1)) and braf.rank == len(ranks) + 1
    assert result.summary.standard[0].id == first.id


def test_msi_high_preference_is_colorectal_only(recommender) -> None:
    # The preference's evidence is colorectal: an MSI-H gastric cancer gets none, and the
    # MSS BRAF V600E colorectal cancer ranks the BRAF combination first.
    gastric = recommender.evaluate({"tumour": {"type": "STAD"}, "biomarkers": {"msi": "MSI-H"},
                                    "therapies": [{"agents": ["FOLFOX"], "start": "2025-01-01",
                                                   "end": "2025-05-01", "response": "PD"}]})
    assert gastric.preferences == []
    mss = recommender.evaluate({"tumour": {"type": "COADREAD"}, "biomarkers": {"msi": "MSS"},
                                "alterations": [{"gene": "BRAF", "change": "V600E"}],
                                "therapies": [{"agents": ["FOLFOX"], "start": "2025-01-01",
                                               "end": "2025-05-01", "response": "PD"}]})
    assert mss.preferences == []
    assert set(mss.recommendations[0].agents) == {"encorafenib", "cetuximab"}


def test_preference_orders_standard_options_only(recommender) -> None:
    result = recommender.evaluate(Path("examples/crc-msi-high.yaml"))
    review_ici = [r for r in result.recommendations if r.tier != "standard"
                  and {"anti-pd-1-pd-l1", "pembrolizumab", "nivolumab"} & set(r.agents)]
    assert review_ici and not any(r.preferred for r in review_ici)


@pytest.mark.parametrize("fmt", ["txt", "md", "html"])
def test_preference_is_shown_with_its_sources(recommender, fmt: str) -> None:
    result = recommender.evaluate(Path("examples/crc-msi-high.yaml"))
    text = render(result, fmt)
    heading = {"txt": "ORDER OF STANDARD OPTIONS", "md": "## Order of standard options",
               "html": '<section id="preferences">'}[fmt]
    tail = text[text.index(heading):]
    assert "braf-msi-ici-meta-analysis-2021" in tail or "Future Oncol 2021" in tail
    assert "rank first among the standard options" in tail
    pattern = {"txt": "ranked first among standard options (msi-h-crc-checkpoint-blockade-first;",
               "md": "Ranked first among standard options (msi-h-crc-checkpoint-blockade-first;",
               "html": '(<a href="#preferences">msi-h-crc-checkpoint-blockade-first</a>)'}[fmt]
    assert text.count(pattern) == len([r for r in result.recommendations if r.preferred])


def test_preference_rule_needs_its_own_then(mini_kb) -> None:
    bad = {"id": "t.pref", "stage": "preference", "when": [{"tumour": ["GI"]}],
           "then": {"caution": {"text": "x", "applies_to": ["paclitaxel"]}}, "cite": CITE}
    with pytest.raises(KnowledgeError, match="preference"):
        Recommender(mini_kb([bad]))


def test_agnostic_option_matches_gi_tumour_as_approved(recommender) -> None:
    result = recommender.evaluate({"tumour": {"type": "STAD"}, "alterations": [
        {"gene": "NTRK1", "type": "fusion"}]})
    rec = next(r for r in result.recommendations if r.id.startswith("larotrectinib"))
    assert rec.tumour_match == "tumour-agnostic" and not rec.extrapolated
    assert rec.escat == "I-C" and rec.rank <= 3





CITE = {"source": "gi-resistance-2025", "refs": [30], "where": "3.1.3"}


def _option(rule_id: str, agents: list[str], evidence: str, *, when: list | None = None,
            studied_in: list[str] | None = None) -> dict[str, Any]:
    return {"id": rule_id, "stage": "option", "when": when or [{"tumour": ["GI"]}],
            "then": {"confidence": "moderate",
                     "option": {"id": rule_id.split(".")[1], "label": rule_id, "agents": agents,
                                "strategy": "s", "evidence": evidence,
                                "studied_in": studied_in or ["COADREAD"]}},
            "cite": CITE}


def test_negative_score_is_dropped_with_its_parts(mini_kb) -> None:
    # mechanistic (6) + other GI tumour (6) + moderate (6) + organoid resistant (-12)
    # + its caution (-4) + two cautions below (-8) = -6
    caution = {"id": "t.warn", "stage": "caution", "when": [{"tumour": ["GI"]}],
               "then": {"caution": {"text": "warn", "applies_to": ["paclitaxel"]}},
               "cite": CITE}
    caution2 = {**caution, "id": "t.warn2"}
    root = mini_kb([_option("t.neg", ["paclitaxel"], "mechanistic", studied_in=["PAAD"]),
                    _option("t.pos", ["venetoclax"], "phase-2"), caution, caution2])
    result = Recommender(root).evaluate({"tumour": {"type": "COAD"}, "drug_sensitivity": [
        {"agent": "paclitaxel", "result": "resistant"}]})
    assert [r.id for r in result.recommendations] == ["pos"]
    dropped = {d.id: d for d in result.dropped}
    assert dropped["neg"].reason.startswith("score below zero: -6 (")
    assert "organoid -12" in dropped["neg"].reason and "cautions -12" in dropped["neg"].reason


def test_progressed_standard_option_is_dropped_and_said_so(recommender) -> None:
    # KEYNOTE-158 style: previously treated MSI-H tumour; the tumour progressed on pembrolizumab
    result = recommender.evaluate({"tumour": {"type": "STAD"}, "biomarkers": {"msi": "MSI-H"},
                                   "therapies": [
                                       {"agents": ["oxaliplatin", "capecitabine"],
                                        "start": "2025-01-01", "end": "2025-05-01",
                                        "response": "PD"},
                                       {"agents": ["pembrolizumab"], "start": "2025-05-02",
                                        "end": "2025-10-01", "response": "PD"}]})
    given = [d for d in result.dropped if d.tier == "standard"
             and "pembrolizumab" in d.agents]
    assert given, [d.reason for d in result.dropped]
    assert given[0].reason == ("standard option already given: the tumour progressed on "
                               "pembrolizumab")
    assert any(g.endswith(given[0].reason) for g in result.summary.standard_dropped)


def test_investigational_never_above_standard(recommender) -> None:
    result = recommender.evaluate(Path("examples/crc-msi-high.yaml"))
    tiers = [r.tier for r in result.recommendations]
    assert tiers == sorted(tiers, key=["standard", "trial", "investigational"].index)
    investigational = [r for r in result.recommendations if r.tier == "investigational"]
    standard = [r for r in result.recommendations if r.tier == "standard"]
    assert standard and investigational
    assert max(s.rank for s in standard) < min(i.rank for i in investigational)


@pytest.mark.parametrize("fmt", ["txt", "md", "html", "json"])
def test_summary_opens_every_format(recommender, fmt: str) -> None:
    result = recommender.evaluate(Path("examples/crc-msi-high.yaml"))
    summary = result.summary
    assert summary.standard and summary.standard[0].id == result.recommendations[0].id
    assert summary.trial is not None and summary.trial.tier == "trial"
    assert summary.investigational is not None
    assert summary.standard_as_of is not None
    text = render(result, fmt)
    if fmt == "json":
        keys = list(json.loads(text))
        assert keys.index("summary") == keys.index("patient") + 1
        return
    marker = {"txt": "SUMMARY", "md": "## Summary", "html": '<section id="summary">'}[fmt]
    options = {"txt": "RANKED OPTIONS", "md": "## Ranked options",
               "html": '<section id="options">'}[fmt]
    mechanisms = {"txt": "ACTIVE RESISTANCE MECHANISMS", "md": "## Active resistance mechanisms",
                  "html": '<section id="mechanisms">'}[fmt]
    patient = {"txt": "PATIENT", "md": "## Patient", "html": '<section id="patient">'}[fmt]
    assert text.index(patient) < text.index(marker) < text.index(options) \
        < text.index(mechanisms)
    head = text[text.index(marker):text.index(options)]
    assert summary.standard[0].label in head
    assert summary.trial.label in head and summary.investigational.label in head
    assert str(summary.standard_as_of) in head
    for test in summary.tests:
        assert test in head or test.replace("'", "&#39;") in head
    assert f"standard of care as of {result.knowledge.standard_as_of}" in text


def test_summary_alerts_are_capped_and_counted(recommender) -> None:
    result = recommender.evaluate(Path("examples/crc-kras-g12c.yaml"))
    total = len(result.ctdna.events) + len(result.cautions)
    alerts = result.summary.alerts
    assert total > 5 and len(alerts) == 5
    assert alerts[0].startswith("ctDNA ")
    assert alerts[-1] == f"{total - 4} more: see Cautions and ctDNA below"


def test_lint_checks_preference_rules(mini_kb) -> None:
    from regimen.knowledge.loader import load_knowledge
    from regimen.tools.lint import lint

    pref = {"id": "t.pref", "stage": "preference", "when": [{"tumour": ["GI"]}],
            "then": {"preference": {"text": "why", "agents": ["no-such-agent"]}},
            "cite": CITE}
    messages = [p.message for p in lint(load_knowledge(mini_kb([pref]), use_cache=False),
                                        fire=False) if p.rule == "t.pref"]
    assert "preference names unknown agents: no-such-agent" in messages
    assert any(m.startswith("a preference orders standard options: it must cite") for m in messages)
