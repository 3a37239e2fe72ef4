from __future__ import annotations

import pytest

from regimen.errors import VocabularyError
from regimen.knowledge.vocabulary import damerau, normalise_change


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("G12C", "G12C"),
        ("p.G12C", "G12C"),
        ("p.Gly12Cys", "G12C"),
        ("Gly12Cys", "G12C"),
        ("V600E", "V600E"),
        ("p.Val600Glu", "V600E"),
        ("R175H", "R175H"),
        ("Q37*", "Q37*"),
        ("p.Gln37Ter", "Q37*"),
        ("Q37X", "Q37*"),
        ("p.(Ser492Arg)", "S492R"),
        ("s492r", "S492R"),
        ("exon 19 deletion", "exon 19 deletion"),
    ],
)
def test_normalise_change(raw: str, expected: str) -> None:
    assert normalise_change(raw) == expected


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


@pytest.mark.parametrize("raw", ["KRASS", "BRAFF", "KARS"])
def test_gene_typo_is_an_error_naming_the_known_gene(kb, raw: str) -> None:
    with pytest.raises(VocabularyError, match="did you mean"):
        kb.vocabulary.gene(raw)


@pytest.mark.parametrize("raw", ["HRAS", "ERBB2", "ABCB11", "MYCN", "SMAD4", "ZNF217"])
def test_real_genes_that_no_rule_uses_are_accepted(kb, raw: str) -> None:
    assert kb.vocabulary.gene(raw) == raw


def test_malformed_gene_symbol(kb) -> None:
    with pytest.raises(VocabularyError, match="not a gene symbol"):
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
    assert kb.vocabulary.agent("zolbetuximab") == "zolbetuximab"


@pytest.mark.parametrize(("raw", "code"), [
    ("colorectal", "COADREAD"), ("COAD", "COAD"), ("gastric", "STAD"), ("HCC", "HCC"),
    ("pancreatic", "PAAD"), ("PDAC", "PAAD"), ("oesophageal squamous", "ESCC"),
    ("Oesophageal adenocarcinoma", "ESCA"), ("cholangiocarcinoma", "CHOL"),
])
def test_tumour_names(kb, raw: str, code: str) -> None:
    assert kb.vocabulary.tumour_code(raw) == code


def test_unknown_tumour_lists_known_codes(kb) -> None:
    with pytest.raises(VocabularyError, match=r"unknown tumour type 'brain'.*COADREAD"):
        kb.vocabulary.tumour_code("brain")


def test_lineage(kb) -> None:
    assert kb.vocabulary.lineage("COAD") == ("COAD", "COADREAD", "GI")
    assert kb.vocabulary.lineage("STAD") == ("STAD", "EGC", "GI")
