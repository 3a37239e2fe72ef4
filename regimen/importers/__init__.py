"""Import standard inputs (Phenopackets, FHIR bundles, cBioPortal studies) as profiles."""

from __future__ import annotations

from regimen.importers.base import ImportedProfile, Source, Unmapped
from regimen.importers.registry import FORMATS, detect, import_path

__all__ = ["FORMATS", "ImportedProfile", "Source", "Unmapped", "detect", "import_path"]
