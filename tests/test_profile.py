from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from regimen.errors import ProfileError
from regimen.profile import Profile, load_profile

DATA = Path(__file__).parent / "data"


def test_issue_format_is_accepted_as_written(kb) -> None:
    profile = load_profile(DATA / "issue_format.yaml", kb.vocabulary)
    assert profile.id == "TB-2026-014"
    assert profile.tumour.type == "COADREAD"
    assert profile.tumour.stage == "IV"
    assert [(a.gene, a.change, a.type) for a in profile.alterations] == [
        ("KRAS", "G12C", "mutation"), ("MLH1", None, "promoter-methylation"),
        ("TYMS", None, "amplification")]
    assert profile.biomarkers.msi == "MSS"
    assert profile.biomarkers.tmb == 4.2
    assert profile.biomarkers.expression == {"ABCB1": "high", "GPX4": "high", "BIRC5": "high"}
    assert profile.biomarkers.tme == ["caf-rich", "immune-cold"]
    assert profile.biomarkers.microbiome["beta-glucuronidase"] == "high"
    therapy = profile.therapies[0]
    assert therapy.agents == ["fluorouracil", "leucovorin", "oxaliplatin"]
    assert therapy.end == dt.date(2025, 10, 20) and therapy.progressed and not therapy.ongoing
    assert [d.date for d in profile.ctdna] == [dt.date(2025, 2, 1), dt.date(2025, 6, 1)]
    assert profile.drug_sensitivity[0].result == "resistant"
    assert profile.clinical.conditions == ["hepatic-impairment"]


def test_json_profile_and_tumor_spelling(kb, tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"tumor": {"type": "gastric"},
                                "alterations": [{"gene": "kras", "change": "p.Gly12Cys"}]}))
    profile = load_profile(path, kb.vocabulary)
    assert profile.tumour.type == "STAD"
    assert profile.alterations[0].gene == "KRAS"
    assert profile.alterations[0].change == "G12C"


def test_aliases_in_expression_are_resolved(kb) -> None:
    profile = load_profile({"tumour": {"type": "HCC"},
                            "biomarkers": {"expression": {"survivin": "High", "TIM-3": "high",
                                                          "PD-L1": "low"}}}, kb.vocabulary)
    assert profile.biomarkers.expression == {"BIRC5": "high", "HAVCR2": "high", "CD274": "low"}


def test_ctdna_draws_sorted_by_date(kb) -> None:
    profile = load_profile({"tumour": {"type": "COADREAD"}, "ctdna": [
        {"date": "2025-06-01", "tumour_fraction": 0.1},
        {"date": "2025-01-01", "tumour_fraction": 0.2}]}, kb.vocabulary)
    assert [d.date.month for d in profile.ctdna] == [1, 6]


