"""Reference data look-ups: HGNC genes, OncoTree tumour types, NCIt agents."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from regimen.errors import VocabularyError
from regimen.knowledge import KnowledgeBase, reference
from regimen.knowledge.reference import (
    gene_key,
    is_agent_name,
    is_gene_symbol,
    lineage,
    ncit_concepts,
    normalise,
    oncotree_node,
    organ_system,
    require_gi,
    resolve_agent,
    resolve_gene,
    suggest_agent,
    suggest_gene,
)

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "reference"


def _refdata_dir() -> Path | None:
    """The shared refdata snapshots, if this checkout can see them."""
    candidates = [Path(os.environ["REGIMEN_REFDATA"])] if "REGIMEN_REFDATA" in os.environ else []
    candidates += [ROOT.parent / "shared" / "refdata", ROOT.parent.parent / "shared" / "refdata"]
    for candidate in candidates:
        if (candidate / "README.md").is_file():
            return candidate
    return None


REFDATA = _refdata_dir()
needs_refdata = pytest.mark.skipif(
    REFDATA is None,
    reason="the refdata snapshots (../shared/refdata or $REGIMEN_REFDATA) are not present; "
           "they are not shipped with regimen")

SYMBOLS = reference.approved_symbols()
CONCEPTS = ncit_concepts()

# ---------------------------------------------------------------- issue 9 spellings

# spelling -> (canonical id, a class the knowledge base gives it)
ISSUE_9_AGENTS = {
    "atezolizumab": ("atezolizumab", "anti-pd-l1"),
    "durvalumab": ("durvalumab", "anti-pd-l1"),
    "tremelimumab": ("tremelimumab", "anti-ctla-4"),
    "tislelizumab": ("tislelizumab", "anti-pd-1"),
    "camrelizumab": ("camrelizumab", "anti-pd-1"),
    "sintilimab": ("sintilimab", "anti-pd-1"),
    "dostarlimab": ("dostarlimab", "anti-pd-1"),
    "regorafenib": ("regorafenib", "vegfr-tki"),
    "cabozantinib": ("cabozantinib", "vegfr-tki"),
    "Cabozantinib S-malate": ("cabozantinib", "multikinase-inhibitor"),
    "fruquintinib": ("fruquintinib", "vegfr-tki"),
    "trastuzumab": ("trastuzumab", "anti-her2-antibody"),
    "trastuzumab-deruxtecan": ("trastuzumab-deruxtecan", "her2-adc"),
    "Trastuzumab Deruxtecan": ("trastuzumab-deruxtecan", "antibody-drug-conjugate"),
    "DS-8201a": ("trastuzumab-deruxtecan", "anti-her2"),
    "zolbetuximab": ("zolbetuximab", "anti-cldn18-2-antibody"),
    "olaparib": ("olaparib", "parp-inhibitor"),
    "S-1": ("tegafur-gimeracil-oteracil", "fluoropyrimidine"),
    "nal-irinotecan": ("nal-irinotecan", "topoisomerase-i-inhibitor"),
    "donafenib": ("donafenib", "vegfr-tki"),
    "Keytruda": ("pembrolizumab", "anti-pd-1"),
    "Tecentriq": ("atezolizumab", "immune-checkpoint-inhibitor"),
    "Lenvima": ("lenvatinib", "vegfr-tki"),
    "Abraxane": ("nab-paclitaxel", "taxane"),
    "AMG 510": ("sotorasib", "kras-g12c-inhibitor"),
    "AMG-510": ("sotorasib", "kras-g12c-inhibitor"),
    "MRTX849": ("adagrasib", "kras-g12c-inhibitor"),
    "TAS-120": ("futibatinib", "fgfr-inhibitor"),
    "TAS-102": ("trifluridine-tipiracil", "fluoropyrimidine"),
    "5-FU": ("fluorouracil", "fluoropyrimidine"),
    "gemcitabine": ("gemcitabine", "antimetabolite"),
    "Avastin": ("bevacizumab", "anti-vegf-antibody"),
    "Cyramza": ("ramucirumab", "anti-vegfr2-antibody"),
    "tucatinib": ("tucatinib", "her2-tki"),
    "ivosidenib": ("ivosidenib", "idh1-inhibitor"),
    "Braftovi": ("encorafenib", "braf-inhibitor"),
    "Mekinist": ("trametinib", "mek-inhibitor"),
    "larotrectinib": ("larotrectinib", "trk-inhibitor"),
    "selpercatinib": ("selpercatinib", "ret-inhibitor"),
    "Onivyde": ("nal-irinotecan", "chemotherapy"),
    "Lonsurf": ("trifluridine-tipiracil", "antimetabolite"),
    "RC48": ("disitamab-vedotin", "her2-adc"),
    "MGA012": ("retifanlimab", "anti-pd-1"),
    "AK104": ("cadonilimab", "anti-ctla-4"),
    "Zaltrap": ("aflibercept", "vegf-inhibitor"),
}


@pytest.mark.parametrize("spelling", sorted(ISSUE_9_AGENTS))
def test_issue_9_agent_spellings_resolve_with_their_class(kb: KnowledgeBase,
                                                          spelling: str) -> None:
    expected_id, expected_class = ISSUE_9_AGENTS[spelling]
    resolved = resolve_agent(spelling)
    assert resolved.id == expected_id
    assert resolved.query == spelling
    assert expected_id in kb.agents, f"{expected_id} has no knowledge-base entry"
    assert expected_class in kb.classes_of(expected_id)
    assert suggest_agent(spelling) == ()


def test_checkpoint_inhibitors_carry_the_pd1_pdl1_umbrella(kb: KnowledgeBase) -> None:
    for agent in ("atezolizumab", "durvalumab", "tislelizumab", "camrelizumab", "sintilimab",
                  "toripalimab", "dostarlimab", "pembrolizumab", "nivolumab"):
        classes = kb.classes_of(agent)
        assert "anti-pd-1-pd-l1" in classes and "immune-checkpoint-inhibitor" in classes


def test_a_real_drug_is_never_a_typo() -> None:
    assert resolve_agent("donafenib").id == "donafenib"
    assert suggest_agent("donafenib") == ()
    assert suggest_agent("sorafenib") == ()
    with pytest.raises(VocabularyError, match="sorafenib"):
        resolve_agent("sorafenibb")


def test_normalisation_of_agent_spellings() -> None:
    assert normalise("Trastuzumab Deruxtecan") == normalise("trastuzumab-deruxtecan")
    assert normalise("5-FU") == normalise("5 fu") == normalise("5_FU") == "5fu"
    assert normalise("Keytruda\u00ae") == "keytruda"
    assert normalise("5\u2013FU") == "5fu"
    assert resolve_agent("AMG510").id == resolve_agent("amg 510").id == "sotorasib"


def test_code_name_overrides_are_data_with_a_source() -> None:
    path = REFERENCE / "agent_overrides.tsv"
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")][1:]
    codes = {concept.ncit_code: concept for concept in CONCEPTS}
    assert rows
    for code, agent_id, _names, source in rows:
        assert code in codes, f"override for unknown NCIt code {code}"
        assert codes[code].id == agent_id
        assert source.strip()


@pytest.mark.parametrize("lookup", [resolve_agent, resolve_gene, oncotree_node])
def test_empty_strings_are_refused(lookup: Callable[[str], object]) -> None:
    for blank in ("", "  ", "-"):
        with pytest.raises(VocabularyError, match=r"empty|not an"):
            lookup(blank)


def test_unknown_agent_error_names_the_value() -> None:
    with pytest.raises(VocabularyError) as caught:
        resolve_agent("zzqxv")
    assert "'zzqxv'" in str(caught.value)
    assert "did you mean" not in str(caught.value)


def test_ambiguous_ncit_synonym_lists_its_agents() -> None:
    shared = [key for key, ids in reference._agent_synonyms().synonyms.items()
              if len(ids) > 1 and key not in reference._agents().primary]
    assert shared, "the 2019 export has synonyms shared by several concepts"
    key = sorted(shared)[0]
    ids = reference._agent_synonyms().synonyms[key]
    with pytest.raises(VocabularyError, match="ambiguous") as caught:
        resolve_agent(key)
    for agent_id in ids:
        assert agent_id in str(caught.value)


# ---------------------------------------------------------------- genes


def test_gene_aliases_and_case() -> None:
    assert resolve_gene("HER2").symbol == "ERBB2"
    assert resolve_gene("HER2").matched == "alias"
    assert resolve_gene("PD-L1").symbol == "CD274"
    assert resolve_gene("xCT").symbol == "SLC7A11"
    assert resolve_gene("kras").symbol == "KRAS"
    assert resolve_gene("C11ORF54").symbol == "C11orf54"
    assert resolve_gene("c11orf54").matched == "approved"


def test_cldn18_2_is_the_isoform_of_cldn18() -> None:
    resolved = resolve_gene("CLDN18.2")
    assert (resolved.symbol, resolved.matched, resolved.isoform) == ("CLDN18", "isoform", "18.2")


def test_ambiguous_alias_lists_its_candidates() -> None:
    with pytest.raises(VocabularyError) as caught:
        resolve_gene("NEU")
    message = str(caught.value)
    assert "ERBB2" in message and "NEU1" in message
    assert "did you mean" not in message


def test_approved_symbol_wins_over_an_alias_of_another_gene() -> None:
    aliases = reference._gene_aliases().aliases
    approved = reference._genes().approved
    clashes = sorted(key for key in aliases if key in approved)
    assert clashes
    for key in clashes[:50]:
        assert resolve_gene(key).symbol == approved[key]
        assert resolve_gene(key).matched == "approved"


def test_unknown_gene_suggests_near_symbols_only() -> None:
    with pytest.raises(VocabularyError, match="KRAS"):
        resolve_gene("KRSA")
    assert "KRAS" in suggest_gene("KRSA")
    assert suggest_gene("KRAS") == ()


@settings(deadline=None)
@given(st.sampled_from(SYMBOLS))
def test_every_sampled_approved_symbol_resolves(symbol: str) -> None:
    resolved = resolve_gene(symbol)
    assert (resolved.symbol, resolved.matched) == (symbol, "approved")
    assert resolve_gene(symbol.lower()).symbol == symbol
    assert suggest_gene(symbol) == ()


AMBIGUOUS = sorted(key for key, members in reference._gene_aliases().aliases.items()
                   if not isinstance(members, str) and key not in reference._genes().approved
                   and key not in reference._gene_aliases().isoforms)


@settings(deadline=None)
@given(st.sampled_from(AMBIGUOUS))
def test_sampled_ambiguous_aliases_list_every_candidate(alias: str) -> None:
    members = reference._gene_aliases().aliases[alias]
    with pytest.raises(VocabularyError, match="ambiguous") as caught:
        resolve_gene(alias)
    for symbol in members:
        assert symbol in str(caught.value)


# ---------------------------------------------------------------- typo suggestions

_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


@st.composite
def _edit_of(draw: st.DrawFn, keys: list[str]) -> str:
    key = draw(st.sampled_from(keys))
    op = draw(st.sampled_from(["delete", "insert", "substitute", "transpose"]))
    i = draw(st.integers(0, len(key) - 1))
    char = draw(st.sampled_from(_ALPHABET))
    if op == "delete":
        return key[:i] + key[i + 1:]
    if op == "insert":
        return key[:i] + char + key[i:]
    if op == "substitute":
        return key[:i] + char + key[i + 1:]
    j = min(i + 1, len(key) - 1)
    return key[:i] + key[j] + key[i] + key[j + 1:] if j > i else key


GENE_KEYS = sorted(reference._genes().approved)
AGENT_KEYS = sorted(k for k in reference._agents().primary if k.isascii() and len(k) > 3)


@settings(deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(_edit_of(GENE_KEYS))
def test_unknown_gene_one_edit_from_a_symbol_gets_a_suggestion(text: str) -> None:
    assume(text and gene_key(text) == text and not is_gene_symbol(text))
    assert suggest_gene(text)
    with pytest.raises(VocabularyError, match="did you mean"):
        resolve_gene(text)


@settings(deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(_edit_of(AGENT_KEYS))
def test_unknown_agent_one_edit_from_a_name_gets_a_suggestion(text: str) -> None:
    assume(text and normalise(text) == text and not is_agent_name(text))
    assert suggest_agent(text)
    with pytest.raises(VocabularyError, match="did you mean"):
        resolve_agent(text)


@settings(deadline=None)
@given(st.sampled_from(CONCEPTS))
def test_every_sampled_ncit_concept_resolves_by_every_name(concept: reference.NcitConcept
                                                           ) -> None:
    assert resolve_agent(concept.preferred_name).id == concept.id
    assert suggest_agent(concept.preferred_name) == ()
    for synonym in concept.synonyms:
        assert suggest_agent(synonym) == ()
        try:
            resolved = resolve_agent(synonym)
        except VocabularyError as error:  # a synonym NCIt gives several concepts
            assert "ambiguous" in str(error) and concept.id in str(error)
        else:
            # a synonym equal to another concept's preferred name resolves to that concept
            primary = reference._agents().primary.get(normalise(synonym))
            assert resolved.id == concept.id or (primary and resolved.id in primary)


# ---------------------------------------------------------------- OncoTree


@pytest.mark.parametrize(("code", "tissue_code", "main"), [
    ("IHCH", "BILIARY_TRACT", "Hepatobiliary Cancer"),
    ("EHCH", "BILIARY_TRACT", "Hepatobiliary Cancer"),
    ("PHCH", "BILIARY_TRACT", "Hepatobiliary Cancer"),
    ("GBC", "BILIARY_TRACT", "Hepatobiliary Cancer"),
    ("CHOL", "BILIARY_TRACT", "Hepatobiliary Cancer"),
    ("AMPCA", "AMPULLA_OF_VATER", "Ampullary Cancer"),
    ("SBC", "BOWEL", "Small Bowel Cancer"),
    ("ANSC", "BOWEL", "Anal Cancer"),
    ("GEJ", "STOMACH", "Esophagogastric Cancer"),
    ("ESCC", "STOMACH", "Esophagogastric Cancer"),
    ("HCC", "LIVER", "Hepatobiliary Cancer"),
    ("PAAD", "PANCREAS", "Pancreatic Cancer"),
    ("COAD", "BOWEL", "Colorectal Cancer"),
])
def test_gi_codes_resolve_with_lineage(code: str, tissue_code: str, main: str) -> None:
    node = require_gi(code.lower())
    assert node.code == code
    assert node.main_type == main
    chain = [n.code for n in lineage(code)]
    assert chain[0] == code and chain[-1] == "TISSUE" and tissue_code in chain
    assert reference.tissue_code(code) == tissue_code
    assert reference.is_gi(code)


def test_ihch_lineage_goes_through_chol() -> None:
    assert [n.code for n in lineage("IHCH")] == ["IHCH", "CHOL", "IPN", "BILIARY_TRACT", "TISSUE"]


def test_oncotree_by_name_and_ambiguous_name() -> None:
    assert oncotree_node("Intrahepatic Cholangiocarcinoma").code == "IHCH"
    with pytest.raises(VocabularyError, match="TCCA"):
        oncotree_node("Choriocarcinoma")


@pytest.mark.parametrize(("code", "system"), [("LUAD", "Lung"), ("PEMESO", "Peritoneum"),
                                              ("GIST", "Soft Tissue"), ("BRCA", "Breast")])
def test_non_gi_code_names_its_organ_system(code: str, system: str) -> None:
    assert organ_system(code) == system
    assert not reference.is_gi(code)
    with pytest.raises(VocabularyError, match=f"belongs to the {system} organ system"):
        require_gi(code)


def test_unknown_code_suggests_near_codes() -> None:
    with pytest.raises(VocabularyError, match="IHCH"):
        oncotree_node("IHC")


def test_whole_tree_is_connected() -> None:
    nodes = reference._oncotree().nodes
    assert len(nodes) == 898
    for code in nodes:
        assert lineage(code)[-1].code == "TISSUE"


# ---------------------------------------------------------------- files and provenance


@pytest.mark.parametrize(("name", "licence"), [("hgnc.tsv", "CC0"),
                                               ("oncotree.tsv", "CC BY 4.0"),
                                               ("ncit_agents.tsv", "CC BY 4.0")])
def test_reference_files_carry_provenance(name: str, licence: str) -> None:
    header = reference.provenance(name)
    text = "\n".join(header)
    assert "source:" in text and "@" in text
    assert licence in text
    assert "regenerate: python scripts/build_reference.py ../shared/refdata" in text
    rows = [line for line in header if line.startswith("rows:")]
    count = sum(1 for _ in reference._rows(name))
    assert rows == [f"rows: {count}"]
    assert set(reference.data_versions()) == {"hgnc.tsv", "oncotree.tsv", "ncit_agents.tsv"}


def test_shipped_reference_is_small() -> None:
    total = sum(path.stat().st_size for path in REFERENCE.iterdir())
    assert total < 2_000_000


@needs_refdata
def test_build_script_reproduces_the_shipped_files(tmp_path: Path) -> None:
    subprocess.run([sys.executable, str(ROOT / "scripts" / "build_reference.py"), str(REFDATA),
                    "--out", str(tmp_path)], check=True, capture_output=True)
    for name in ("hgnc.tsv", "oncotree.tsv", "ncit_agents.tsv"):
        assert (tmp_path / name).read_bytes() == (REFERENCE / name).read_bytes(), name


# INNs that MOAlmanac (2026) gives for NCIt concepts the 2019 export names only by a development
# code. They are not mapped yet (see reference/agent_overrides.tsv to add one, with a source).
NEWER_INNS = {"Pralsetinib", "Amivantamab", "Mobocertinib", "Olutasidenib", "Tovorafenib",
              "Inavolisib", "Taletrectinib", "Datopotamab deruxtecan", "Dordaviprone",
              "Belzutifan"}


@needs_refdata
def test_moalmanac_therapies_resolve_to_their_ncit_concept() -> None:
    """MOAlmanac (GPL-2.0) is read only here, from the snapshot; it is not shipped."""
    assert REFDATA is not None
    by_code = {concept.ncit_code: concept for concept in CONCEPTS}
    checked, unmapped = 0, set()
    with (REFDATA / "drugs-moalmanac.tsv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle, delimiter="\t"):
            code = row["primary_coding_id"].removeprefix("ncit:")
            if code not in by_code:
                continue
            if not is_agent_name(row["name"]):
                unmapped.add(row["name"])
                continue
            assert resolve_agent(row["name"]).id == by_code[code].id, row["name"]
            checked += 1
    assert checked >= 100
    assert unmapped == NEWER_INNS
