from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from regimen import Recommender
from regimen.errors import ProfileError
from regimen.io.importers import ImportedProfile, detect, import_path
from regimen.profile import load_profile

ROOT = Path(__file__).resolve().parent.parent
STUDY = ROOT / "examples" / "imports" / "cbioportal-gi-study"


def _all(path: Path = STUDY) -> dict[str, ImportedProfile]:
    return {p.profile["id"]: p for p in import_path(path)}


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "study"
    shutil.copytree(STUDY, target)
    return target


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_one_profile_per_sample_in_file_order() -> None:
    assert detect(STUDY) == "cbioportal"
    profiles = list(import_path(STUDY))
    assert [p.profile["id"] for p in profiles] == ["S01", "S02", "S03", "S04", "S05", "S06"]
    assert [p.profile["tumour"]["type"] for p in profiles] == [
        "COAD", "READ", "STAD", "PAAD", "HCC", "CHOL"]
    assert profiles[0].source.file == str(STUDY)
    assert profiles[0].source.record == "sample S01 (patient P01)"


def test_colorectal_sample_maps_every_field() -> None:
    s01 = _all()["S01"]
    assert s01.profile == {
        "id": "S01",
        "tumour": {"type": "COAD"},
        "alterations": [
            {"gene": "KRAS", "change": "p.G12C", "vaf": 0.31},
            {"gene": "TP53", "change": "p.R175H", "vaf": 0.33},
            {"gene": "APC", "change": "p.R1450*", "vaf": 0.35},
            {"gene": "TYMS", "type": "amplification"},
        ],
        "biomarkers": {"msi": "MSS", "tmb": 4.2},
        "therapies": [{"agents": ["oxaliplatin", "fluorouracil", "leucovorin"]}],
    }
    assert [(u.item, u.reason) for u in s01.unmapped] == [
        ("sample MSI_SCORE=0.4", "an assay-specific score; MSI_TYPE gives the status"),
        ("sample SAMPLE_TYPE=Primary", "not part of a profile"),
        ("patient AGE=61", "not part of a profile"),
        ("patient SEX=Female", "not part of a profile"),
        ("data_timeline_treatment.txt:2: TREATMENT_TYPE=Medical Therapy",
         "not part of a profile"),
        ("data_timeline_treatment.txt:3: TREATMENT_TYPE=Medical Therapy",
         "not part of a profile"),
        ("data_timeline_treatment.txt:4: TREATMENT_TYPE=Medical Therapy",
         "not part of a profile"),
        ("therapy oxaliplatin+fluorouracil+leucovorin: days 0 to 262",
         "timeline days have no calendar anchor; dates left out"),
    ]


def test_other_samples() -> None:
    profiles = _all()
    assert profiles["S02"].profile["biomarkers"] == {"msi": "MSI-H", "tmb": 48.1}
    assert profiles["S02"].profile["alterations"] == [
        {"gene": "PIK3CA", "change": "p.E545K", "vaf": 0.225},
        {"gene": "ARID1A", "change": "p.D1850Tfs*33"},  # no read counts -> no VAF
    ]
    assert "therapies" not in profiles["S02"].profile
    s03 = profiles["S03"]
    assert s03.profile["alterations"] == [
        {"gene": "TP53", "change": "p.R273H", "vaf": 0.42},
        {"gene": "ERBB2", "type": "amplification"},
    ]
    assert s03.profile["therapies"] == [
        {"agents": ["cisplatin", "capecitabine", "trastuzumab"]}, {"agents": ["paclitaxel"]}]
    s03_unmapped = {u.item: u.reason for u in s03.unmapped}
    assert s03_unmapped["data_mutations.txt:8: CDH1 p.L599="] == (
        "Silent: no protein change for regimen to match")
    assert s03_unmapped["data_cna.txt:4: CDKN2A -1"].startswith("only high-level amplification")
    assert s03_unmapped["therapy paclitaxel: days 245 to ongoing"].startswith("timeline days")
    assert profiles["S04"].profile["alterations"] == [
        {"gene": "KRAS", "change": "p.G12D", "vaf": 0.19},
        {"gene": "CDKN2A", "type": "loss"}, {"gene": "SMAD4", "type": "loss"}]
    assert profiles["S05"].profile["biomarkers"] == {"tmb": 2.0}  # MSI columns empty
    assert "data_cna.txt:3: ERBB2 1" in {u.item for u in profiles["S05"].unmapped}
    assert profiles["S06"].profile["biomarkers"] == {"msi": "MSS"}  # TMB empty


def test_every_sample_validates_and_evaluates(recommender: Recommender) -> None:
    for imported in import_path(STUDY):
        profile = load_profile(imported.profile, recommender.kb.vocabulary)
        assert profile.id == imported.profile["id"]
    s01 = load_profile(_all()["S01"].profile, recommender.kb.vocabulary)
    assert {(a.gene, a.change, a.type) for a in s01.alterations} == {
        ("KRAS", "G12C", "mutation"), ("TP53", "R175H", "mutation"),
        ("APC", "R1450*", "mutation"), ("TYMS", None, "amplification")}
    assert recommender.evaluate(_all()["S04"].profile).profile_id == "S04"


def test_maf_missing_required_column(tmp_path: Path) -> None:
    study = _copy(tmp_path)
    _edit(study / "data_mutations.txt", "Variant_Classification", "Variant_Class")
    with pytest.raises(ProfileError) as err:
        list(import_path(study))
    message = str(err.value)
    assert str(study / "data_mutations.txt") in message
    assert "missing required column(s) Variant_Classification" in message


def test_clinical_file_without_header_lines(tmp_path: Path) -> None:
    study = _copy(tmp_path)
    path = study / "data_clinical_sample.txt"
    path.write_text("\n".join(path.read_text(encoding="utf-8").splitlines()[4:]) + "\n",
                    encoding="utf-8")
    with pytest.raises(ProfileError) as err:
        list(import_path(study))
    assert f"{path}:1" in str(err.value) and "4 header lines" in str(err.value)
    assert "found 0" in str(err.value)


def test_non_numeric_cna_names_line_and_sample(tmp_path: Path) -> None:
    study = _copy(tmp_path)
    _edit(study / "data_cna.txt", "SMAD4\t4089\t0\t0\t0\t-2", "SMAD4\t4089\t0\t0\t0\tdel")
    with pytest.raises(ProfileError) as err:
        list(import_path(study))
    message = str(err.value)
    assert f"{study / 'data_cna.txt'}:5" in message
    assert "sample S04" in message and "'del'" in message


def test_mutation_of_unknown_sample(tmp_path: Path) -> None:
    study = _copy(tmp_path)
    _edit(study / "data_mutations.txt", "IDH1\tS06", "IDH1\tS99")
    with pytest.raises(ProfileError) as err:
        list(import_path(study))
    assert f"{study / 'data_mutations.txt'}:12" in str(err.value)
    assert "sample S99" in str(err.value)


def test_bad_timeline_days(tmp_path: Path) -> None:
    study = _copy(tmp_path)
    _edit(study / "data_timeline_treatment.txt", "P05\t21\t300", "P05\t2025-01-01\t300")
    with pytest.raises(ProfileError) as err:
        list(import_path(study))
    assert "patient P05" in str(err.value) and "whole days" in str(err.value)


def test_folder_that_is_not_a_study(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="not a cBioPortal study"):
        detect(tmp_path)
