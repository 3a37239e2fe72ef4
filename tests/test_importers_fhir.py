from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from regimen import Recommender
from regimen.errors import ProfileError
from regimen.io.importers import ImportedProfile, detect, import_path
from regimen.profile import load_profile

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "imports" / "gastric-fhir-bundle.json"
LOINC = "http://loinc.org"


def _bundle() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    return data


def _import(tmp_path: Path, bundle: dict[str, Any]) -> list[ImportedProfile]:
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle), encoding="utf-8")
    return list(import_path(path, "fhir"))


def _resource(bundle: dict[str, Any], rid: str) -> dict[str, Any]:
    for entry in bundle["entry"]:
        if entry["resource"]["id"] == rid:
            resource: dict[str, Any] = entry["resource"]
            return resource
    raise KeyError(rid)


def test_example_maps_every_field() -> None:
    assert detect(EXAMPLE) == "fhir"
    [imported] = list(import_path(EXAMPLE))
    tp53 = {"gene": "TP53", "change": "p.Arg273His"}
    assert imported.profile == {
        "id": "gc-patient-01",
        "tumour": {"type": "STAD", "stage": "IV"},
        "alterations": [
            {"gene": "ERBB2", "type": "amplification"},
            {**tp53, "vaf": 0.42},
        ],
        "biomarkers": {"msi": "MSS", "tmb": 3.1, "pdl1_cps": 5},
        "therapies": [
            {"agents": ["cisplatin", "capecitabine", "trastuzumab"], "start": "2025-01-10",
             "end": "2025-08-15", "response": "PD", "response_date": "2025-08-15",
             "best_response": "PR"},
            {"agents": ["paclitaxel", "ramucirumab"], "start": "2025-09-01"},
        ],
        "ctdna": [
            {"date": "2025-01-05", "tumour_fraction": 0.09, "variants": [{**tp53, "vaf": 0.08}]},
            {"date": "2025-04-01", "tumour_fraction": 0.01, "variants": [{**tp53, "vaf": 0.006}]},
            {"date": "2025-08-01", "tumour_fraction": 0.05, "variants": [{**tp53, "vaf": 0.04}]},
        ],
    }
    assert imported.source.record == "Patient/gc-patient-01"
    assert [(u.item, u.reason) for u in imported.unmapped] == [
        ('Patient/gc-patient-01.birthDate: "1961"', "demographics are not part of a profile"),
        ('Patient/gc-patient-01.gender: "male"', "demographics are not part of a profile"),
        ('Observation/gc-cea: Carcinoembryonic antigen = {"unit": "ng/mL", "value": 12}',
         "not an observation regimen reads"),
    ]


def test_example_validates_and_evaluates(recommender: Recommender) -> None:
    [imported] = list(import_path(EXAMPLE))
    profile = load_profile(imported.profile, recommender.kb.vocabulary)
    assert profile.tumour.type == "STAD"
    assert profile.therapies[0].agents == ["capecitabine", "cisplatin", "trastuzumab"]
    assert [d.tumour_fraction for d in profile.ctdna] == [0.09, 0.01, 0.05]
    assert recommender.evaluate(imported.profile).profile_id == "gc-patient-01"


def test_unmappable_items_are_reported(tmp_path: Path) -> None:
    bundle = _bundle()
    status = _resource(bundle, "gc-status-1")
    status["valueCodeableConcept"] = {"coding": [{"system": "http://snomed.info/sct",
                                                  "code": "268910001"}]}
    _resource(bundle, "gc-primary")["code"] = {"coding": [
        {"system": "http://snomed.info/sct", "code": "363349007"}]}
    _resource(bundle, "gc-tx2-paclitaxel")["status"] = "entered-in-error"
    tp53 = _resource(bundle, "gc-tp53")
    tp53["component"][1]["valueCodeableConcept"]["coding"][0]["code"] = "NM_000546.6:c.818G>A"
    _resource(bundle, "gc-cea")["status"] = "entered-in-error"
    bundle["entry"].append({"resource": {
        "resourceType": "Procedure", "id": "gc-surgery", "status": "completed",
        "subject": {"reference": "Patient/gc-patient-01"}}})
    [imported] = _import(tmp_path, bundle)
    assert "tumour" not in imported.profile
    reasons = {u.item.split(":")[0]: u.reason for u in imported.unmapped}
    assert reasons["Condition/gc-primary"].startswith("http://snomed.info/sct diagnosis codes")
    assert "partial or complete" in reasons["Observation/gc-status-1"]
    assert reasons["MedicationAdministration/gc-tx2-paclitaxel"] == (
        "not a therapy the patient received")
    assert "protein-level" in reasons["Observation/gc-tp53"]
    assert reasons["Procedure/gc-surgery"] == "Procedure resources are not read"
    assert reasons["Observation/gc-cea"] == "not a valid result"
    assert imported.profile["therapies"][0]["response"] == "PD"
    assert "best_response" not in imported.profile["therapies"][0]


def test_two_patients_give_two_profiles(tmp_path: Path) -> None:
    bundle = _bundle()
    other = copy.deepcopy(bundle["entry"])
    for entry in other:
        resource = entry["resource"]
        resource["id"] = resource["id"].replace("gc-", "gc2-")
        entry["fullUrl"] = entry["fullUrl"].replace("gc-", "gc2-")
        for key in ("subject", "specimen"):
            if key in resource:
                resource[key]["reference"] = resource[key]["reference"].replace("gc-", "gc2-")
    bundle["entry"] += other
    first, second = _import(tmp_path, bundle)
    assert first.source.record == "Patient/gc-patient-01"
    assert second.source.record == "Patient/gc2-patient-01"
    assert second.profile["id"] == "gc2-patient-01"
    assert {k: v for k, v in first.profile.items() if k != "id"} == {
        k: v for k, v in second.profile.items() if k != "id"}


def test_bad_json(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text('{"resourceType": "Bundle",\n"type": ', encoding="utf-8")
    with pytest.raises(ProfileError) as err:
        list(import_path(path, "fhir"))
    assert f"{path}:2" in str(err.value)


def test_wrong_resource_type(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"resourceType": "Patient", "id": "x"}), encoding="utf-8")
    assert detect(path) == "fhir"
    with pytest.raises(ProfileError) as err:
        list(import_path(path))
    assert str(path) in str(err.value) and "'Patient'" in str(err.value)
    assert "Bundle" in str(err.value)


def test_schema_error_names_the_record(tmp_path: Path) -> None:
    bundle = _bundle()
    _resource(bundle, "gc-tmb")["valueQuantityy"] = {"value": 1}
    with pytest.raises(ProfileError) as err:
        _import(tmp_path, bundle)
    message = str(err.value)
    assert "Observation/gc-tmb" in message and "valueQuantityy" in message
    assert str(tmp_path / "bundle.json") in message
