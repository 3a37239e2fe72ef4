"""Regimen acronyms expand to agents the reference data and the knowledge base know."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from regimen.errors import KnowledgeError
from regimen.io.resources import knowledge_dir
from regimen.knowledge import KnowledgeBase
from regimen.knowledge.reference import resolve_agent
from regimen.knowledge.regimens import RegimenIndex, load_regimens


@pytest.fixture(scope="module")
def regimens() -> RegimenIndex:
    return load_regimens(knowledge_dir() / "regimens.yaml")


EXPECTED = {
    "FOLFOX": {"oxaliplatin", "fluorouracil", "leucovorin"},
    "mFOLFOX6": {"oxaliplatin", "fluorouracil", "leucovorin"},
    "CAPOX": {"capecitabine", "oxaliplatin"},
    "XELOX": {"capecitabine", "oxaliplatin"},
    "FOLFIRI": {"irinotecan", "fluorouracil", "leucovorin"},
    "FOLFOXIRI": {"irinotecan", "oxaliplatin", "fluorouracil", "leucovorin"},
    "FOLFIRINOX": {"irinotecan", "oxaliplatin", "fluorouracil", "leucovorin"},
    "mFOLFIRINOX": {"irinotecan", "oxaliplatin", "fluorouracil", "leucovorin"},
    "NALIRIFOX": {"nal-irinotecan", "oxaliplatin", "fluorouracil", "leucovorin"},
    "FLOT": {"docetaxel", "oxaliplatin", "fluorouracil", "leucovorin"},
    "SOX": {"tegafur-gimeracil-oteracil", "oxaliplatin"},
    "XP": {"capecitabine", "cisplatin"},
    "CX": {"capecitabine", "cisplatin"},
    "GEMCIS": {"gemcitabine", "cisplatin"},
    "gem-cis": {"gemcitabine", "cisplatin"},
    "gem/nab-P": {"gemcitabine", "nab-paclitaxel"},
    "gemcitabine-capecitabine": {"gemcitabine", "capecitabine"},
    "atezo-bev": {"atezolizumab", "bevacizumab"},
    "STRIDE": {"tremelimumab", "durvalumab"},
    "TAS-102 + bev": {"trifluridine-tipiracil", "bevacizumab"},
    "EOX": {"epirubicin", "oxaliplatin", "capecitabine"},
    "DCF": {"docetaxel", "cisplatin", "fluorouracil"},
}


@pytest.mark.parametrize("acronym", sorted(EXPECTED))
def test_acronym_expands_to_its_agents(regimens: RegimenIndex, acronym: str) -> None:
    regimen = regimens.expand(acronym)
    assert regimen is not None
    assert set(regimen.agents) == EXPECTED[acronym]
    assert regimen.display.startswith(f"{regimen.name} (")
    assert " + ".join(regimen.agents) in regimen.display


def test_spelling_variants(regimens: RegimenIndex) -> None:
    folfox = regimens.expand("FOLFOX")
    assert regimens.expand("m-folfox-6") == folfox
    assert regimens.expand("mfolfox6") == folfox
    assert regimens.expand("Gem Cis") == regimens.expand("GEMCIS")
    assert regimens.expand("oxaliplatin") is None
    assert regimens.expand("TAS-102") is None  # the drug, not the regimen


def test_every_agent_is_a_canonical_id_with_a_knowledge_entry(regimens: RegimenIndex,
                                                               kb: KnowledgeBase) -> None:
    for regimen in regimens.regimens:
        assert regimen.source.strip()
        for agent in regimen.agents:
            assert resolve_agent(agent).id == agent, (regimen.id, agent)
            assert agent in kb.agents, (regimen.id, agent)


def test_platinum_history_is_kept(regimens: RegimenIndex, kb: KnowledgeBase) -> None:
    for acronym in ("FOLFOX", "XELOX", "FLOT", "GEMCIS", "mFOLFIRINOX"):
        regimen = regimens.expand(acronym)
        assert regimen is not None
        assert any("platinum" in kb.classes_of(agent) for agent in regimen.agents)


def test_an_alias_given_to_two_regimens_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "regimens.yaml"
    entry = {"agents": ["oxaliplatin", "fluorouracil"], "source": "test"}
    path.write_text(yaml.safe_dump({"regimens": [
        {"id": "one", "name": "ONE", "aliases": ["shared"], **entry},
        {"id": "two", "name": "TWO", "aliases": ["Shared"], **entry},
    ]}), encoding="utf-8")
    with pytest.raises(KnowledgeError, match="'Shared' names two regimens"):
        load_regimens(path)


def test_malformed_regimen_file_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "regimens.yaml"
    path.write_text("regimens:\n  - {id: x, name: X, agents: [a, b]}\n", encoding="utf-8")
    with pytest.raises(KnowledgeError, match=r"regimens\.0\.source"):
        load_regimens(path)


def test_organoid_result_for_a_regimen_is_kept_whole_and_listed(recommender) -> None:
    result = recommender.evaluate({"tumour": {"type": "COADREAD"}, "drug_sensitivity": [
        {"agent": "FOLFOX", "result": "resistant"}, {"agent": "Lonsurf", "result": "sensitive"}]})
    listed = {n.item: n.reason for n in result.not_considered}
    item = "organoid FOLFOX (oxaliplatin + fluorouracil + leucovorin): resistant"
    assert listed[item].startswith("a result for the combination")
    # the combination result is not read as a result for each of its agents
    assert not any(r.score_breakdown["organoid"] for r in result.recommendations
                   if {"oxaliplatin", "fluorouracil"} & set(r.agents))
    profile = recommender.load({"tumour": {"type": "COADREAD"}, "drug_sensitivity": [
        {"agent": "FOLFOX", "result": "resistant"}, {"agent": "Lonsurf", "result": "sensitive"}]})
    assert [s.regimen for s in profile.drug_sensitivity] == [True, False]
    assert profile.drug_sensitivity[1].agent == "trifluridine-tipiracil"
