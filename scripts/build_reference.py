#!/usr/bin/env python3
"""Build the compact reference files in ``reference/`` from the refdata snapshots.

Usage (from the repository root)::

    python scripts/build_reference.py ../shared/refdata

Reads the HGNC complete set, the OncoTree ``oncotree_2025_10_03`` flat table and the NCI
Thesaurus "Antineoplastic Agent" list, keeps only the columns the look-ups need and writes
``reference/hgnc.tsv``, ``reference/oncotree.tsv`` and ``reference/ncit_agents.tsv``. Each
file starts with ``#`` provenance lines (source, data version, licence, row count and this
command). Standard library only; the output is byte-identical for the same input.
MOAlmanac data is GPL-2.0 and is deliberately not read.
"""

from __future__ import annotations

import argparse
import csv
import sys
import unicodedata
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = Path("../shared/refdata")
COMMAND = "python scripts/build_reference.py ../shared/refdata"

# Provenance, as recorded in the refdata README (sections 1, 2 and 3b).
HGNC_PROVENANCE = (
    "source: maximilianh/phenotypes@0236d05ae3c522657167250a4868bcb776f4d04e:"
    "data/hgnc_complete_set.txt.gz (HGNC complete set)",
    "data version: HGNC complete set of about 2024-10-18 (latest date_modified); "
    "approved entries only",
    "licence: CC0 (HGNC, genenames.org). Please cite: Genenames.org: the HGNC resources "
    "in 2023, Nucleic Acids Research",
    "locus_group: coding = protein-coding gene, pseudo = pseudogene, ncrna = non-coding RNA, "
    "other = other; alias and previous symbols are |-separated",
)
ONCOTREE_PROVENANCE = (
    "source: cBioPortal/oncotree@b362db70f6472fb6349329d1ef6d8f3dcef7d083:"
    "trees/oncotree_2025_10_03.json (flattened depth-first, siblings sorted by name)",
    "data version: OncoTree release oncotree_2025_10_03 (latest stable from 2025-10-09)",
    "licence: CC BY 4.0. Attribution: Memorial Sloan Kettering Cancer Center, OncoTree "
    "(oncotree.mskcc.org)",
)
NCIT_PROVENANCE = (
    "source: oncokb/oncokb@25097ddd2df7426b796e1c0e298c92b951097cf2:"
    "core/src/main/resources/data/Antineoplastic_Agent.txt (NCI Thesaurus export)",
    "data version: NCIt 'Antineoplastic Agent' list of about June 2019 (two 2020 edits: "
    "C128799 renamed Trastuzumab Deruxtecan; synonym Selpercatinib on C134987)",
    "licence: CC BY 4.0. Attribution: NCI Thesaurus, NCI Enterprise Vocabulary Services",
)

LOCUS_GROUPS = {
    "protein-coding gene": "coding",
    "pseudogene": "pseudo",
    "non-coding RNA": "ncrna",
    "other": "other",
}


def _clean(text: str) -> str:
    """One line of text: no tabs or newlines, NFC, stripped."""
    text = unicodedata.normalize("NFC", text)
    return " ".join(text.replace("\t", " ").split())


def _split(field: str) -> list[str]:
    return [_clean(part) for part in field.split("|") if _clean(part)]


def _key(text: str) -> str:
    """Key used only to drop duplicate synonyms (the rule of regimen.knowledge.reference)."""
    text = unicodedata.normalize("NFKC", text).casefold()
    return "".join(ch for ch in text if not ch.isspace() and ch not in "-_")


def _write(path: Path, provenance: Iterable[str], header: list[str],
           rows: list[list[str]]) -> None:
    lines = [f"# {line}" for line in provenance]
    lines.append(f"# rows: {len(rows)}")
    lines.append(f"# regenerate: {COMMAND}")
    lines.append("\t".join(header))
    lines.extend("\t".join(row) for row in rows)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8", newline="\n")


def build_hgnc(source: Path) -> tuple[list[str], list[list[str]]]:
    rows: list[list[str]] = []
    with (source / "hgnc_complete_set.txt").open(encoding="utf-8", newline="") as handle:
        for record in csv.DictReader(handle, delimiter="\t"):
            if record["status"] != "Approved":
                continue
            symbol = _clean(record["symbol"])
            aliases = sorted(set(_split(record["alias_symbol"])) - {symbol})
            previous = sorted(set(_split(record["prev_symbol"])) - {symbol})
            rows.append([symbol, LOCUS_GROUPS[record["locus_group"]],
                         "|".join(aliases), "|".join(previous)])
    rows.sort(key=lambda row: row[0])
    return ["symbol", "locus_group", "alias_symbols", "previous_symbols"], rows


def build_oncotree(source: Path) -> tuple[list[str], list[list[str]]]:
    header = ["code", "name", "main_type", "tissue", "parent", "level"]
    rows: list[list[str]] = []
    with (source / "oncotree_2025_10_03.tsv").open(encoding="utf-8", newline="") as handle:
        for record in csv.DictReader(handle, delimiter="\t"):
            rows.append([_clean(record[column]) for column in header])
    # Keep the official depth-first order: a parent always precedes its children.
    return header, rows


def build_ncit(source: Path) -> tuple[list[str], list[list[str]]]:
    rows: list[list[str]] = []
    path = source / "drugs-ncit-antineoplastic.tsv"
    with path.open(encoding="utf-8", newline="") as handle:
        for record in csv.DictReader(handle, delimiter="\t"):
            code = _clean(record["Code"])
            preferred = _clean(record["NCIt Preferred Name"])
            seen = {_key(preferred)}
            synonyms: list[str] = []
            for synonym in sorted(_split(record["Synonyms"])):
                key = _key(synonym)
                if key and key not in seen:
                    seen.add(key)
                    synonyms.append(synonym)
            rows.append([code, preferred, "|".join(synonyms)])
    rows.sort(key=lambda row: (int(row[0][1:]) if row[0][1:].isdigit() else 0, row[0]))
    return ["ncit_code", "preferred_name", "synonyms"], rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", nargs="?", type=Path, default=DEFAULT_SOURCE,
                        help="the refdata folder (default: ../shared/refdata)")
    parser.add_argument("--out", type=Path, default=REPO / "reference",
                        help="output directory (default: reference/ in the repository)")
    args = parser.parse_args(argv)
    source: Path = args.source
    if not (source / "README.md").is_file():
        parser.error(f"{source} does not look like the refdata folder (no README.md)")
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    for name, builder, provenance in (
        ("hgnc.tsv", build_hgnc, HGNC_PROVENANCE),
        ("oncotree.tsv", build_oncotree, ONCOTREE_PROVENANCE),
        ("ncit_agents.tsv", build_ncit, NCIT_PROVENANCE),
    ):
        header, rows = builder(source)
        _write(out / name, provenance, header, rows)
        print(f"{out / name}: {len(rows)} rows", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
