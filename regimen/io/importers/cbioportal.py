"""cBioPortal study folders -> one profile per sample.

Follows the cBioPortal file formats (docs.cbioportal.org/file-formats):

- ``data_clinical_sample.txt`` (required) and ``data_clinical_patient.txt``: four
  header lines starting with ``#`` (display names, descriptions, datatypes,
  priorities), then the attribute names, then one row per sample / patient.
  ``ONCOTREE_CODE`` -> tumour; ``MSI_TYPE`` and ``TMB_NONSYNONYMOUS`` -> biomarkers.
- ``data_mutations*.txt`` (MAF): ``Hugo_Symbol``, ``Tumor_Sample_Barcode``,
  ``Variant_Classification``, ``HGVSp_Short``; ``t_alt_count`` / ``t_ref_count`` give
  the VAF.
- ``data_cna.txt`` (discrete): 2 = high-level amplification, -2 = deep loss.
- ``data_timeline_treatment.txt``: ``EVENT_TYPE`` TREATMENT rows with ``AGENT``; agents
  that start and stop on the same days form one regimen. Timeline days count from an
  anchor the format leaves to the study, so they are reported, not turned into dates.

Data files named by a meta file's ``data_filename`` are used when present.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from regimen.errors import ProfileError
from regimen.io.importers.base import Collector, ImportedProfile, Source, msi_status, protein_change

FORMAT = "cbioportal"

MAF_REQUIRED = ("Hugo_Symbol", "Tumor_Sample_Barcode", "Variant_Classification")
NOT_PROTEIN = {"Silent", "Intron", "3'UTR", "5'UTR", "3'Flank", "5'Flank", "IGR", "RNA",
               "lincRNA", "Splice_Region", "Splice_Site"}
SAMPLE_USED = {"SAMPLE_ID", "PATIENT_ID", "ONCOTREE_CODE", "MSI_TYPE", "TMB_NONSYNONYMOUS"}
# Study-level labels that repeat what ONCOTREE_CODE says.
SAMPLE_QUIET = {"CANCER_TYPE", "CANCER_TYPE_DETAILED"}
MSI_TYPE = {"stable": "MSS", "instable": "MSI-H"}  # MSIsensor categories used by cBioPortal
EMPTY = {"", "NA", "N/A", "NAN", "[NOT AVAILABLE]", "[UNKNOWN]", "[NOT APPLICABLE]"}


@dataclass
class Table:
    path: Path
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]]  # (line number, row)


@dataclass
class Sample:
    sample: str
    patient: str
    line: int
    row: dict[str, str]
    alterations: list[dict[str, Any]] = field(default_factory=list)
    unmapped: Collector = field(default_factory=Collector)


def _error(path: Path, message: str, *, line: int | None = None, record: str | None = None,
           hint: str | None = None) -> ProfileError:
    return ProfileError(message, source=str(path), line=line, field=record, hint=hint)


def _read(path: Path, *, clinical: bool = False) -> Table:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise _error(path, f"not UTF-8 text ({exc.reason})",
                     hint="save the file as UTF-8") from None
    start = 0
    if clinical:
        heads = 0
        while heads < len(lines) and lines[heads].startswith("#"):
            heads += 1
        if heads != 4:
            raise _error(path, f"a clinical file starts with 4 header lines beginning with '#' "
                         f"(display names, descriptions, datatypes, priorities); found {heads}",
                         line=heads + 1,
                         hint="add the four '#' lines above the attribute names")
        start = 4
    else:
        while start < len(lines) and lines[start].startswith("#"):
            start += 1
    if start >= len(lines):
        raise _error(path, "no header row", line=start + 1, hint="add the column names")
    columns = lines[start].split("\t")
    rows: list[tuple[int, dict[str, str]]] = []
    for number, text in enumerate(lines[start + 1:], start=start + 2):
        if not text.strip() or text.startswith("#"):
            continue
        cells = text.split("\t")
        if len(cells) > len(columns):
            raise _error(path, f"{len(cells)} fields where the header has {len(columns)}",
                         line=number, hint="check the tabs on this line")
        cells += [""] * (len(columns) - len(cells))
        rows.append((number, dict(zip(columns, (c.strip() for c in cells), strict=True))))
    return Table(path, columns, rows)


def _require(table: Table, *names: str) -> None:
    missing = [n for n in names if n not in table.columns]
    if missing:
        raise _error(table.path, f"missing required column(s) {', '.join(missing)}", line=None,
                     hint=f"the header has {', '.join(table.columns)}")


def _meta_files(folder: Path) -> dict[str, Path]:
    """Data files named by the study's meta files, keyed by their datatype."""
    found: dict[str, Path] = {}
    for meta in sorted(folder.glob("meta_*.txt")):
        fields: dict[str, str] = {}
        for line in meta.read_text(encoding="utf-8").splitlines():
            key, sep, value = line.partition(":")
            if sep:
                fields[key.strip()] = value.strip()
        kind = f"{fields.get('genetic_alteration_type', '')}/{fields.get('datatype', '')}"
        if fields.get("data_filename"):
            found.setdefault(kind, folder / fields["data_filename"])
    return found


