from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from regimen import Recommender
from regimen.errors import InputError, ProfileError
from regimen.io.importers import ImportedProfile, detect, import_path
from regimen.profile import load_profile

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "imports" / "crc-phenopacket.json"
COVID = ROOT / "tests" / "data" / "imports" / "covid19.json"


def _one(path: Path, fmt: str | None = None) -> ImportedProfile:
    results = list(import_path(path, fmt))
    assert len(results) == 1
    return results[0]


def _write(tmp_path: Path, data: Any, name: str = "p.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def _packet(**extra: Any) -> dict[str, Any]:
    packet: dict[str, Any] = {
        "id": "T-1",
        "subject": {"id": "patient-1"},
        "metaData": {"created": "2026-01-01T00:00:00Z", "phenopacketSchemaVersion": "2.0"},
    }
    packet.update(extra)
    return packet


def test_example_maps_every_field() -> None:
    imported = _one(EXAMPLE)
    assert detect(EXAMPLE) == "phenopacket"
    assert imported.profile == {
        "id": "EX-CRC-PXF-01",
        "tumour": {"type": "COADREAD"},
        "alterations": [
            {"gene": "KRAS", "change": "p.Gly12Cys"},
            {"gene": "TP53", "change": "p.Arg175His"},
        ],
        "biomarkers": {"tmb": 4.2},
        "therapies": [{
            "agents": ["oxaliplatin", "fluorouracil", "leucovorin calcium"],
            "start": "2025-02-01",
            "end": "2025-10-20",
            "response": "PD",
        }],
    }
    assert imported.source.file == str(EXAMPLE)
    assert imported.source.record == "crc-patient-01"
    assert [(u.item, u.reason) for u in imported.unmapped] == [
        ('subject.sex: "FEMALE"', "demographics are not part of a profile"),
    ]


def test_example_validates_with_the_profile_loader(recommender: Recommender) -> None:
    profile = load_profile(_one(EXAMPLE).profile, recommender.kb.vocabulary)
    assert profile.tumour.type == "COADREAD"
    assert [(a.gene, a.change) for a in profile.alterations] == [("KRAS", "G12C"),
                                                                 ("TP53", "R175H")]
    assert profile.therapies[0].progressed
    result = recommender.evaluate(_one(EXAMPLE).profile)
    assert result.profile_id == "EX-CRC-PXF-01"


def test_import_is_deterministic() -> None:
    first = json.dumps(_one(EXAMPLE).model_dump(), sort_keys=True)
    assert first == json.dumps(_one(EXAMPLE).model_dump(), sort_keys=True)


def test_schema_example_round_trips_and_reports_what_it_cannot_map() -> None:
    from google.protobuf import json_format
    from phenopackets import Phenopacket

    original = json.loads(COVID.read_text(encoding="utf-8"))
    message = json_format.ParseDict(original, Phenopacket())
    assert json_format.MessageToDict(message) == original

    imported = _one(COVID)
    assert "tumour" not in imported.profile
    assert imported.profile["therapies"][0] == {
        "agents": ["hydroxychloroquine"], "start": "2020-03-20", "end": "2020-03-22"}
    items = [u.item for u in imported.unmapped]
    assert "diseases[0]: MONDO:0005015 diabetes mellitus" in items
    assert "diseases[2]: MONDO:0100096 COVID-19" in items
    assert sum(i.startswith("phenotypicFeatures[") for i in items) == 11
    assert sum(i.startswith("measurements[") for i in items) == 2
    assert any(i.startswith("medicalActions[0].procedure") for i in items)
    assert any(i.startswith("medicalActions[1].treatment.routeOfAdministration") for i in items)
    assert any(i.startswith("medicalActions[2].treatment.doseIntervals") for i in items)


def test_yaml_phenopacket(tmp_path: Path) -> None:
    import yaml

    data = json.loads(EXAMPLE.read_text(encoding="utf-8"))
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert detect(path) == "phenopacket"
    assert _one(path).profile == _one(EXAMPLE).profile


def test_copy_number_stage_msi_and_responses(tmp_path: Path) -> None:
    def variant(symbol: str, so: str, label: str) -> dict[str, Any]:
        return {"variantInterpretation": {"variationDescriptor": {
            "id": symbol, "geneContext": {"valueId": "x", "symbol": symbol},
            "structuralType": {"id": so, "label": label}}}}

    packet = _packet(
        diseases=[{"term": {"id": "ONCOTREE:STAD", "label": "Stomach Adenocarcinoma"},
                   "diseaseStage": [{"id": "X:1", "label": "Stage IVB"}]}],
        interpretations=[{"id": "i", "progressStatus": "SOLVED", "diagnosis": {
            "disease": {"id": "NCIT:C4004", "label": "Stomach Adenocarcinoma"},
            "genomicInterpretations": [
                variant("ERBB2", "SO:0001880", "feature_amplification"),
                variant("CDKN2A", "SO:0001743", "copy_number_loss"),
                variant("MYC", "SO:0001742", "copy_number_gain"),
                {"variantInterpretation": {"variationDescriptor": {
                    "id": "c-only", "geneContext": {"valueId": "x", "symbol": "TP53"},
                    "expressions": [{"syntax": "hgvs.c", "value": "NM_000546.6:c.524G>A"}]}}},
                {"gene": {"valueId": "HGNC:1", "symbol": "BRCA2"}},
            ]}}],
        biosamples=[{"id": "b", "measurements": [
            {"assay": {"id": "LOINC:81695-9", "label": "MSI"},
             "value": {"ontologyClass": {"id": "LOINC:LA26203-2", "label": "MSI-H"}}},
            {"assay": {"id": "X:2", "label": "PD-L1 combined positive score"},
             "value": {"quantity": {"value": 12}}},
        ]}],
        medicalActions=[
            {"treatment": {"agent": {"id": "NCIT:C1411", "label": "Paclitaxel"},
                           "doseIntervals": [{"interval": {"start": "2025-01-01T00:00:00Z",
                                                           "end": "2025-05-01T00:00:00Z"}}]},
             "responseToTreatment": {"id": "X:3", "label": "Partial Response"}},
            {"treatment": {"agent": {"id": "NCIT:C376", "label": "Cisplatin"}},
             "responseToTreatment": {"id": "X:4", "label": "Mixed response"},
             "treatmentTerminationReason": {"id": "X:5", "label": "Adverse event"}},
        ],
    )
    imported = _one(_write(tmp_path, packet))
    assert imported.profile["tumour"] == {"type": "STAD", "stage": "IVB"}
    assert imported.profile["alterations"] == [
        {"gene": "ERBB2", "type": "amplification"}, {"gene": "CDKN2A", "type": "loss"}]
    assert imported.profile["biomarkers"] == {"msi": "MSI-H", "pdl1_cps": 12}
    assert imported.profile["therapies"] == [
        {"agents": ["paclitaxel"], "start": "2025-01-01", "end": "2025-05-01", "response": "PR"},
        {"agents": ["cisplatin"]},
    ]
    reasons = {u.item.split(":")[0]: u.reason for u in imported.unmapped}
    gi = "interpretations[0].diagnosis.genomicInterpretations"
    assert "not necessarily an amplification" in reasons[f"{gi}[2].variantInterpretation."
                                                       "variationDescriptor"]
    assert "hgvs.p" in reasons[f"{gi}[3].variantInterpretation.variationDescriptor"]
    assert "names no alteration" in reasons[f"{gi}[4].gene"]
    assert "RECIST" in reasons["medicalActions[1].responseToTreatment"]
    assert "progression" in reasons["medicalActions[1].treatmentTerminationReason"]


def test_unmapped_diagnosis_codes(tmp_path: Path) -> None:
    packet = _packet(diseases=[
        {"term": {"id": "NCIT:C9296", "label": "Gastroesophageal Junction Adenocarcinoma"}},
        {"term": {"id": "NCIT:C4872", "label": "Breast Carcinoma"}},
        {"term": {"id": "SNOMEDCT:363406005", "label": "Malignant tumor of colon"}},
    ])
    imported = _one(_write(tmp_path, packet))
    assert "tumour" not in imported.profile
    reasons = [u.reason for u in imported.unmapped]
    assert "several OncoTree codes (EGC, GEJ)" in reasons[0]
    assert "not an OncoTree digestive-tract tumour" in reasons[1]
    assert reasons[2].startswith("SNOMEDCT diagnosis codes are not mapped")


def test_bad_json_is_refused_with_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"id": "x",\n "subject": }', encoding="utf-8")
    with pytest.raises(ProfileError) as err:
        list(import_path(path, "phenopacket"))
    assert f"{path}:2" in str(err.value)
    assert "not valid JSON" in str(err.value)
    assert isinstance(err.value, InputError) and err.value.exit_code == 2


def test_schema_error_names_file_record_and_field(tmp_path: Path) -> None:
    path = _write(tmp_path, _packet(subject={"id": "p", "sexx": "MALE"}))
    with pytest.raises(ProfileError) as err:
        list(import_path(path, "phenopacket"))
    message = str(err.value)
    assert str(path) in message and "T-1" in message and "sexx" in message


def test_not_an_object(tmp_path: Path) -> None:
    path = _write(tmp_path, [1, 2])
    with pytest.raises(ProfileError, match="JSON/YAML object"):
        list(import_path(path, "phenopacket"))
