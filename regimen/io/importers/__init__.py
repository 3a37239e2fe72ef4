"""Import standard inputs (Phenopackets, FHIR bundles, cBioPortal studies) as profiles."""

from __future__ import annotations

from regimen.io.importers.base import ImportedProfile, Source, Unmapped
from regimen.io.importers.registry import FORMATS, detect, import_path

__all__ = ["FORMATS", "ImportedProfile", "Source", "Unmapped", "detect", "import_path"]