def _find(folder: Path, metas: dict[str, Path], kind: str, *names: str) -> list[Path]:
    if kind in metas and metas[kind].is_file():
        return [metas[kind]]
    out: list[Path] = []
    for name in names:
        out += sorted(p for p in folder.glob(name) if p.is_file())
    return out


def _empty(value: str) -> bool:
    return value.strip().upper() in EMPTY


def import_study(folder: Path) -> Iterator[ImportedProfile]:
    metas = _meta_files(folder)
    sample_files = _find(folder, metas, "CLINICAL/SAMPLE_ATTRIBUTES", "data_clinical_sample.txt")
    if not sample_files:
        raise _error(folder, "no data_clinical_sample.txt in the study folder",
                     hint="a cBioPortal study needs the sample clinical file")
    table = _read(sample_files[0], clinical=True)
    _require(table, "PATIENT_ID", "SAMPLE_ID")
    samples: dict[str, Sample] = {}
    for line, row in table.rows:
        sid = row["SAMPLE_ID"]
        if not sid or not row["PATIENT_ID"]:
            raise _error(table.path, "empty SAMPLE_ID or PATIENT_ID", line=line,
                         hint="every sample row names its sample and patient")
        if sid in samples:
            raise _error(table.path, f"sample {sid} is listed twice", line=line,
                         record=f"sample {sid}")
        samples[sid] = Sample(sid, row["PATIENT_ID"], line, row)
    patients = _patients(folder, metas)
    therapies = _timeline(folder)
    for path in _find(folder, metas, "MUTATION_EXTENDED/MAF", "data_mutations*.txt"):
        _mutations(path, samples)
    for path in _find(folder, metas, "COPY_NUMBER_ALTERATION/DISCRETE", "data_cna.txt"):
        _cna(path, samples)
    for sample in samples.values():
        yield _profile(sample, patients.get(sample.patient, {}),
                       therapies.get(sample.patient, ([], [])), table.path)


def _patients(folder: Path, metas: dict[str, Path]) -> dict[str, dict[str, str]]:
    files = _find(folder, metas, "CLINICAL/PATIENT_ATTRIBUTES", "data_clinical_patient.txt")
    if not files:
        return {}
    table = _read(files[0], clinical=True)
    _require(table, "PATIENT_ID")
    return {row["PATIENT_ID"]: row for _, row in table.rows}


def _mutations(path: Path, samples: dict[str, Sample]) -> None:
    table = _read(path)
    _require(table, *MAF_REQUIRED)
    for line, row in table.rows:
        sid = row["Tumor_Sample_Barcode"]
        if sid not in samples:
            raise _error(path, f"sample {sid} is not in the sample clinical file", line=line,
                         record=f"sample {sid}", hint="add it to data_clinical_sample.txt")
        sample = samples[sid]
        gene = row["Hugo_Symbol"]
        kind = row["Variant_Classification"]
        hgvs = row.get("HGVSp_Short", "")
        item = f"{path.name}:{line}: {gene} {hgvs or kind}".strip()
        if kind in NOT_PROTEIN:
            sample.unmapped.add(item, f"{kind}: no protein change for regimen to match")
            continue
        change = protein_change(hgvs) if hgvs else None
        if change is None:
            sample.unmapped.add(item, "no HGVSp_Short protein change")
            continue
        alteration: dict[str, Any] = {"gene": gene, "change": change}
        vaf = _vaf(row, path, line, sid)
        if vaf is not None:
            alteration["vaf"] = vaf
        sample.alterations.append(alteration)


def _vaf(row: dict[str, str], path: Path, line: int, sid: str) -> float | None:
    alt, ref = row.get("t_alt_count", ""), row.get("t_ref_count", "")
    if _empty(alt) or _empty(ref):
        return None
    try:
        alt_n, ref_n = float(alt), float(ref)
    except ValueError:
        raise _error(path, f"t_alt_count {alt!r} / t_ref_count {ref!r} are not numbers",
                     line=line, record=f"sample {sid}",
                     hint="give read counts, or leave both empty") from None
    if alt_n < 0 or ref_n < 0 or alt_n + ref_n == 0:
        return None
    return round(alt_n / (alt_n + ref_n), 4)


def _cna(path: Path, samples: dict[str, Sample]) -> None:
    table = _read(path)
    _require(table, "Hugo_Symbol")
    columns = [c for c in table.columns if c not in {"Hugo_Symbol", "Entrez_Gene_Id"}]
    for sid in columns:
        if sid not in samples:
            raise _error(path, f"sample {sid} is not in the sample clinical file", line=None,
                         record=f"column {sid}", hint="add it to data_clinical_sample.txt")
    for line, row in table.rows:
        gene = row["Hugo_Symbol"]
        for sid in columns:
            raw = row[sid]
            if _empty(raw):
                continue
            try:
                level = float(raw)
            except ValueError:
                raise _error(path, f"copy-number value {raw!r} of {gene} is not a number",
                             line=line, record=f"sample {sid}",
                             hint="discrete values are -2, -1, 0, 1, 2 (or NA)") from None
            if level == 2:
                samples[sid].alterations.append({"gene": gene, "type": "amplification"})
            elif level == -2:
                samples[sid].alterations.append({"gene": gene, "type": "loss"})
            elif level in (-1.5, -1, 1):
                samples[sid].unmapped.add(
                    f"{path.name}:{line}: {gene} {raw}",
                    "only high-level amplification (2) and deep loss (-2) are alterations")
            elif level != 0:
                raise _error(path, f"copy-number value {raw!r} of {gene} is not discrete",
                             line=line, record=f"sample {sid}",
                             hint="discrete values are -2, -1, 0, 1, 2 (or NA)")


