from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from regimen.errors import ProfileError
from regimen.io.importers import FORMATS, detect, import_path
from regimen.io.importers.base import (
    copy_number_type,
    protein_change,
    recist_response,
    stage_from_text,
    tumour_from_code,
)

ROOT = Path(__file__).resolve().parent.parent
IMPORTS = ROOT / "examples" / "imports"


def test_formats_and_detection() -> None:
    assert FORMATS == ("phenopacket", "fhir", "cbioportal")
    assert detect(IMPORTS / "crc-phenopacket.json") == "phenopacket"
    assert detect(IMPORTS / "gastric-fhir-bundle.json") == "fhir"
    assert detect(IMPORTS / "cbioportal-gi-study") == "cbioportal"


def test_undetectable_inputs(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"tumour": {"type": "COAD"}}), encoding="utf-8")
    with pytest.raises(ProfileError, match="cannot tell the import format"):
        detect(path)
    with pytest.raises(ProfileError, match="no such file"):
        detect(tmp_path / "missing.json")
    with pytest.raises(ProfileError, match="unknown import format 'vcf'"):
        list(import_path(IMPORTS / "crc-phenopacket.json", "vcf"))


def test_explicit_format_overrides_detection() -> None:
    with pytest.raises(ProfileError, match="expected a FHIR Bundle"):
        list(import_path(IMPORTS / "crc-phenopacket.json", "fhir"))


def test_missing_package_is_an_input_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "phenopackets", None)
    with pytest.raises(ProfileError) as err:
        list(import_path(IMPORTS / "crc-phenopacket.json"))
    assert "pip install 'regimen[phenopackets]'" in str(err.value)
    assert err.value.exit_code == 2
    monkeypatch.setitem(sys.modules, "fhir.resources.R4B.bundle", None)
    with pytest.raises(ProfileError, match=r"regimen\[fhir\]"):
        list(import_path(IMPORTS / "gastric-fhir-bundle.json"))


@pytest.mark.parametrize(("system", "code", "expected"), [
    ("ONCOTREE", "coad", "COAD"),
    ("http://oncotree.mskcc.org", "STAD", "STAD"),
    ("NCIT", "C5105", "COADREAD"),
    ("NCIT", "C4349", "COAD"),
    ("NCIT", "C4004", "STAD"),
    ("NCIT", "C3099", "HCC"),
    ("NCIT", "C8294", "PAAD"),
    ("NCIT", "C4436", "CHOL"),
    ("http://ncicb.nci.nih.gov/xml/owl/EVS/Thesaurus.owl", "C4024", "ESCC"),
])
def test_tumour_codes(system: str, code: str, expected: str) -> None:
    assert tumour_from_code(system, code) == (expected, "")


def test_tumour_codes_not_mapped() -> None:
    assert tumour_from_code("NCIT", "C9296")[0] is None  # EGC and GEJ share it
    assert tumour_from_code("NCIT", "C4872")[0] is None  # not a digestive tumour node
    code, reason = tumour_from_code("http://snomed.info/sct", "1")
    assert code is None and "OncoTree or NCIt" in reason


def test_shipped_mapping_is_small_and_traceable() -> None:
    path = ROOT / "regimen" / "io" / "importers" / "data" / "ncit_oncotree_gi.tsv"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[1].startswith("# Derived from OncoTree release oncotree_2025_10_03")
    rows = [line.split("\t") for line in lines if not line.startswith("#")][1:]
    assert 50 < len(rows) < 100
    assert ["C5105", "COADREAD", "Colorectal Adenocarcinoma"] in rows


@pytest.mark.parametrize(("raw", "expected"), [
    ("NP_004976.2:p.Gly12Cys", "p.Gly12Cys"),
    ("p.(Arg175His)", "p.Arg175His"),
    ("p.G12C", "p.G12C"),
    ("NM_004985.5:c.34G>T", None),
    ("p.?", None),
])
def test_protein_change(raw: str, expected: str | None) -> None:
    assert protein_change(raw) == expected


def test_small_mappings() -> None:
    assert copy_number_type("SO:0001880", "") == ("amplification", "")
    assert copy_number_type("SO:0001743", "") == ("loss", "")
    assert copy_number_type("SO:0001742", "copy_number_gain")[0] is None
    assert recist_response("Progressive Disease") == "PD"
    assert recist_response("stable-disease") == "SD"
    assert recist_response("Mixed response") is None
    assert stage_from_text("Stage IVB (AJCC 8)") == "IVB"
    assert stage_from_text("Stage 3 chronic kidney disease") is None
