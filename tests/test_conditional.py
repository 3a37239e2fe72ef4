"""Conditional options: what a test would unlock (regimen.evaluate.conditional)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import EXAMPLES, base_profile

from regimen import Recommender
from regimen.evaluate.conditional import MAX_TESTS, ProfileView
from regimen.evaluate.facts import profile_facts
from regimen.evaluate.findings import collect
from regimen.evaluate.rank import TIERS
from regimen.knowledge import KnowledgeBase
from regimen.knowledge.conditions import Condition
from regimen.render import render

HCC = EXAMPLES / "hcc-after-lenvatinib.yaml"
PAAD = EXAMPLES / "pancreatic-after-gemcitabine-nab-paclitaxel.yaml"
KRAS_TEST = "KRAS mutation testing (tissue NGS or ctDNA)"


def view_of(kb: KnowledgeBase, recommender: Recommender, path: Path) -> ProfileView:
    profile = recommender.load(path)
    facts = list(profile_facts(profile, kb, []))
    findings = collect(kb, recommender.engine.run(facts))
    return ProfileView(kb, facts, findings)


def assess(view: ProfileView, cond: dict[str, object]) -> tuple[str, tuple[str, ...]]:
    result = Condition.model_validate(cond).spec.assess(view)
    return result.state, result.tests


def test_condition_kinds_assess_against_the_profile(kb: KnowledgeBase,
                                                    recommender: Recommender) -> None:
    view = view_of(kb, recommender, HCC)
    assert assess(view, {"alteration": {"gene": "KRAS", "change": "G12C"}}) == (
        "unknown", (KRAS_TEST,))
    assert assess(view, {"biomarker": {"name": "msi", "eq": "MSI-H"}}) == (
        "unknown", ("MSI / mismatch-repair testing",))
    assert assess(view, {"expression": {"gene": "ABCB1"}}) == (
        "unknown", ("ABCB1 expression in the tumour (IHC or RNA)",))
    # history is never unknown
    assert assess(view, {"tumour": "HCC"}) == ("satisfied", ())
    assert assess(view, {"tumour": "PAAD"}) == ("contradicted", ())
    assert assess(view, {"therapy": {"agent": "lenvatinib"}}) == ("satisfied", ())
    assert assess(view, {"therapy": {"agent": "sorafenib"}}) == ("contradicted", ())
    assert assess(view, {"condition": "autoimmune-disease"}) == ("contradicted", ())
    assert assess(view, {"ctdna": {"event": "rise-from-nadir"}}) == ("contradicted", ())
    # not/any carry the tests of what they wrap
    assert assess(view, {"not": {"alteration": {"gene": "KRAS"}}}) == ("unknown", (KRAS_TEST,))
    assert assess(view, {"any": [{"tumour": "HCC"}, {"alteration": {"gene": "KRAS"}}]}) == (
        "satisfied", ())
    # a derived mechanism: unknown with the tests of a deriving rule
    state, tests = assess(view, {"mechanism": "egfr-bypass"})
    assert state == "unknown" and tests


def test_a_tested_gene_contradicts(kb: KnowledgeBase, recommender: Recommender,
                                   write_yaml: Callable[..., Path]) -> None:
    path = write_yaml(base_profile(alterations=[{"gene": "KRAS", "type": "wild-type"}],
                                   biomarkers={"msi": "MSS", "expression": {"ABCB1": "low"}}))
    view = view_of(kb, recommender, path)
    assert assess(view, {"alteration": {"gene": "KRAS", "change": "G12C"}})[0] == "contradicted"
    assert assess(view, {"alteration": {"gene": "KRAS", "type": "wild-type"}})[0] == "satisfied"
    assert assess(view, {"biomarker": {"name": "msi", "eq": "MSI-H"}})[0] == "contradicted"
    assert assess(view, {"expression": {"gene": "ABCB1"}})[0] == "contradicted"
    assert assess(view, {"not": {"alteration": {"gene": "KRAS"}}})[0] == "satisfied"


def test_a_gene_level_finding_leaves_a_variant_rule_unknown(
        kb: KnowledgeBase, recommender: Recommender, write_yaml: Callable[..., Path]) -> None:
    # "KRAS mutation" (no change given) neither meets nor contradicts a KRAS G12C rule: the
    # option is conditional on knowing the variant, never recommended as if it were G12C
    path = write_yaml(base_profile(alterations=[{"gene": "KRAS", "type": "mutation"}],
                                   therapies=[{"agents": ["FOLFOX"], "start": "2025-01-01",
                                               "end": "2025-06-01", "response": "PD"}]))
    view = view_of(kb, recommender, path)
    state, tests = assess(view, {"alteration": {"gene": "KRAS", "change": "G12C"}})
    assert state == "unknown"
    assert tests == ("KRAS variant: the exact change (the rule needs G12C)",)
    assert assess(view, {"alteration": {"gene": "KRAS", "type": "mutation"}})[0] == "satisfied"
    assert assess(view, {"alteration": {"gene": "KRAS", "type": "amplification"}})[0] \
        == "contradicted"
    result = recommender.evaluate(path)
    assert "sotorasib-panitumumab-kras-g12c-crc" not in {r.id for r in result.recommendations}
    item = next(i for i in result.conditional_options
                if i.option.id == "sotorasib-panitumumab-kras-g12c-crc")
    assert item.tests == ["KRAS variant: the exact change (the rule needs G12C)"]
    test = next(t for t in result.suggested_tests if t.test.startswith("KRAS variant"))
    assert "sotorasib-panitumumab-kras-g12c-crc" in test.unlocks
    # with the variant given, G12D contradicts it
    g12d = write_yaml(base_profile(alterations=[{"gene": "KRAS", "change": "G12D"}]))
    assert assess(view_of(kb, recommender, g12d),
                  {"alteration": {"gene": "KRAS", "change": "G12C"}})[0] == "contradicted"


def test_history_only_profiles_get_conditional_options_with_tests(
        recommender: Recommender) -> None:
    for path in (HCC, PAAD):
        result = recommender.evaluate(path, conditional=100)
        assert result.conditional_options, path
        recommended = {r.id for r in result.recommendations}
        tests = {t.test: t for t in result.suggested_tests}
        for item in result.conditional_options:
            assert item.option.id not in recommended
            assert 1 <= len(item.tests) <= MAX_TESTS
            assert item.missing and item.citations
            assert all(m.tests and m.condition for m in item.missing)
            for test in item.tests:
                assert item.option.id in tests[test].unlocks
        by_id = {i.option.id: i for i in result.conditional_options}
        assert by_id["sotorasib"].tests == [KRAS_TEST]
        assert by_id["sotorasib"].missing[0].condition == {
            "alteration": {"gene": ["KRAS"], "change": ["G12C"], "origin": "any"}}


def test_paad_conditional_options_include_a_gemcitabine_reversal(
        recommender: Recommender) -> None:
    result = recommender.evaluate(PAAD, conditional=50)
    ids = {i.option.id for i in result.conditional_options}
    # an option re-using gemcitabine with a reversal agent, studied in pancreatic cancer
    assert "arf6-knockdown-rsl3-gemcitabine" in ids
    # the options are ranked by tier, then by evidence and tumour match points
    keys = [(TIERS.index(i.option.tier),
             -(i.option.score_breakdown["evidence"] + i.option.score_breakdown["tumour_match"]))
            for i in result.conditional_options]
    assert keys == sorted(keys)


def test_conditional_options_list_standard_options_first(recommender: Recommender) -> None:
    for path in (HCC, PAAD, EXAMPLES / "crc-kras-g12c.yaml"):
        tiers = [i.option.tier for i in recommender.evaluate(path, conditional=50)
                 .conditional_options]
        assert tiers == sorted(tiers, key=TIERS.index), path
    kras = recommender.evaluate(EXAMPLES / "crc-kras-g12c.yaml").conditional_options
    assert kras[0].option.tier == "standard"


def test_a_standard_option_already_received_is_not_conditional(
        recommender: Recommender, write_yaml: Callable[..., Path]) -> None:
    before = write_yaml(base_profile(), "before.yaml")
    ids = {i.option.id for i in recommender.evaluate(before, conditional=100)
           .conditional_options}
    assert "larotrectinib-ntrk" in ids
    after = write_yaml(base_profile(therapies=[{
        "agents": ["larotrectinib"], "start": "2024-11-01", "end": "2025-05-10",
        "response": "SD"}]), "after.yaml")
    result = recommender.evaluate(after, conditional=100)
    assert "larotrectinib-ntrk" not in {i.option.id for i in result.conditional_options}


def test_new_biomarkers_name_their_test_and_compare_like_the_engine(
        kb: KnowledgeBase, recommender: Recommender,
        write_yaml: Callable[..., Path]) -> None:
    view = view_of(kb, recommender, HCC)
    assert assess(view, {"biomarker": {"name": "afp", "ge": 400}}) == ("unknown", ("serum AFP",))
    her2 = ("unknown", ("HER2 IHC (and ISH if 2+)",))
    assert assess(view, {"biomarker": {"name": "her2_ihc", "eq": "3+"}}) == her2
    assert assess(view, {"biomarker": {"name": "her2_status", "eq": "positive"}}) == her2
    assert assess(view, {"biomarker": {"name": "cldn18_2", "eq": "positive"}}) == (
        "unknown", ("claudin 18.2 IHC",))
    path = write_yaml(base_profile(tumour={"type": "STAD"}, biomarkers={
        "her2_ihc": "2+", "cldn18_2": "negative", "afp": 500}))
    view = view_of(kb, recommender, path)
    assert assess(view, {"biomarker": {"name": "her2_ihc", "in": ["2+", "3+"]}})[0] == "satisfied"
    assert assess(view, {"biomarker": {"name": "her2_ihc", "eq": "3+"}})[0] == "contradicted"
    assert assess(view, {"biomarker": {"name": "cldn18_2", "eq": "positive"}})[0] == \
        "contradicted"
    assert assess(view, {"biomarker": {"name": "afp", "ge": 400}})[0] == "satisfied"
    assert assess(view, {"biomarker": {"name": "afp", "lt": 400}})[0] == "contradicted"


def test_a_contradicting_profile_lists_no_kras_conditional_options(
        recommender: Recommender, write_yaml: Callable[..., Path]) -> None:
    path = write_yaml(base_profile(tumour={"type": "PAAD"},
                                   alterations=[{"gene": "KRAS", "type": "wild-type"}],
                                   therapies=[{"agents": ["gemcitabine", "nab-paclitaxel"],
                                               "start": "2024-11-01", "end": "2025-05-10",
                                               "response": "PD"}]))
    result = recommender.evaluate(path, conditional=100)
    assert result.conditional_options
    for item in result.conditional_options:
        assert all("KRAS" not in t for t in item.tests), item.option.id
    assert "sotorasib" not in {i.option.id for i in result.conditional_options}


def test_the_cap_and_how_many_more(recommender: Recommender) -> None:
    full = recommender.evaluate(HCC, conditional=1000)
    total = len(full.conditional_options)
    assert full.conditional_options_more == 0 and total > 3
    capped = recommender.evaluate(HCC)
    assert len(capped.conditional_options) == min(10, total)
    assert capped.conditional_options_more == total - len(capped.conditional_options)
    three = recommender.evaluate(HCC, conditional=3)
    assert [i.option.id for i in three.conditional_options] == \
        [i.option.id for i in full.conditional_options[:3]]
    assert three.conditional_options_more == total - 3
    hidden = recommender.evaluate(HCC, conditional=0)
    assert hidden.conditional_options == [] and hidden.conditional_options_more == total
    assert all(not t.unlocks for t in hidden.suggested_tests)


def test_conditional_options_are_rendered_in_every_format(recommender: Recommender) -> None:
    result = recommender.evaluate(HCC, conditional=3)
    first = result.conditional_options[0]
    for fmt in ("txt", "md", "html"):
        text = render(result, fmt)
        assert "What a test would unlock".lower() in text.lower(), fmt
        assert first.option.label in text, fmt
        assert first.tests[0] in text, fmt
        assert f"{result.conditional_options_more} more conditional option(s)" in text, fmt
    assert '"conditional_options"' in render(result, "json")


def test_option_shape_matches_a_recommendation_without_rank() -> None:
    from regimen.result import OptionOut, Recommendation

    assert list(OptionOut.model_fields) == [f for f in Recommendation.model_fields
                                            if f != "rank"]
