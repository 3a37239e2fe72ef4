"""Issue 9: profiles as tumour boards write them (reference data, regimens, notation,
nothing silently ignored)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from regimen.errors import ProfileError, VocabularyError
from regimen.knowledge import reference
from regimen.knowledge.conditions import TherapyCond
from regimen.knowledge.vocabulary import _gene_key, _key
from regimen.profile import load_profile
from regimen.tools.witness import WitnessBuilder

# ---- agents ------------------------------------------------------------------------

HISTORICAL: list[tuple[str, str, set[str]]] = [
    ("atezolizumab", "atezolizumab", {"anti-pd-l1", "anti-pd-1-pd-l1",
                                      "immune-checkpoint-inhibitor"}),
    ("durvalumab", "durvalumab", {"anti-pd-l1", "immune-checkpoint-inhibitor"}),
    ("tremelimumab", "tremelimumab", {"anti-ctla-4", "immune-checkpoint-inhibitor"}),
    ("tislelizumab", "tislelizumab", {"anti-pd-1", "anti-pd-1-pd-l1"}),
    ("camrelizumab", "camrelizumab", {"anti-pd-1", "anti-pd-1-pd-l1"}),
    ("sintilimab", "sintilimab", {"anti-pd-1", "anti-pd-1-pd-l1"}),
    ("dostarlimab", "dostarlimab", {"anti-pd-1", "anti-pd-1-pd-l1"}),
    ("regorafenib", "regorafenib", {"vegf-inhibitor"}),
    ("cabozantinib", "cabozantinib", {"vegf-inhibitor"}),
    ("fruquintinib", "fruquintinib", {"vegf-inhibitor"}),
    ("trastuzumab", "trastuzumab", {"anti-her2"}),
    ("trastuzumab-deruxtecan", "trastuzumab-deruxtecan", {"anti-her2", "her2-adc"}),
    ("zolbetuximab", "zolbetuximab", {"anti-cldn18-2-antibody"}),
    ("olaparib", "olaparib", {"parp-inhibitor"}),
    ("S-1", "tegafur-gimeracil-oteracil", {"fluoropyrimidine"}),
    ("nal-irinotecan", "nal-irinotecan", {"chemotherapy"}),
    ("donafenib", "donafenib", {"vegf-inhibitor"}),
    ("Keytruda", "pembrolizumab", {"anti-pd-1", "immune-checkpoint-inhibitor"}),
    ("Tecentriq", "atezolizumab", {"anti-pd-l1"}),
    ("Lenvima", "lenvatinib", set()),
    ("Abraxane", "nab-paclitaxel", {"taxane"}),
    ("AMG 510", "sotorasib", set()),
    ("MRTX849", "adagrasib", set()),
    ("TAS-120", "futibatinib", {"fgfr-inhibitor"}),
    ("DS-8201a", "trastuzumab-deruxtecan", {"her2-adc"}),
]


@pytest.mark.parametrize(("raw", "agent", "classes"), HISTORICAL, ids=lambda v: str(v))
def test_historical_spellings_are_recognised_with_their_classes(
        kb, raw: str, agent: str, classes: set[str]) -> None:
    assert kb.vocabulary.agent(raw) == agent
    assert classes <= set(kb.classes_of(agent))


def test_a_real_drug_is_never_called_a_typo(kb) -> None:
    assert kb.vocabulary.agent("donafenib") == "donafenib"
    assert reference.suggest_agent("donafenib") == ()


def test_non_antineoplastic_knowledge_agents_stay_known(kb) -> None:
    for name in ("hydroxychloroquine", "sulfasalazine", "metformin"):
        assert kb.vocabulary.agent(name) == name


def test_an_agent_known_only_through_ncit_has_no_classes(kb) -> None:
    agent = kb.vocabulary.agent("Ipilimumab")
    assert agent == "ipilimumab"
    if agent not in kb.agents:  # the catalogue may add it later
        assert kb.classes_of(agent) == ()


# ---- regimens ----------------------------------------------------------------------

@pytest.mark.parametrize(("written", "display"), [
    ("FOLFOX", "FOLFOX (oxaliplatin + fluorouracil + leucovorin)"),
    ("mFOLFOX6", "FOLFOX (oxaliplatin + fluorouracil + leucovorin)"),
    ("XELOX", "CAPOX (capecitabine + oxaliplatin)"),
])
def test_regimen_in_agents_expands_and_keeps_its_name(recommender, written: str,
                                                      display: str) -> None:
    result = recommender.evaluate({"tumour": {"type": "COAD"},
                                   "therapies": [{"agents": [written, "bevacizumab"]}]})
    therapy = result.patient.therapies[0]
    assert therapy.regimens == [display]
    assert "oxaliplatin" in therapy.agents and "bevacizumab" in therapy.agents
    assert therapy.label == f"{display} + bevacizumab"


def test_regimen_key_expands_too(kb) -> None:
    profile = load_profile({"tumour": {"type": "PAAD"},
                            "therapies": [{"regimen": "mFOLFIRINOX"}]}, kb.vocabulary)
    assert profile.therapies[0].agents == ["fluorouracil", "irinotecan", "leucovorin",
                                           "oxaliplatin"]


def test_unknown_regimen_key_is_an_error(kb) -> None:
    with pytest.raises(ProfileError, match="regimen 'FOLFAKE' is not a known regimen"):
        load_profile({"tumour": {"type": "PAAD"}, "therapies": [{"regimen": "FOLFAKE"}]},
                     kb.vocabulary)


# ---- class-level rules fire for agents known through the catalogue ----------------

CLASS_AGENTS: list[tuple[str, str]] = [
    ("Tecentriq", "anti-pd-1-pd-l1"),
    ("durvalumab", "immune-checkpoint-inhibitor"),
    ("tislelizumab", "anti-pd-1"),
    ("tremelimumab", "anti-ctla-4"),
    ("dabrafenib", "braf-inhibitor"),
    ("S-1", "fluoropyrimidine"),
    ("carboplatin", "platinum"),
    ("epirubicin", "anthracycline"),
    ("nal-irinotecan", "chemotherapy"),
]


def _positive(conditions: list[Any]) -> list[Any]:
    """Conditions not under a ``not``."""
    out: list[Any] = []
    for cond in conditions:
        if type(cond.spec).__name__ != "NotCond":
            out.append(cond)
            out += _positive(cond.spec.children())
    return out


def _class_rules(kb, klass: str) -> list[Any]:
    return [rule for rule in sorted(kb.rules, key=lambda r: r.id)
            if any(isinstance(c.spec, TherapyCond) and klass in (c.spec.klass or [])
                   for c in _positive(rule.when))]


@pytest.mark.parametrize(("name", "klass"), CLASS_AGENTS)
def test_class_level_rule_fires_for_a_catalogue_agent(kb, recommender, name: str,
                                                      klass: str) -> None:
    agent = kb.vocabulary.agent(name)
    assert reference.is_agent_name(name)  # a reference-data name
    assert klass in kb.classes_of(agent)
    rules = _class_rules(kb, klass)
    assert rules, f"no rule reads class {klass}"
    fired = []
    for rule in rules:
        profile = WitnessBuilder(kb).for_rule(rule)
        named = {k for c in _positive(rule.when) if isinstance(c.spec, TherapyCond)
                 and klass in (c.spec.klass or []) for k in c.spec.klass or []}
        for therapy in profile.get("therapies", []):  # the witness's agent -> ours
            therapy["agents"] = [name if named & set(kb.classes_of(a)) else a
                                 for a in therapy["agents"]]
        result = recommender.evaluate(profile)
        given = {a for t in result.patient.therapies for a in t.agents}
        if rule.id in {t.rule for t in result.trace} and agent in given:
            fired.append(rule.id)
    assert fired


def test_atezolizumab_bevacizumab_counts_as_checkpoint_pretreated(recommender) -> None:
    result = recommender.evaluate({
        "tumour": {"type": "HCC"},
        "therapies": [{"agents": ["atezo-bev"], "start": "2024-01-01", "end": "2024-06-01",
                       "response": "PD"}],
        "biomarkers": {"expression": {"TIM-3": "high"}}})
    assert "ici.tim3-after-pd1" in {t.rule for t in result.trace}
    assert "compensatory-checkpoint" in {m.id for m in result.mechanisms}


# ---- tumour types ------------------------------------------------------------------

GI_LEAVES = ["IHCH", "EHCH", "PHCH", "AMPCA", "SBC", "ANSC", "GEJ", "GBC", "CHOL", "APAD",
             "COAD", "READ", "STAD", "ESCA", "ESCC", "HCC", "PAAD", "Intrahepatic "
             "Cholangiocarcinoma"]


@pytest.mark.parametrize("written", GI_LEAVES)
def test_gi_leaves_work_end_to_end(recommender, kb, written: str) -> None:
    result = recommender.evaluate({"tumour": {"type": written},
                                   "alterations": [{"gene": "KRAS", "change": "G12C"}]})
    node = reference.oncotree_node(written)
    assert result.patient.tumour == node.code
    assert result.patient.tumour_name == node.name


def test_biliary_rules_match_oncotree_biliary_codes(kb) -> None:
    from regimen.evaluate.rank import tumour_match

    assert tumour_match(kb, "IHCH", ["CHOL"]) == "exact"
    assert tumour_match(kb, "IHCH", ["BILIARY"]) == "exact"
    assert tumour_match(kb, "GBC", ["BILIARY_TRACT"]) == "exact"
    assert tumour_match(kb, "GBC", ["CHOL"]) == "same-organ"
    assert tumour_match(kb, "COAD", ["COADREAD"]) == "exact"
    assert tumour_match(kb, "IHCH", ["HCC"]) == "other-gi"
    assert tumour_match(kb, "IHCH", ["GI"]) == "gi-general"


@pytest.mark.parametrize(("written", "message"), [
    ("LUAD", "'LUAD' (LUAD, Lung Adenocarcinoma) belongs to the Lung organ system in "
             "OncoTree, not to a gastrointestinal one"),
    ("breast", "'breast' (BREAST, Breast) belongs to the Breast organ system"),
])
def test_non_gi_code_names_its_organ_system(kb, written: str, message: str) -> None:
    with pytest.raises(ProfileError) as caught:
        load_profile({"tumour": {"type": written}}, kb.vocabulary)
    assert message in caught.value.message


# ---- genes -------------------------------------------------------------------------

def test_any_approved_symbol_alias_and_isoform(kb) -> None:
    vocab = kb.vocabulary
    assert vocab.gene("ZNF217") == "ZNF217"
    assert vocab.gene("HER2") == "ERBB2"
    assert vocab.gene("survivin") == "BIRC5"  # the knowledge vocabulary wins
    assert vocab.gene_isoform("CLDN18.2") == ("CLDN18", "18.2")


def test_ambiguous_alias_lists_its_genes(kb) -> None:
    ambiguous = next(key for key, value in reference._gene_aliases().aliases.items()
                     if not isinstance(value, str) and key.upper() not in kb.vocabulary.genes
                     and key not in reference._genes().approved)
    with pytest.raises(Exception, match="ambiguous"):
        kb.vocabulary.gene(ambiguous)


def test_isoform_kept_in_the_report(recommender) -> None:
    result = recommender.evaluate({"tumour": {"type": "STAD"},
                                   "alterations": [{"gene": "CLDN18.2",
                                                    "type": "overexpression"}]})
    assert "CLDN18 (isoform 18.2) overexpression" in result.patient.alterations


# ---- notation ----------------------------------------------------------------------

def test_coding_dna_hotspot_is_read_as_the_protein_change(recommender) -> None:
    result = recommender.evaluate({"tumour": {"type": "COAD"},
                                   "alterations": [{"gene": "KRAS", "change": "c.34G>T"}]})
    assert "KRAS G12C (as written: c.34G>T)" in result.patient.alterations
    assert "crc.kras-g12c-egfr-bypass" in {t.rule for t in result.trace} or any(
        "G12C" in " ".join(t.matched) for t in result.trace)


@pytest.mark.parametrize(("alteration", "message"), [
    ({"gene": "KRAS", "change": "Q??zz"}, "change 'Q??zz' is not a recognised variant notation"),
    ({"gene": "KRAS", "change": "G12C", "type": "wild-type"},
     "change 'G12C' contradicts type 'wild-type': wild-type means no change was found"),
    ({"gene": "ERBB2", "change": "S310F", "type": "amplification"},
     "change 'S310F' contradicts type 'amplification'"),
])
def test_notation_contradictions_are_errors(kb, alteration: dict[str, Any],
                                            message: str) -> None:
    with pytest.raises(ProfileError) as caught:
        load_profile({"tumour": {"type": "COAD"}, "alterations": [alteration]}, kb.vocabulary)
    assert message in caught.value.message


def test_same_gene_wild_type_and_mutated(kb) -> None:
    with pytest.raises(ProfileError, match="KRAS is listed both as wild-type and as mutated"):
        load_profile({"tumour": {"type": "COAD"},
                      "alterations": [{"gene": "KRAS", "change": "G12C"},
                                      {"gene": "KRAS", "type": "wild-type"}]}, kb.vocabulary)


def test_rule_changes_are_canonical_at_load(kb) -> None:
    from regimen.knowledge.conditions import AlterationCond

    cond = AlterationCond.model_validate({"gene": "KRAS", "change": ["p.Gly12Cys", "G13D"]})
    assert cond.change == ["G12C", "G13D"]
    _, checks = cond.check(kb, "mechanism")
    assert dict(checks)["variant notation (see regimen/knowledge/notation.py)"] == []
    bad = AlterationCond.model_validate({"gene": "KRAS", "change": "Q??zz"})
    assert dict(bad.check(kb, "mechanism")[1])[
        "variant notation (see regimen/knowledge/notation.py)"] == ["Q??zz"]


# ---- nothing silently ignored ------------------------------------------------------

def test_not_considered_names_every_unread_item(recommender) -> None:
    result = recommender.evaluate({
        "tumour": {"type": "COAD"},
        "alterations": [{"gene": "MDM2", "type": "amplification"},
                        {"gene": "ERBB2", "type": "amplification"},
                        {"gene": "CCNE1", "type": "amplification"},
                        {"gene": "ZNF217", "type": "amplification"}],
        "biomarkers": {"tme": ["immune-excluded"]},
        "clinical": {"conditions": ["autoimmune-disease"]},
        "drug_sensitivity": [{"agent": "imatinib", "result": "sensitive"}],
        "therapies": [{"agents": ["xq-99-investigational"]}]})
    listed = {n.item: n.reason for n in result.not_considered}
    assert listed["MDM2 amplification"] == "rules read MDM2 overexpression, expression"
    assert "ERBB2 amplification" not in listed  # read by the standard-of-care layer
    assert listed["CCNE1 amplification"] == "no rule reads CCNE1"
    assert listed["ZNF217 amplification"] == "no rule reads ZNF217"
    assert listed["TME immune-excluded"] == "no rule reads this tumour-microenvironment term"
    assert listed["condition autoimmune-disease"] == "no rule reads this clinical condition"
    assert listed["organoid imatinib: sensitive"] == (
        "no option contains imatinib and no rule reads its organoid result")
    assert listed["agent xq-99-investigational"].startswith("not a known agent name")
    assert result.to_dict()["not_considered"][0] == {"item": "CCNE1 amplification",
                                                     "reason": "no rule reads CCNE1"}
    assert result.schema_version == 2


# ---- properties ----------------------------------------------------------------------

PROPERTY = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture])
SYMBOLS = st.sampled_from(reference.approved_symbols())
AGENT_NAMES = st.sampled_from(sorted({c.preferred_name for c in reference.ncit_concepts()}))


@PROPERTY
@given(symbol=SYMBOLS)
def test_every_approved_symbol_is_accepted_in_a_profile(kb, symbol: str) -> None:
    assume(_gene_key(symbol) not in kb.vocabulary._gene_alias
           or kb.vocabulary._gene_alias[_gene_key(symbol)] == symbol)
    profile = load_profile({"tumour": {"type": "COAD"},
                            "alterations": [{"gene": symbol, "type": "mutation"}]},
                           kb.vocabulary)
    assert profile.alterations[0].gene == symbol


@PROPERTY
@given(name=AGENT_NAMES)
def test_every_ncit_agent_name_is_accepted_in_a_profile(kb, name: str) -> None:
    assume(len(name) <= 200)
    profile = load_profile({"tumour": {"type": "COAD"}, "therapies": [{"agents": [name]}]},
                           kb.vocabulary)
    assert profile.therapies[0].agents == [kb.vocabulary.agent(name)]


def _one_edit(data: st.DataObject, key: str, alphabet: str) -> str:
    i = data.draw(st.integers(0, len(key) - 1))
    char = data.draw(st.sampled_from(alphabet))
    return key[:i] + char + key[i + 1:]


@PROPERTY
@given(data=st.data(), name=AGENT_NAMES)
def test_an_unknown_agent_one_edit_from_a_known_one_gets_a_suggestion(
        kb, data: st.DataObject, name: str) -> None:
    key = reference.normalise(name)
    assume(key.isascii() and 3 <= len(key) <= 60)
    typo = _one_edit(data, key, "abcdefghijklmnopqrstuvwxyz")
    assume(not reference.is_agent_name(typo))
    assume(_key(typo).replace(" ", "-") not in kb.vocabulary._agent_alias)
    with pytest.raises(VocabularyError, match="did you mean"):
        kb.vocabulary.agent(typo)


@PROPERTY
@given(data=st.data(), symbol=SYMBOLS)
def test_an_unknown_gene_one_edit_from_a_symbol_gets_a_suggestion(
        kb, data: st.DataObject, symbol: str) -> None:
    typo = _one_edit(data, symbol, "ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    assume(not reference.is_gene_symbol(typo))
    assume(_gene_key(typo) not in kb.vocabulary._gene_alias)
    assume(_gene_key(typo) not in kb.vocabulary.other_genes)
    with pytest.raises(VocabularyError, match="did you mean"):
        kb.vocabulary.gene(typo)


@PROPERTY
@given(name=AGENT_NAMES)
def test_no_known_agent_name_gets_a_suggestion(name: str) -> None:
    assert reference.suggest_agent(name) == ()


@PROPERTY
@given(symbol=SYMBOLS)
def test_no_known_symbol_gets_a_suggestion(symbol: str) -> None:
    assert reference.suggest_gene(symbol) == ()
