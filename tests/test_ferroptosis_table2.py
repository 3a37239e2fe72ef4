"""ferroptosis-2025 Table 2 (interventions that reverse drug resistance through ferroptosis).

For every row, a profile is built from the row itself: its cancer type as the tumour, its
drug as a failed prior therapy (response PD) and its key target expressed where a profile can
express it. The rules that encode the row are read from the knowledge base (every rule citing
"Table 2 row K"); each option they propose must be recommended, with a citation of that row
and the row's reference number. Nothing about scores or ranks is asserted.
"""

from __future__ import annotations

from typing import Any

import pytest

from regimen import Recommender, load_knowledge

SOURCE = "ferroptosis-2025"
KB = load_knowledge()

# The rows as the review prints them (cancer type, chemotherapeutic drug, key target), turned
# into profile facts. Key target direction: a gene whose knockdown/inhibition reverses
# resistance is expressed "high"; one whose elevation/restoration reverses it, "low".
# Rows whose key target is a drug (verteporfin, glycyrrhizic acid, ...) add no expression.
ROWS: dict[int, dict[str, Any]] = {
    1: {"tumour": "ESCC", "drug": "cisplatin", "expression": {"ALDH5A1": "high"}},
    2: {"tumour": "ESCC", "drug": "sorafenib", "expression": {"APOC1": "high"}},
    3: {"tumour": "STAD", "drug": "capecitabine", "expression": {"ARF6": "high"}},
    4: {"tumour": "STAD", "drug": "sorafenib", "expression": {"SIRT6": "high"}},
    5: {"tumour": "HCC", "drug": "sorafenib", "expression": {"lncRNA HCG18": "high"}},
    6: {"tumour": "PAAD", "drug": "gemcitabine", "expression": {"SLC38A5": "high"}},
    7: {"tumour": "PAAD", "drug": "gemcitabine", "expression": {"cTRIP12": "high"}},
    8: {"tumour": "COADREAD", "drug": "oxaliplatin", "expression": {"CDK1": "high"}},
    9: {"tumour": "ESCC", "drug": "paclitaxel", "expression": {}},            # verteporfin
    10: {"tumour": "STAD", "drug": "cisplatin", "expression": {"ATF3": "low"}},  # ATF3 elevation
    11: {"tumour": "STAD", "drug": "cisplatin", "expression": {"PFKFB3": "high"}},
    12: {"tumour": "STAD", "drug": "cisplatin", "expression": {"FAM120A": "high"}},
    13: {"tumour": "HCC", "drug": "sorafenib", "expression": {}},             # glycyrrhizic acid
    14: {"tumour": "HCC", "drug": "sorafenib", "expression": {}},             # withaferin A
    15: {"tumour": "PAAD", "drug": "gemcitabine", "expression": {"SIK1": "high"}},
    16: {"tumour": "COADREAD", "drug": "erastin", "expression": {"GCH1": "high"}},
    17: {"tumour": "HCC", "drug": "sorafenib", "expression": {"HSPB1": "high"}},  # miR-654-5p
    18: {"tumour": "HCC", "drug": "lenvatinib", "expression": {"HAND2-AS1": "low"}},
    19: {"tumour": "HCC", "drug": "sorafenib", "expression": {"MALAT1": "high"}},
    20: {"tumour": "HCC", "drug": "sorafenib", "expression": {"HNF4A-AS1": "low"}},
    21: {"tumour": "COADREAD", "drug": "5-FU", "expression": {}},             # Jianpi Jiedu
    22: {"tumour": "COADREAD", "drug": "cetuximab", "expression": {}},        # 3-bromopyruvate
    23: {"tumour": "PAAD", "drug": "cisplatin", "expression": {}},            # ligustrazine Pt(IV)
    24: {"tumour": "COADREAD", "drug": "oxaliplatin", "expression": {}},      # novel Pt(IV)
    25: {"tumour": "COADREAD", "drug": "oxaliplatin", "expression": {"RBMS1": "high"}},
    # Printed as "Oxaliplatin / BRAF ± EGFR inhibitors"; the text (ref 184) says the resisted
    # therapy is BRAF ± EGFR inhibitors in BRAF V600E CRC and does not mention oxaliplatin.
    26: {"tumour": "COADREAD", "drug": "braf-inhibitor", "expression": {},
         "alterations": [{"gene": "BRAF", "change": "V600E"}]},
    27: {"tumour": "PAAD", "drug": "gemcitabine", "expression": {"ACADM": "high"}},
    28: {"tumour": "PAAD", "drug": "gemcitabine", "expression": {"ARF6": "high"}},
}


