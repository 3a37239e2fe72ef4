from __future__ import annotations

import pytest

from regimen.errors import VocabularyError
from regimen.knowledge.vocabulary import damerau


def test_damerau_distance() -> None:
    assert damerau("KRAS", "KRASS") == 1
    assert damerau("KRAS", "KARS") == 1
    assert damerau("oxaliplatin", "oxaliplatinn") == 1
    assert damerau("abc", "abc") == 0


@pytest.mark.parametrize(("raw", "symbol"), [
    ("kras", "KRAS"), ("survivin", "BIRC5"), ("TIM-3", "HAVCR2"), ("PD-L1", "CD274"),
    ("P-gp", "ABCB1"), ("MDR1", "ABCB1"), ("Bcl-xL", "BCL2L1"),
])
def test_gene_aliases(kb, raw: str, symbol: str) -> None:
    assert kb.vocabulary.gene(raw) == symbol


@pytest.mark.parametrize("raw", ["KRASS", "BRAFF", "EGFRR"])
def test_gene_typo_is_an_error_naming_the_known_gene(kb, raw: str) -> None:
    with pytest.raises(VocabularyError, match="did you mean"):
        kb.vocabulary.gene(raw)


def test_a_previous_symbol_is_not_a_typo(kb) -> None:
    assert kb.vocabulary.gene("KARS") == "KARS1"  # HGNC previous symbol, one edit from KRAS


@pytest.mark.parametrize("raw", ["HRAS", "ERBB2", "ABCB11", "MYCN", "SMAD4", "ZNF217"])
def test_real_genes_that_no_rule_uses_are_accepted(kb, raw: str) -> None:
    assert kb.vocabulary.gene(raw) == raw


def test_malformed_gene_symbol(kb) -> None:
    with pytest.raises(VocabularyError, match="not an HGNC symbol"):
        kb.vocabulary.gene("kras g12c!")


@pytest.mark.parametrize(("raw", "agent"), [
    ("5-FU", "fluorouracil"), ("Oxaliplatin", "oxaliplatin"), ("nab paclitaxel", "nab-paclitaxel"),
    ("SASP", "sulfasalazine"),
])
def test_agent_synonyms(kb, raw: str, agent: str) -> None:
    assert kb.vocabulary.agent(raw) == agent


def test_agent_typo(kb) -> None:
    with pytest.raises(VocabularyError, match="did you mean oxaliplatin"):
        kb.vocabulary.agent("oxaliplatinn")


def test_unknown_well_formed_agent_is_accepted(kb) -> None:
    assert kb.vocabulary.agent("xq-99-investigational") == "xq-99-investigational"


@pytest.mark.parametrize(("raw", "code"), [
    ("colorectal", "COADREAD"), ("COAD", "COAD"), ("gastric", "STAD"), ("HCC", "HCC"),
    ("pancreatic", "PAAD"), ("PDAC", "PAAD"), ("oesophageal squamous", "ESCC"),
    ("Oesophageal adenocarcinoma", "ESCA"), ("cholangiocarcinoma", "CHOL"),
])
def test_tumour_names(kb, raw: str, code: str) -> None:
    assert kb.vocabulary.tumour_code(raw) == code


def test_unknown_tumour_names_the_release(kb) -> None:
    with pytest.raises(VocabularyError, match=r"unknown tumour type 'glioma': not an OncoTree"):
        kb.vocabulary.tumour_code("glioma")


def test_lineage(kb) -> None:
    assert kb.vocabulary.lineage("COAD") == ("COAD", "COADREAD", "BOWEL", "GI")
    assert kb.vocabulary.lineage("STAD") == ("STAD", "EGC", "STOMACH", "GI")
    assert kb.vocabulary.lineage("IHCH") == ("IHCH", "CHOL", "IPN", "BILIARY_TRACT",
                                             "BILIARY", "GI")
    assert kb.vocabulary.lineage("GBC")[-3:] == ("BILIARY_TRACT", "BILIARY", "GI")