def test_profile_model_passes_through(kb) -> None:
    profile = load_profile({"tumour": {"type": "COADREAD"}}, kb.vocabulary)
    assert load_profile(profile, kb.vocabulary) is profile
    assert isinstance(profile, Profile)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "tumour", "required field 'tumour' is missing"),
        ({"tumour": {"type": "brain"}}, "tumour.type",
         "'brain' (BRAIN, CNS/Brain) belongs to the CNS/Brain organ system in OncoTree"),
        ({"tumour": {"type": "melanoma"}}, "tumour.type",
         "'melanoma' (MEL, Melanoma) belongs to the Skin organ system in OncoTree"),
        ({"tumour": {"type": "gastrointestinal"}}, "tumour.type", "too general"),
        ({"tumour": {"type": "COADREAD"}, "alterations": [{"gene": "KRASS", "change": "G12C"}]},
         "alterations[0].gene", "did you mean KRAS"),
        ({"tumour": {"type": "COADREAD"}, "alterations": [{"gene": "KRAS"}]},
         "alterations[0]", "needs a 'change'"),
        ({"tumour": {"type": "COADREAD"}, "alterations": [{"gene": "KRAS", "change": "G12C",
                                                            "vaf": 1.5}]},
         "alterations[0].vaf",
         "VAF is a fraction between 0 and 1; 1.5 looks like a percentage, write 0.015"),
        ({"tumour": {"type": "COADREAD"}, "biomarkers": {"tmb": -1}}, "biomarkers.tmb",
         "must be at least 0 (got -1)"),
        ({"tumour": {"type": "COADREAD"}, "biomarkers": {"msi": "MSI-X"}}, "biomarkers.msi",
         "'MSI-X' is not allowed"),
        ({"tumour": {"type": "COADREAD"}, "biomarkers": {"expression": {"ABCB1": "huge"}}},
         "biomarkers.expression.ABCB1", "'huge' is not allowed"),
        ({"tumour": {"type": "COADREAD"}, "biomarkers": {"tme": ["caf-richh"]}},
         "biomarkers.tme", "did you mean caf-rich"),
        ({"tumour": {"type": "COADREAD"}, "biomarkers": {"microbiome": {"e-coli": "high"}}},
         "biomarkers.microbiome", "unknown microbiome term 'e-coli'"),
        ({"tumour": {"type": "COADREAD"}, "therapies": [{"agents": ["oxaliplatinn"]}]},
         "therapies[0].agents", "did you mean oxaliplatin"),
        ({"tumour": {"type": "COADREAD"}, "therapies": [{"agents": ["oxaliplatin"],
                                                          "response": "bad"}]},
         "therapies[0].response", "'BAD' is not allowed"),
        ({"tumour": {"type": "COADREAD"}, "therapies": [{"agents": ["oxaliplatin"],
                                                          "start": "2025-02-30"}]},
         "therapies[0].start", "date"),
        ({"tumour": {"type": "COADREAD"}, "therapies": [{"agents": ["oxaliplatin"],
                                                          "start": "2025-03-01",
                                                          "end": "2025-02-01"}]},
         "therapies[0]", "before start"),
        ({"tumour": {"type": "COADREAD"}, "ctdna": [{"date": "2025-01-01"},
                                                     {"date": "2025-01-01"}]},
         "ctdna", "share the date 2025-01-01"),
        ({"tumour": {"type": "COADREAD"}, "ctdna": [{"date": "2025-01-01",
                                                      "tumour_fraction": 2}]},
         "ctdna[0].tumour_fraction", "must be at most 1"),
        ({"tumour": {"type": "COADREAD"}, "colour": "blue"}, "colour", "unknown key 'colour'"),
        ({"tumour": {"type": "COADREAD"}, "clinical": {"conditions": ["pregnant"]}},
         "clinical.conditions", "unknown clinical condition 'pregnant'"),
        ({"tumour": {"type": "COADREAD"}, "drug_sensitivity": [{"agent": "paclitaxel",
                                                                 "result": "great"}]},
         "drug_sensitivity[0].result", "'great' is not allowed"),
    ],
)
def test_bad_profiles_name_field_and_problem(kb, data, field: str, message: str) -> None:
    with pytest.raises(ProfileError) as info:
        load_profile(data, kb.vocabulary)
    assert info.value.field == field
    assert message in str(info.value)


def test_unknown_key_lists_allowed_keys(kb) -> None:
    with pytest.raises(ProfileError, match="allowed keys here: id, tumour"):
        load_profile({"tumour": {"type": "COADREAD"}, "colour": 1}, kb.vocabulary)


def test_error_names_the_line(kb, tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("tumour:\n  type: COADREAD\nalterations:\n  - gene: KRAS\n    change: G12C\n"
                    "    vaf: 7\n")
    with pytest.raises(ProfileError) as info:
        load_profile(path, kb.vocabulary)
    assert info.value.line == 6
    assert str(info.value).startswith(f"{path}:6: alterations[0].vaf:")


def test_wild_type_and_mutated_is_a_contradiction(kb) -> None:
    with pytest.raises(ProfileError, match="both as wild-type and as mutated"):
        load_profile({"tumour": {"type": "COADREAD"}, "alterations": [
            {"gene": "KRAS", "type": "wild-type"}, {"gene": "KRAS", "change": "G12D"}]},
            kb.vocabulary)
