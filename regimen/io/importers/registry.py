"""Which importer reads a path, and one entry point for all of them."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import yaml

from regimen.errors import ProfileError
from regimen.io.importers.base import ImportedProfile

FORMATS: tuple[str, ...] = ("phenopacket", "fhir", "cbioportal")


def _importer(fmt: str) -> Callable[[Path], Iterator[ImportedProfile]]:
    if fmt == "phenopacket":
        import regimen.io.importers.phenopacket as phenopacket

        return phenopacket.import_file
    if fmt == "fhir":
        import regimen.io.importers.fhir as fhir

        return fhir.import_file
    if fmt == "cbioportal":
        import regimen.io.importers.cbioportal as cbioportal

        return cbioportal.import_study
    raise ProfileError(f"unknown import format {fmt!r}", hint=f"use one of {', '.join(FORMATS)}")


def _looks_like_phenopacket(data: object) -> bool:
    return isinstance(data, dict) and (
        "phenopacketSchemaVersion" in (data.get("metaData") or {})
        or ("subject" in data and "metaData" in data)
    )


def detect(path: str | Path) -> str:
    """The import format of ``path`` from its content, or a ProfileError."""
    path = Path(path)
    if path.is_dir():
        if (path / "meta_study.txt").is_file() or (path / "data_clinical_sample.txt").is_file():
            return "cbioportal"
        raise ProfileError("a folder that is not a cBioPortal study", source=str(path),
                           hint="a study folder has meta_study.txt and data_clinical_sample.txt")
    if not path.is_file():
        raise ProfileError("no such file or folder", source=str(path))
    suffix = path.suffix.lower()
    text = path.read_text(encoding="utf-8", errors="replace")
    data: object = None
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProfileError(f"not valid JSON: {exc.msg}", source=str(path), line=exc.lineno,
                               hint="fix the JSON syntax") from None
    elif suffix in {".yaml", ".yml"}:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            data = None
    if isinstance(data, dict) and "resourceType" in data:
        return "fhir"
    if _looks_like_phenopacket(data):
        return "phenopacket"
    raise ProfileError("cannot tell the import format", source=str(path),
                       hint="give a Phenopacket v2 (JSON/YAML), a FHIR Bundle (JSON) or a "
                       "cBioPortal study folder, or name the format")


def import_path(path: str | Path, fmt: str | None = None) -> Iterator[ImportedProfile]:
    """Every profile in ``path``: one per phenopacket, FHIR patient or cBioPortal sample."""
    path = Path(path)
    yield from _importer(fmt or detect(path))(path)
