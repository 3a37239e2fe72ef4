"""GA4GH Phenopackets v2 (JSON or YAML) -> one profile per phenopacket.

The document is parsed with the ``phenopackets`` package's protobuf classes, so a
field the schema does not have, or a value of the wrong type, is refused with the
schema's own message.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from regimen.errors import ProfileError
from regimen.io.importers.base import (
    Collector,
    ImportedProfile,
    Source,
    copy_number_type,
    day,
    group_therapies,
    missing_package,
    msi_status,
    protein_change,
    recist_response,
    split_curie,
    stage_from_text,
    tumour_from_code,
)

FORMAT = "phenopacket"

# LOINC codes of the biomarkers regimen reads (assay.id of a Measurement).
TMB_LOINC = "94076-7"  # Mutations/Megabase [# Ratio] in Tumor
MSI_LOINC = "81695-9"  # Microsatellite instability [Interpretation] in Cancer specimen


def _message_dict(data: Any, path: Path) -> dict[str, Any]:
    try:
        from google.protobuf import json_format
        from phenopackets import Phenopacket
    except ImportError:
        raise missing_package("phenopackets", "phenopackets", "Phenopackets") from None
    if not isinstance(data, dict):
        raise ProfileError("a phenopacket is a JSON/YAML object", source=str(path),
                           hint="see https://phenopacket-schema.readthedocs.io")
    try:
        message = json_format.ParseDict(data, Phenopacket())
    except json_format.ParseError as exc:
        raise ProfileError(f"not a valid Phenopacket v2: {exc}", source=str(path),
                           field=str(data.get("id") or "phenopacket"),
                           hint="fix the field named above to match the Phenopacket v2 "
                           "schema") from None
    return json_format.MessageToDict(message)


def _plain(value: Any) -> Any:
    """YAML timestamps back to the RFC 3339 text the protobuf parser expects."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return f"{value.isoformat()}T00:00:00Z"
    return value


