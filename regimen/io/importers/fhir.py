"""HL7 FHIR R4 / mCODE bundles (JSON) -> one profile per Patient in the bundle.

The bundle is validated with the ``fhir.resources`` R4B models (R4B shares R4's
Condition, Observation, MedicationStatement and MedicationAdministration, which mCODE
STU2-STU4 profile), so a misspelt element or a value of the wrong type is refused. The
mapping then reads the validated JSON:

- Condition: the primary cancer (OncoTree codes, NCIt codes through OncoTree's
  cross-references); ``stage.summary`` or a TNM stage-group Observation -> stage.
- Observation: genomic variants per the HL7 Genomics Reporting IG (LOINC 69548-6 with
  components gene studied 48018-6, amino-acid change 48005-3, allelic frequency
  81258-6, DNA change type 48019-4 for copy number); TMB (94076-7); MSI (81695-9);
  PD-L1 combined positive score; mCODE CancerDiseaseStatus (97509-4, or 88040-1 in
  STU1) -> therapy response. Variants and tumour-fraction results on a plasma /
  cell-free DNA specimen become ctDNA draws, one per date.
- MedicationStatement / MedicationAdministration: agents and effective period; agents
  over the same period form one regimen.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from regimen.errors import ProfileError
from regimen.io.importers.base import (
    Collector,
    ImportedProfile,
    Source,
    copy_number_type,
    day,
    missing_package,
    msi_status,
    protein_change,
    recist_response,
    stage_from_text,
    tumour_from_code,
)

FORMAT = "fhir"

LOINC = "http://loinc.org"
VARIANT = "69548-6"  # Genetic variant assessment
GENE_STUDIED = "48018-6"
AMINO_ACID_CHANGE = "48005-3"
DNA_CHANGE_TYPE = "48019-4"
ALLELIC_FREQUENCY = "81258-6"
TMB = "94076-7"
MSI = "81695-9"
DISEASE_STATUS = ("97509-4", "88040-1")
STAGE_GROUP = ("21908-9", "21902-2")  # TNM clinical / pathological stage group

# mCODE ConditionStatusTrendVS (SNOMED CT): the profile defines worsening as progressing.
STATUS_TREND = {"271299001": "PD", "359746009": "SD"}
STATUS_UNMAPPED = {
    "268910001": "'improved' does not say whether the response was partial or complete",
    "260415000": "'not detected' is not a RECIST assessment",
    "709137006": "'undetermined' is not a RECIST assessment",
}
RANK = {"CR": 0, "PR": 1, "SD": 2, "PD": 3}
CTDNA_SPECIMEN = ("plasma", "cell-free", "cell free", "cfdna", "ctdna")
ABSENT = ("LA9634-2", "absent", "not detected", "negative")
WITHDRAWN = {"cancelled", "entered-in-error"}

Resource = dict[str, Any]


def _load(path: Path) -> dict[str, Any]:
    try:
        from fhir.resources.R4B.bundle import Bundle
    except ImportError:
        raise missing_package("fhir.resources", "fhir", "FHIR bundles") from None
    from pydantic import ValidationError

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ProfileError(f"not valid JSON: {exc.msg}", source=str(path), line=exc.lineno,
                           hint="fix the JSON syntax") from None
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        got = data.get("resourceType") if isinstance(data, dict) else type(data).__name__
        raise ProfileError(f"expected a FHIR Bundle, got resourceType {got!r}", source=str(path),
                           field="resourceType",
                           hint="wrap the resources in a Bundle (type collection)")
    try:
        Bundle.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [str(p) for p in first["loc"]]
        record = "Bundle"
        if len(loc) > 1 and loc[0] == "entry" and loc[1].isdigit():
            entry = data.get("entry", [])[int(loc[1])]
            resource = entry.get("resource", {}) if isinstance(entry, dict) else {}
            kind = resource.get("resourceType", "?")
            record = f"entry[{loc[1]}] {kind}/{resource.get('id', '?')}"
        raise ProfileError(f"not a valid FHIR R4 bundle: {first['msg']}", source=str(path),
                           field=f"{record}: {'.'.join(loc)}",
                           hint="fix the element named above") from None
    return data


def import_file(path: Path) -> Iterator[ImportedProfile]:
    bundle = _load(path)
    yield from convert(bundle, str(path))


def _key_of(entry: dict[str, Any]) -> list[str]:
    resource = entry["resource"]
    keys = [f"{resource['resourceType']}/{resource.get('id', '')}"]
    if entry.get("fullUrl"):
        keys.append(entry["fullUrl"])
    return keys


def _codings(concept: dict[str, Any] | None) -> list[dict[str, Any]]:
    return list((concept or {}).get("coding", []))


def _text(concept: dict[str, Any] | None) -> str:
    concept = concept or {}
    if concept.get("text"):
        return str(concept["text"])
    for coding in _codings(concept):
        if coding.get("display"):
            return str(coding["display"])
        if coding.get("code"):
            return str(coding["code"])
    return ""


def _has_code(concept: dict[str, Any] | None, *codes: str) -> bool:
    return any(c.get("code") in codes for c in _codings(concept))


def _label(resource: Resource) -> str:
    return f"{resource['resourceType']}/{resource.get('id', '?')}"


def convert(bundle: dict[str, Any], file: str) -> Iterator[ImportedProfile]:
    entries = [e for e in bundle.get("entry", []) if isinstance(e.get("resource"), dict)]
    index: dict[str, Resource] = {}
    for entry in entries:
        for key in _key_of(entry):
            index[key] = entry["resource"]
    patients = [e for e in entries if e["resource"]["resourceType"] == "Patient"]
    owners: dict[str, list[Resource]] = {}
    orphans: list[Resource] = []
    patient_keys = {k: _label(p["resource"]) for p in patients for k in _key_of(p)}
    for entry in entries:
        resource = entry["resource"]
        if resource["resourceType"] in {"Patient", "Specimen", "Medication"}:
            continue
        ref = (resource.get("subject") or resource.get("patient") or {}).get("reference", "")
        if ref in patient_keys:
            owners.setdefault(patient_keys[ref], []).append(resource)
        elif len(patients) == 1:
            owners.setdefault(_label(patients[0]["resource"]), []).append(resource)
        else:
            orphans.append(resource)
    records = [(_label(p["resource"]), p["resource"]) for p in patients] or [
        (f"Bundle/{bundle.get('id', '?')}", None)]
    for label, patient in records:
        resources = owners.get(label, []) if patient is not None else orphans
        yield _profile(label, patient, resources,
                       orphans if patient is not None else [], index, file)


def _profile(label: str, patient: Resource | None, resources: list[Resource],
             orphans: list[Resource], index: dict[str, Resource], file: str) -> ImportedProfile:
    out = Collector()
    profile: dict[str, Any] = {}
    if patient is not None:
        profile["id"] = patient.get("id", "")
        for key in sorted(patient):
            if key not in {"resourceType", "id", "meta", "text"}:
                out.add(f"{label}.{key}: {json.dumps(patient[key], sort_keys=True)}",
                        "demographics are not part of a profile")
    tumour: dict[str, Any] = {}
    alterations: list[dict[str, Any]] = []
    biomarkers: dict[str, Any] = {}
    draws: dict[str, dict[str, Any]] = {}
    statuses: list[tuple[str, str, Resource]] = []  # (date, category, observation)
    medications: list[Resource] = []
    for resource in resources:
        kind = resource["resourceType"]
        where = _label(resource)
        if kind == "Condition":
            _condition(resource, where, tumour, out)
        elif kind == "Observation" and resource.get("status") in WITHDRAWN:
            out.add(f"{where}: status {resource['status']}", "not a valid result")
        elif kind == "Observation":
            _observation(resource, where, index, tumour, alterations, biomarkers, draws,
                         statuses, out)
        elif kind in {"MedicationStatement", "MedicationAdministration"}:
            medications.append(resource)
        else:
            out.add(where, f"{kind} resources are not read")
    for resource in orphans:
        out.add(_label(resource), "the resource names no patient of this bundle")
    if tumour:
        profile["tumour"] = tumour
    if alterations:
        profile["alterations"] = alterations
    if biomarkers:
        profile["biomarkers"] = biomarkers
    therapies = _therapies(medications, statuses, index, out)
    if therapies:
        profile["therapies"] = therapies
    if draws:
        profile["ctdna"] = [_draw(draws[d]) for d in sorted(draws)]
    return ImportedProfile(profile=profile, source=Source(file=file, record=label),
                           unmapped=out.items)


def _condition(resource: Resource, where: str, tumour: dict[str, Any], out: Collector) -> None:
    code = resource.get("code", {})
    reasons: list[str] = []
    mapped = None
    for coding in _codings(code):
        mapped, reason = tumour_from_code(coding.get("system", ""), coding.get("code", ""))
        if mapped:
            break
        reasons.append(reason)
    if mapped is None:
        out.add(f"{where}: {_text(code)}", "; ".join(reasons) or "the condition has no code")
        return
    if tumour.get("type") and tumour["type"] != mapped:
        out.add(f"{where}: {_text(code)}",
                f"a second tumour type; the profile holds one ({tumour['type']})")
        return
    tumour["type"] = mapped
    for i, stage in enumerate(resource.get("stage", [])):
        group = stage_from_text(_text(stage.get("summary")))
        if group and "stage" not in tumour:
            tumour["stage"] = group
        elif not group:
            out.add(f"{where}.stage[{i}]: {_text(stage.get('summary'))}", "not a stage group")


def _components(resource: Resource) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for component in resource.get("component", []):
        for coding in _codings(component.get("code")):
            if coding.get("code"):
                found.setdefault(coding["code"], component)
    return found


def _fraction(quantity: dict[str, Any]) -> float | None:
    if "value" not in quantity:
        return None
    value = float(quantity["value"])
    unit = str(quantity.get("code") or quantity.get("unit") or "")
    return round(value / 100, 6) if unit == "%" else value


def _is_ctdna(resource: Resource, index: dict[str, Resource]) -> bool:
    ref = (resource.get("specimen") or {}).get("reference", "")
    specimen = index.get(ref)
    text = _text(specimen.get("type")).lower() if specimen else ""
    return any(word in text for word in CTDNA_SPECIMEN)


def _observation(resource: Resource, where: str, index: dict[str, Resource],
                 tumour: dict[str, Any], alterations: list[dict[str, Any]],
                 biomarkers: dict[str, Any], draws: dict[str, dict[str, Any]],
                 statuses: list[tuple[str, str, Resource]], out: Collector) -> None:
    code = resource.get("code", {})
    name = _text(code)
    lowered = " ".join(_text(code).lower().split() + [
        str(c.get("display", "")).lower() for c in _codings(code)])
    effective = str(resource.get("effectiveDateTime") or "")
    value_text = _text(resource.get("valueCodeableConcept"))
    quantity = resource.get("valueQuantity") or {}
    components = _components(resource)
    if _has_code(code, VARIANT) or GENE_STUDIED in components:
        _variant(resource, where, components, index, alterations, draws, out)
    elif _has_code(code, TMB) and "value" in quantity:
        biomarkers["tmb"] = quantity["value"]
    elif _has_code(code, MSI) and msi_status(value_text):
        biomarkers["msi"] = msi_status(value_text)
    elif "pd-l1" in lowered and ("combined positive score" in lowered or "cps" in lowered) \
            and "value" in quantity:
        biomarkers["pdl1_cps"] = quantity["value"]
    elif _has_code(code, *STAGE_GROUP) and stage_from_text(value_text):
        if tumour.get("stage") is None:
            tumour["stage"] = stage_from_text(value_text)
    elif ("tumor fraction" in lowered or "tumour fraction" in lowered) and quantity:
        if not effective:
            out.add(f"{where}: {name}", "a ctDNA result without effectiveDateTime has no draw")
            return
        draw = draws.setdefault(day(effective), {"date": day(effective), "variants": []})
        draw["tumour_fraction"] = _fraction(quantity)
    elif _has_code(code, *DISEASE_STATUS):
        concept = resource.get("valueCodeableConcept")
        category = next((STATUS_TREND[c["code"]] for c in _codings(concept)
                         if c.get("code") in STATUS_TREND), None) or recist_response(value_text)
        if category is None or not effective:
            reason = next((STATUS_UNMAPPED[c["code"]] for c in _codings(concept)
                           if c.get("code") in STATUS_UNMAPPED),
                          "not a RECIST response or mCODE worsened/stable status")
            if not effective:
                reason = "a disease status without effectiveDateTime belongs to no therapy"
            out.add(f"{where}: {name} = {value_text}", reason)
            return
        statuses.append((day(effective), category, resource))
    else:
        shown = value_text or json.dumps(quantity, sort_keys=True)
        out.add(f"{where}: {name} = {shown}", "not an observation regimen reads")


def _variant(resource: Resource, where: str, components: dict[str, dict[str, Any]],
             index: dict[str, Resource], alterations: list[dict[str, Any]],
             draws: dict[str, dict[str, Any]], out: Collector) -> None:
    gene = _text(components.get(GENE_STUDIED, {}).get("valueCodeableConcept"))
    if not gene:
        out.add(where, "a variant without a gene studied (LOINC 48018-6)")
        return
    value = resource.get("valueCodeableConcept")
    if _has_code(value, ABSENT[0]) or _text(value).lower() in ABSENT[1:]:
        out.add(f"{where}: {gene}", "reported absent; regimen records findings, not negatives")
        return
    alteration: dict[str, Any] = {"gene": gene}
    aa = components.get(AMINO_ACID_CHANGE)
    change_type = components.get(DNA_CHANGE_TYPE)
    if aa is not None:
        raw = aa.get("valueString") or next(
            (c.get("code") or c.get("display") for c in _codings(aa.get("valueCodeableConcept"))),
            None) or _text(aa.get("valueCodeableConcept"))
        change = protein_change(str(raw or ""))
        if change is None:
            out.add(f"{where}: {gene} {raw}", "not a protein-level HGVS expression (p.)")
            return
        alteration["change"] = change
    elif change_type is not None:
        concept = change_type.get("valueCodeableConcept")
        coding = next(iter(_codings(concept)), {})
        kind, reason = copy_number_type(str(coding.get("code", "")), _text(concept))
        if kind is None:
            out.add(f"{where}: {gene} {_text(concept)}", reason)
            return
        alteration["type"] = kind
    else:
        out.add(f"{where}: {gene}", "neither an amino-acid change (48005-3) nor a copy-number "
                "change type (48019-4)")
        return
    vaf_component = components.get(ALLELIC_FREQUENCY)
    vaf = _fraction(vaf_component.get("valueQuantity") or {}) if vaf_component else None
    if vaf is not None:
        alteration["vaf"] = vaf
    if _is_ctdna(resource, index):
        effective = str(resource.get("effectiveDateTime") or "")
        if not effective or "change" not in alteration:
            out.add(f"{where}: {gene}", "a ctDNA variant needs a protein change and a date")
            return
        draw = draws.setdefault(day(effective), {"date": day(effective), "variants": []})
        draw["variants"].append({k: alteration[k] for k in ("gene", "change", "vaf")
                                 if k in alteration})
        return
    alterations.append(alteration)


def _draw(draw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"date": draw["date"]}
    if "tumour_fraction" in draw:
        out["tumour_fraction"] = draw["tumour_fraction"]
    if draw["variants"]:
        out["variants"] = sorted(draw["variants"], key=lambda v: (v["gene"], v.get("change", "")))
    return out


def _agent(resource: Resource, index: dict[str, Resource]) -> str:
    concept = resource.get("medicationCodeableConcept")
    if concept is None:
        ref = (resource.get("medicationReference") or {}).get("reference", "")
        concept = (index.get(ref) or {}).get("code")
    return _text(concept).strip().lower()


def _therapies(medications: list[Resource], statuses: list[tuple[str, str, Resource]],
               index: dict[str, Resource], out: Collector) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for resource in medications:
        where = _label(resource)
        if resource.get("status") in {"entered-in-error", "not-taken", "not-done"}:
            out.add(f"{where}: status {resource['status']}", "not a therapy the patient received")
            continue
        agent = _agent(resource, index)
        if not agent:
            out.add(where, "the medication has no name (text or coding display)")
            continue
        period = resource.get("effectivePeriod") or {}
        start = period.get("start") or resource.get("effectiveDateTime")
        if not start:
            out.add(f"{where}: {agent}", "a therapy without an effective date cannot be ordered")
            continue
        end = period.get("end")
        key = (day(start), day(end) if end else "")
        group = groups.setdefault(key, {"agents": [], "refs": set()})
        if agent not in group["agents"]:
            group["agents"].append(agent)
        group["refs"].add(where)
        if resource.get("statusReason"):
            out.add(f"{where}.statusReason: {_text(resource['statusReason'][0])}",
                    "termination reasons are not part of a profile")
    used: set[int] = set()
    therapies: list[dict[str, Any]] = []
    for (start, end), group in sorted(groups.items()):
        assessed: list[tuple[str, str]] = []
        for i, (when, category, obs) in enumerate(statuses):
            part_of = {p.get("reference", "") for p in obs.get("partOf", [])}
            inside = start <= when and (not end or when <= end)
            if (part_of & group["refs"]) or (not part_of and inside and i not in used):
                assessed.append((when, category))
                used.add(i)
        therapy: dict[str, Any] = {"agents": group["agents"], "start": start}
        if end:
            therapy["end"] = end
        if assessed:
            assessed.sort()
            therapy["response"] = assessed[-1][1]
            therapy["response_date"] = assessed[-1][0]
            best = min((c for _, c in assessed), key=RANK.__getitem__)
            if best != therapy["response"]:
                therapy["best_response"] = best
        therapies.append(therapy)
    for i, (when, category, obs) in enumerate(statuses):
        if i not in used:
            out.add(f"{_label(obs)}: {category} on {when}", "no therapy running on that date")
    return therapies