def _table2_rows() -> list[int]:
    table = next(t for t in KB.sources[SOURCE].tables if t.id == "Table 2")
    return [r.row for r in table.rows]


def _row_refs(row: int) -> list[int]:
    table = next(t for t in KB.sources[SOURCE].tables if t.id == "Table 2")
    return next(r.refs for r in table.rows if r.row == row)


def _rules_citing(row: int) -> list[Any]:
    where = f"Table 2 row {row}"
    return [rule for rule in KB.rules
            if any(c.source == SOURCE and where in c.locators for c in rule.cite)]


def _excluded(row: int) -> bool:
    return any(e.source == SOURCE and e.where == f"Table 2 row {row}" for e in KB.exclusions)


def _profile(row: int) -> dict[str, Any]:
    spec = ROWS[row]
    profile: dict[str, Any] = {
        "id": f"ferroptosis-table2-row-{row}",
        "tumour": {"type": spec["tumour"]},
        "therapies": [{"agents": [spec["drug"]], "start": "2024-01-08", "end": "2024-06-03",
                       "response": "PD"}],
        "biomarkers": {"expression": dict(spec["expression"])},
    }
    if spec.get("alterations"):
        profile["alterations"] = spec["alterations"]
    return profile


def _cites_row(citations: list[Any], row: int) -> bool:
    where = f"Table 2 row {row}"
    refs = set(_row_refs(row))
    return any(c.source == SOURCE and where in c.where and refs <= set(c.refs)
               for c in citations)


@pytest.fixture(scope="module")
def recommender() -> Recommender:
    return Recommender(KB)


def test_every_row_encoded_or_excluded() -> None:
    rows = _table2_rows()
    assert rows == list(range(1, 29))
    missing = [r for r in rows if not _rules_citing(r) and not _excluded(r)]
    assert not missing, f"Table 2 rows neither encoded nor excluded: {missing}"


def test_row_profiles_cover_the_table() -> None:
    assert sorted(ROWS) == _table2_rows()


@pytest.mark.parametrize("row", sorted(ROWS))
def test_row_fires_and_cites_the_row(recommender: Recommender, row: int) -> None:
    rules = _rules_citing(row)
    if not rules:
        assert _excluded(row)
        pytest.skip(f"Table 2 row {row} is excluded")
    result = recommender.evaluate(_profile(row))
    fired = {t.rule for t in result.trace}
    options = sorted({r.option_id for r in rules if r.stage == "option"})
    if options:
        recommended = {r.id: r for r in result.recommendations}
        for option_id in options:
            assert option_id in recommended, (
                f"row {row}: {option_id} not recommended "
                f"(dropped: {[(d.id, d.reason) for d in result.dropped]})")
            rec = recommended[option_id]
            assert _cites_row(rec.citations, row), f"row {row}: {option_id} lacks the citation"
            assert ROWS[row]["tumour"] in rec.studied_in
            # the review reports no clinical study of any of these strategies
            assert rec.evidence_level in ("preclinical-in-vivo", "preclinical-in-vitro",
                                          "mechanistic")
    else:
        # encoded as a resistance mechanism (e.g. row 11, PFKFB3): it must be derived
        mechanisms = {m.id: m for m in result.mechanisms}
        for rule in rules:
            assert rule.id in fired, f"row {row}: {rule.id} did not fire"
            if rule.stage == "mechanism":
                assert _cites_row(mechanisms[rule.then.mechanism].citations, row)