def read(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in {".yaml", ".yml"}:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            raise ProfileError(f"not valid YAML: {getattr(exc, 'problem', exc)}",
                               source=str(path), line=mark.line + 1 if mark else None,
                               hint="fix the YAML syntax") from None
        data = _plain(data)
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProfileError(f"not valid JSON: {exc.msg}", source=str(path), line=exc.lineno,
                               hint="fix the JSON syntax") from None
    return _message_dict(data, path)


def _term(oc: dict[str, Any]) -> str:
    return f"{oc.get('id', '')} {oc.get('label', '')}".strip()


def import_file(path: Path) -> Iterator[ImportedProfile]:
    packet = read(path)
    yield convert(packet, str(path))


def convert(packet: dict[str, Any], file: str) -> ImportedProfile:
    out = Collector()
    record = str(packet.get("subject", {}).get("id") or packet.get("id", ""))
    profile: dict[str, Any] = {}
    if packet.get("id"):
        profile["id"] = packet["id"]
    tumour = _tumour(packet, out)
    if tumour:
        profile["tumour"] = tumour
    alterations = _alterations(packet, out)
    if alterations:
        profile["alterations"] = alterations
    biomarkers = _biomarkers(packet, out)
    if biomarkers:
        profile["biomarkers"] = biomarkers
    therapies = _therapies(packet, out)
    if therapies:
        profile["therapies"] = therapies
    _rest(packet, out)
    return ImportedProfile(profile=profile, source=Source(file=file, record=record),
                           unmapped=out.items)


def _tumour(packet: dict[str, Any], out: Collector) -> dict[str, Any] | None:
    candidates: list[tuple[str, dict[str, Any]]] = []
    for i, disease in enumerate(packet.get("diseases", [])):
        where = f"diseases[{i}]"
        if disease.get("excluded"):
            out.add(f"{where}: {_term(disease.get('term', {}))}",
                    "an excluded disease is not part of a profile")
            continue
        candidates.append((where, disease))
    for i, interp in enumerate(packet.get("interpretations", [])):
        term = interp.get("diagnosis", {}).get("disease")
        if term:
            candidates.append((f"interpretations[{i}].diagnosis.disease", {"term": term}))
    tumour: dict[str, Any] | None = None
    for where, disease in candidates:
        term = disease.get("term", {})
        prefix, local = split_curie(term.get("id", ""))
        code, reason = tumour_from_code(prefix, local)
        if code is None:
            out.add(f"{where}: {_term(term)}", reason)
            continue
        if tumour is None:
            tumour = {"type": code}
        elif tumour["type"] != code:
            out.add(f"{where}: {_term(term)}",
                    f"a second tumour type; the profile holds one ({tumour['type']})")
        for j, stage in enumerate(disease.get("diseaseStage", [])):
            group = stage_from_text(stage.get("label", ""))
            if group and "stage" not in tumour:
                tumour["stage"] = group
            elif not group:
                out.add(f"{where}.diseaseStage[{j}]: {_term(stage)}", "not a stage group")
        for key in ("clinicalTnmFinding", "primarySite", "laterality", "onset", "resolution"):
            if key in disease:
                out.add(f"{where}.{key}: {json.dumps(disease[key], sort_keys=True)}",
                        "not part of a profile")
    return tumour


def _alterations(packet: dict[str, Any], out: Collector) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for i, interp in enumerate(packet.get("interpretations", [])):
        diagnosis = interp.get("diagnosis", {})
        for j, gi in enumerate(diagnosis.get("genomicInterpretations", [])):
            where = f"interpretations[{i}].diagnosis.genomicInterpretations[{j}]"
            if gi.get("interpretationStatus") == "REJECTED":
                out.add(where, "interpretation status REJECTED")
                continue
            if "gene" in gi:
                out.add(f"{where}.gene: {gi['gene'].get('symbol', '')}",
                        "a gene without a variant names no alteration")
                continue
            vi = gi.get("variantInterpretation", {})
            desc = vi.get("variationDescriptor", {})
            alteration = _variant(desc, f"{where}.variantInterpretation.variationDescriptor", out)
            if alteration:
                found.append(alteration)
            for key in ("acmgPathogenicityClassification", "therapeuticActionability"):
                if key in vi:
                    out.add(f"{where}.variantInterpretation.{key}: {vi[key]}",
                            "not part of a profile")
    return found


def _variant(desc: dict[str, Any], where: str, out: Collector) -> dict[str, Any] | None:
    gene = desc.get("geneContext", {}).get("symbol")
    label = desc.get("label") or desc.get("id") or where
    if not gene:
        out.add(f"{where}: {label}", "no gene context (geneContext.symbol)")
        return None
    alteration: dict[str, Any] = {"gene": gene}
    structural = desc.get("structuralType")
    if structural:
        kind, reason = copy_number_type(structural.get("id", ""), structural.get("label", ""))
        if kind is None:
            out.add(f"{where}: {gene} {_term(structural)}", reason)
            return None
        alteration["type"] = kind
    else:
        changes = [
            protein_change(e.get("value", ""))
            for e in desc.get("expressions", [])
            if e.get("syntax", "").lower() in {"hgvs.p", "hgvs"}
        ]
        change = next((c for c in changes if c), None)
        if change is None:
            exprs = ", ".join(f"{e.get('syntax')}={e.get('value')}"
                              for e in desc.get("expressions", [])) or "none"
            out.add(f"{where}: {gene} ({exprs})",
                    "no protein-level HGVS expression (hgvs.p); regimen matches protein changes")
            return None
        alteration["change"] = change
    for key in ("vcfRecord", "allelicState", "moleculeContext", "extensions"):
        if key in desc and not (key == "moleculeContext" and desc[key] == "genomic"):
            out.add(f"{where}.{key}: {json.dumps(desc[key], sort_keys=True)}",
                    "not part of a profile")
    return alteration


def _biomarkers(packet: dict[str, Any], out: Collector) -> dict[str, Any]:
    biomarkers: dict[str, Any] = {}
    measurements: list[tuple[str, dict[str, Any]]] = [
        (f"measurements[{i}]", m) for i, m in enumerate(packet.get("measurements", []))
    ]
    for i, sample in enumerate(packet.get("biosamples", [])):
        measurements += [(f"biosamples[{i}].measurements[{j}]", m)
                         for j, m in enumerate(sample.get("measurements", []))]
        for key in ("histologicalDiagnosis", "tumorProgression", "tumorGrade",
                    "pathologicalStage", "pathologicalTnmFinding", "diagnosticMarkers",
                    "sampledTissue", "phenotypicFeatures"):
            if key in sample:
                out.add(f"biosamples[{i}].{key}: {json.dumps(sample[key], sort_keys=True)}",
                        "biosample annotations are not part of a profile")
    for where, m in measurements:
        assay = m.get("assay", {})
        _, code = split_curie(assay.get("id", ""))
        label = assay.get("label", "").lower()
        quantity = m.get("value", {}).get("quantity", {})
        concept = m.get("value", {}).get("ontologyClass", {})
        if code == TMB_LOINC and "value" in quantity:
            biomarkers["tmb"] = quantity["value"]
        elif code == MSI_LOINC and concept and msi_status(concept.get("label", "")):
            biomarkers["msi"] = msi_status(concept.get("label", ""))
        elif "pd-l1" in label and "combined positive score" in label and "value" in quantity:
            biomarkers["pdl1_cps"] = quantity["value"]
        else:
            out.add(f"{where}: {_term(assay)} = {json.dumps(m.get('value', {}), sort_keys=True)}",
                    "not a measurement regimen reads (TMB LOINC 94076-7, MSI LOINC 81695-9 "
                    "with an MSI-H/MSI-L/MSS value, PD-L1 combined positive score)")
    return biomarkers


def _interval(treatment: dict[str, Any]) -> tuple[str | None, str | None]:
    starts: list[str] = []
    ends: list[str] = []
    for dose in treatment.get("doseIntervals", []):
        interval = dose.get("interval", {})
        if interval.get("start"):
            starts.append(day(interval["start"]))
        if interval.get("end"):
            ends.append(day(interval["end"]))
    return (min(starts) if starts else None, max(ends) if ends else None)


def _therapies(packet: dict[str, Any], out: Collector) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for i, action in enumerate(packet.get("medicalActions", [])):
        where = f"medicalActions[{i}]"
        treatment = action.get("treatment")
        if treatment is None:
            kind = next((k for k in ("procedure", "radiationTherapy", "therapeuticRegimen")
                         if k in action), "action")
            out.add(f"{where}.{kind}: {json.dumps(action[kind], sort_keys=True)}"
                    if kind in action else where,
                    "only drug treatments become therapies")
            continue
        agent = treatment.get("agent", {}).get("label", "").strip()
        if not agent:
            out.add(f"{where}.treatment: {_term(treatment.get('agent', {}))}",
                    "the agent has no label")
            continue
        item: dict[str, Any] = {"agents": [agent.lower()]}
        start, end = _interval(treatment)
        if start:
            item["start"] = start
        if end:
            item["end"] = end
        response = action.get("responseToTreatment")
        if response:
            category = recist_response(response.get("label", ""))
            if category:
                item["response"] = category
            else:
                out.add(f"{where}.responseToTreatment: {_term(response)}",
                        "not a RECIST response (CR, PR, SD, PD)")
        reason = action.get("treatmentTerminationReason")
        if reason:
            category = recist_response(reason.get("label", ""))
            if category == "PD" and "response" not in item:
                item["response"] = "PD"
            elif category != "PD":
                out.add(f"{where}.treatmentTerminationReason: {_term(reason)}",
                        "only progression is recorded as a therapy outcome")
        for key in ("routeOfAdministration", "drugType", "cumulativeDose"):
            if key in treatment:
                out.add(f"{where}.treatment.{key}: {json.dumps(treatment[key], sort_keys=True)}",
                        "dosing is not part of a profile")
        doses = [{k: v for k, v in d.items() if k != "interval"}
                 for d in treatment.get("doseIntervals", [])]
        if any(doses):
            out.add(f"{where}.treatment.doseIntervals: {json.dumps(doses, sort_keys=True)}",
                    "dosing is not part of a profile (the intervals give the dates)")
        for key in ("treatmentTarget", "treatmentIntent", "adverseEvents"):
            if key in action:
                out.add(f"{where}.{key}: {json.dumps(action[key], sort_keys=True)}",
                        "not part of a profile")
        items.append(item)
    return group_therapies(items)


def _rest(packet: dict[str, Any], out: Collector) -> None:
    subject = packet.get("subject", {})
    for key in sorted(subject):
        if key != "id":
            out.add(f"subject.{key}: {json.dumps(subject[key], sort_keys=True)}",
                    "demographics are not part of a profile")
    for i, feature in enumerate(packet.get("phenotypicFeatures", [])):
        out.add(f"phenotypicFeatures[{i}]: {_term(feature.get('type', {}))}",
                "phenotypic features are not part of a profile")
    for i, f in enumerate(packet.get("files", [])):
        out.add(f"files[{i}]: {f.get('uri', '')}", "files are not read")
