"""What every importer returns, and the mappings the importers share.

An importer turns one source (a file or a study folder) into one
:class:`ImportedProfile` per patient or sample. The profile is a plain dict in
regimen's own profile shape; it is not validated here (the profile loader does
that and resolves gene, agent and tumour names). Everything the importer saw and
could not map is listed in ``unmapped`` with the reason, never dropped silently.
"""

from __future__ import annotations

import csv
import re
from functools import cache
from importlib import resources
from typing import Any

from regimen.errors import ProfileError
from regimen.models import Model


class Unmapped(Model):
    """One item of the source that has no place in the profile, and why."""

    item: str
    reason: str


class Source(Model):
    """Where an imported profile came from: the file and the record in it."""

    file: str
    record: str


class ImportedProfile(Model):
    profile: dict[str, Any]
    source: Source
    unmapped: list[Unmapped] = []


class Collector:
    """Accumulates unmapped items for one record, in the order they were seen."""

    def __init__(self) -> None:
        self.items: list[Unmapped] = []

    def add(self, item: str, reason: str) -> None:
        self.items.append(Unmapped(item=item, reason=reason))


def missing_package(package: str, extra: str, fmt: str) -> ProfileError:
    return ProfileError(
        f"reading {fmt} needs the '{package}' package, which is not installed",
        hint=f"pip install 'regimen[{extra}]'",
    )


# --- tumour codes -----------------------------------------------------------------

NCIT_SYSTEMS = ("ncit", "ncicb.nci.nih.gov", "nci thesaurus", "obo/ncit")
ONCOTREE_SYSTEMS = ("oncotree",)


@cache
def _ncit_to_oncotree() -> dict[str, tuple[str, ...]]:
    table: dict[str, list[str]] = {}
    text = resources.files("regimen.io.importers").joinpath("data/ncit_oncotree_gi.tsv").read_text(
        encoding="utf-8"
    )
    rows = csv.DictReader(
        (line for line in text.splitlines() if not line.startswith("#")), delimiter="\t"
    )
    for row in rows:
        table.setdefault(row["nci"], []).append(row["oncotree"])
    return {k: tuple(sorted(v)) for k, v in table.items()}


def tumour_from_code(system: str, code: str) -> tuple[str | None, str]:
    """An OncoTree code for a coded diagnosis, or ``None`` and the reason.

    ``system`` is a FHIR coding system URL or a CURIE prefix (``NCIT``, ``ONCOTREE``).
    """
    low = system.lower()
    if any(s in low for s in ONCOTREE_SYSTEMS):
        return code.strip().upper(), ""
    if any(s in low for s in NCIT_SYSTEMS) or low == "nci":
        codes = _ncit_to_oncotree().get(code.strip().upper())
        if not codes:
            return None, (f"NCIt {code} is not an OncoTree digestive-tract tumour "
                          "(OncoTree oncotree_2025_10_03 nci cross-references)")
        if len(codes) > 1:
            return None, (f"NCIt {code} is the cross-reference of several OncoTree codes "
                          f"({', '.join(codes)}); give the OncoTree code")
        return codes[0], ""
    return None, (f"{system or 'uncoded'} diagnosis codes are not mapped; "
                  "give an OncoTree or NCIt code")


def split_curie(curie: str) -> tuple[str, str]:
    prefix, sep, local = curie.partition(":")
    return (prefix, local) if sep else ("", curie)


_STAGE = re.compile(r"\bstage\s+(0|I{1,3}V?|IV)([ABC]\d?)?\b", re.IGNORECASE)


def stage_from_text(text: str) -> str | None:
    """``Stage IVB`` -> ``IVB``; ``None`` when the text names no stage group."""
    match = _STAGE.search(text)
    if not match:
        return None
    return match.group(1).upper() + (match.group(2) or "").upper()


# --- variants ---------------------------------------------------------------------


def protein_change(hgvs: str) -> str | None:
    """``NP_004976.2:p.Gly12Cys`` -> ``p.Gly12Cys``; ``None`` for a non-protein expression."""
    text = hgvs.strip()
    if ":" in text:
        text = text.split(":", 1)[1]
    text = text.strip()
    if not text.startswith("p."):
        return None
    body = text[2:].strip("()")
    if not body or body in {"?", "=", "0"}:
        return None
    return "p." + body


# Sequence Ontology terms for copy number (verified against SO term names).
SO_COPY_NUMBER = {
    "SO:0001880": "amplification",  # feature_amplification
    "SO:0001743": "loss",  # copy_number_loss
}
SO_GAIN = "SO:0001742"  # copy_number_gain: not necessarily an amplification


def copy_number_type(code: str, label: str) -> tuple[str | None, str]:
    code = code.strip().upper().replace("_", ":")
    if code in SO_COPY_NUMBER:
        return SO_COPY_NUMBER[code], ""
    low = label.strip().lower().replace("_", " ")
    if code == SO_GAIN or low == "copy number gain":
        return None, ("a copy-number gain is not necessarily an amplification; "
                      "use SO:0001880 feature_amplification for an amplification")
    if low in {"amplification", "feature amplification", "gene amplification"}:
        return "amplification", ""
    if low in {"copy number loss", "deletion", "homozygous deletion", "deep deletion"}:
        return "loss", ""
    return None, "structural type is not a copy-number amplification or loss"


# --- responses --------------------------------------------------------------------

_RESPONSES = {
    "cr": "CR", "complete response": "CR", "complete remission": "CR",
    "pr": "PR", "partial response": "PR", "partial remission": "PR",
    "sd": "SD", "stable disease": "SD",
    "pd": "PD", "progressive disease": "PD", "disease progression": "PD",
    "progression": "PD",
}


def recist_response(text: str) -> str | None:
    """A RECIST category from a textual response; ``None`` when it is not one."""
    key = " ".join(text.strip().lower().replace("_", " ").replace("-", " ").split())
    key = key.removeprefix("recist ").removesuffix(" (recist)")
    return _RESPONSES.get(key)


def msi_status(text: str) -> str | None:
    key = " ".join(text.strip().lower().replace("_", " ").replace("-", " ").split())
    return {
        "msi h": "MSI-H", "msi high": "MSI-H", "microsatellite instability high": "MSI-H",
        "high microsatellite instability": "MSI-H",
        "msi l": "MSI-L", "msi low": "MSI-L", "microsatellite instability low": "MSI-L",
        "mss": "MSS", "microsatellite stable": "MSS", "stable": "MSS",
    }.get(key)


def day(value: str) -> str:
    """The calendar date of an ISO-8601 date or date-time (``2025-02-01T00:00:00Z``)."""
    return value[:10]


def group_therapies(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Agents given over the same interval form one regimen; oldest first.

    Each item has ``agents`` and optionally ``start``, ``end``, ``response``,
    ``response_date``. Items without a start are kept as separate therapies.
    """
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    loose: list[dict[str, Any]] = []
    for item in items:
        if not item.get("start"):
            loose.append(dict(item))
            continue
        key = (item["start"], item.get("end") or "")
        group = groups.setdefault(key, {"agents": []})
        for agent in item["agents"]:
            if agent not in group["agents"]:
                group["agents"].append(agent)
        for field in ("start", "end", "response", "response_date"):
            if item.get(field) and not group.get(field):
                group[field] = item[field]
    ordered = [groups[k] for k in sorted(groups)]
    out: list[dict[str, Any]] = []
    for group in ordered + loose:
        therapy: dict[str, Any] = {"agents": group["agents"]}
        for field in ("start", "end", "response", "response_date"):
            if group.get(field):
                therapy[field] = group[field]
        out.append(therapy)
    return out