Timeline = tuple[list[dict[str, Any]], list[tuple[str, str]]]


def _timeline(folder: Path) -> dict[str, Timeline]:
    files = sorted(folder.glob("data_timeline_treatment*.txt"))
    out: dict[str, Timeline] = {}
    groups: dict[str, dict[tuple[int, int | None], list[str]]] = {}
    for path in files:
        table = _read(path)
        _require(table, "PATIENT_ID", "START_DATE", "EVENT_TYPE")
        for line, row in table.rows:
            patient = row["PATIENT_ID"]
            _, unmapped = out.setdefault(patient, ([], []))
            agent = row.get("AGENT", "")
            if row["EVENT_TYPE"].upper() != "TREATMENT" or _empty(agent):
                unmapped.append((f"{path.name}:{line}: {row['EVENT_TYPE']} {agent}".strip(),
                                 "only TREATMENT events with an AGENT become therapies"))
                continue
            try:
                start = int(row["START_DATE"])
                stop = None if _empty(row.get("STOP_DATE", "")) else int(row["STOP_DATE"])
            except ValueError:
                raise _error(path, "START_DATE and STOP_DATE are whole days", line=line,
                             record=f"patient {patient}",
                             hint="give days relative to the study's anchor") from None
            key = (start, stop)
            agents = groups.setdefault(patient, {}).setdefault(key, [])
            if agent.lower() not in agents:
                agents.append(agent.lower())
            extra = {k: v for k, v in row.items()
                     if k not in {"PATIENT_ID", "START_DATE", "STOP_DATE", "EVENT_TYPE", "AGENT"}
                     and not _empty(v)}
            if extra:
                unmapped.append((f"{path.name}:{line}: " + ", ".join(
                    f"{k}={v}" for k, v in sorted(extra.items())), "not part of a profile"))
    for patient, by_days in groups.items():
        therapies, unmapped = out[patient]
        for (start, stop), agents in sorted(by_days.items(), key=lambda kv: (kv[0][0],
                                                                            kv[0][1] or 0)):
            therapies.append({"agents": agents})
            unmapped.append((f"therapy {'+'.join(agents)}: days {start} to "
                             f"{stop if stop is not None else 'ongoing'}",
                             "timeline days have no calendar anchor; dates left out"))
    return out


def _profile(sample: Sample, patient: dict[str, str], timeline: Timeline,
             file: Path) -> ImportedProfile:
    out = sample.unmapped
    row = sample.row
    profile: dict[str, Any] = {"id": sample.sample}
    code = row.get("ONCOTREE_CODE", "")
    if not _empty(code):
        profile["tumour"] = {"type": code.upper()}
    if sample.alterations:
        profile["alterations"] = sample.alterations
    biomarkers: dict[str, Any] = {}
    msi = row.get("MSI_TYPE", "")
    if not _empty(msi):
        status = MSI_TYPE.get(msi.strip().lower()) or msi_status(msi)
        if status:
            biomarkers["msi"] = status
        else:
            out.add(f"MSI_TYPE={msi}", "not Stable, Instable, MSI-H, MSI-L or MSS")
    tmb = row.get("TMB_NONSYNONYMOUS", "")
    if not _empty(tmb):
        try:
            biomarkers["tmb"] = float(tmb)
        except ValueError:
            raise _error(file, f"TMB_NONSYNONYMOUS {tmb!r} is not a number", line=sample.line,
                         record=f"sample {sample.sample}", hint="give mutations per Mb") from None
    if biomarkers:
        profile["biomarkers"] = biomarkers
    therapies, timeline_unmapped = timeline
    if therapies:
        profile["therapies"] = [dict(t) for t in therapies]
    for key in sorted(row):
        if key not in SAMPLE_USED | SAMPLE_QUIET and not _empty(row[key]):
            reason = ("an assay-specific score; MSI_TYPE gives the status" if key == "MSI_SCORE"
                      else "not part of a profile")
            out.add(f"sample {key}={row[key]}", reason)
    for key in sorted(patient):
        if key != "PATIENT_ID" and not _empty(patient[key]):
            out.add(f"patient {key}={patient[key]}", "not part of a profile")
    for item, reason in timeline_unmapped:
        out.add(item, reason)
    return ImportedProfile(
        profile=profile,
        source=Source(file=str(file.parent), record=f"sample {sample.sample} "
                                                    f"(patient {sample.patient})"),
        unmapped=out.items,
    )

