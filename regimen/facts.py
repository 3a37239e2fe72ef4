"""experta ``Fact`` classes and the translation of a profile into facts.

Facts carry plain, hashable values (strings, numbers, tuples of strings, ISO
dates) and every field is always present (``None`` when unknown), so that the
compiled patterns never meet a missing key.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ._compat import experta
from .ctdna import CtdnaEvent, tracked_variants, variant_reading
from .knowledge import KnowledgeBase
from .profile import Profile

Fact: Any = experta.Fact


class Tumour(Fact):
    """The tumour type with its OncoTree lineage (code first, root last)."""


class Alteration(Fact):
    """A genomic finding: gene, change, type, origin (tissue or ctdna), vaf."""


class Expression(Fact):
    """Gene (protein) expression level: high, low, normal, absent."""


class Biomarker(Fact):
    """msi / tmb / pdl1_cps and its value."""


class Tme(Fact):
    """A tumour-microenvironment feature."""


class Microbe(Fact):
    """A microbiome finding: taxon (or bacterial activity) and level."""


class Therapy(Fact):
    """One agent of one prior or current therapy line."""


class Ctdna(Fact):
    """A ctDNA trend event derived from the series of draws."""


class Sensitivity(Fact):
    """An ex vivo / organoid drug-sensitivity result."""


class Clinical(Fact):
    """A clinical condition (e.g. autoimmune disease, hepatic impairment)."""


class Mechanism(Fact):
    """Derived: an active resistance mechanism."""


class Option(Fact):
    """Derived: a candidate option (by option id and rule)."""


class Avoid(Fact):
    """Derived: agents to avoid (by rule)."""


class Caution(Fact):
    """Derived: a caution (by id and rule)."""


class Test(Fact):
    """Derived: a suggested test (by rule)."""


def profile_facts(profile: Profile, kb: KnowledgeBase,
                  events: list[CtdnaEvent]) -> Iterator[Fact]:
    """Translate a validated profile (and its ctDNA events) into facts."""
    vocab = kb.vocabulary
    code = profile.tumour.type
    tumour_type = vocab.tumours[code]
    yield Tumour(code=code, lineage=vocab.lineage(code), organ=tumour_type.organ)
    for alt in profile.alterations:
        yield Alteration(gene=alt.gene, change=alt.change, type=alt.type, origin="tissue",
                         vaf=alt.vaf)
    settings = profile.settings.ctdna
    for gene, change in tracked_variants(profile.ctdna):
        if any(variant_reading(d, (gene, change), settings).detected for d in profile.ctdna):
            yield Alteration(gene=gene, change=change, type="mutation", origin="ctdna", vaf=None)
    markers = profile.biomarkers
    for name in ("msi", "tmb", "pdl1_cps"):
        value = getattr(markers, name)
        if value is not None:
            yield Biomarker(name=name, value=value)
    for gene, level in sorted(markers.expression.items()):
        yield Expression(gene=gene, level=level)
    for feature in markers.tme:
        yield Tme(feature=feature)
    for taxon, level in sorted(markers.microbiome.items()):
        yield Microbe(taxon=taxon, level=level)
    for index, therapy in enumerate(profile.therapies, start=1):
        for agent in therapy.agents:
            yield Therapy(
                line=therapy.line or index,
                agent=agent,
                classes=kb.classes_of(agent),
                response=therapy.response,
                ongoing=therapy.ongoing,
                start=_iso(therapy.start),
                end=_iso(therapy.end),
            )
    for event in events:
        yield Ctdna(
            event=event.event,
            gene=event.gene,
            change=event.change,
            date=event.date.isoformat(),
            during_agents=tuple(event.during_agents),
            during_classes=tuple(sorted({c for a in event.during_agents
                                         for c in kb.classes_of(a)})),
            confirmed=event.confirmed,
        )
    for index, result in enumerate(profile.drug_sensitivity):
        yield Sensitivity(agent=result.agent, classes=kb.classes_of(result.agent),
                          result=result.result, index=index)
    for condition in profile.clinical.conditions:
        yield Clinical(condition=condition)


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def describe(fact: Fact) -> str:
    """One readable line for a fact, used in traces and explanations."""
    d = {k: v for k, v in fact.as_dict().items() if not isinstance(k, int)}
    kind = type(fact).__name__
    if kind == "Tumour":
        return f"tumour {d['code']}"
    if kind == "Alteration":
        what = d["change"] or d["type"]
        extra = d["type"] if d["change"] and d["type"] != "mutation" else None
        origin = "ctDNA" if d["origin"] == "ctdna" else "tissue"
        return f"alteration {d['gene']} {what}" + (f" ({extra})" if extra else "") + f" [{origin}]"
    if kind == "Expression":
        return f"expression {d['gene']} {d['level']}"
    if kind == "Biomarker":
        return f"biomarker {d['name']} = {d['value']}"
    if kind == "Tme":
        return f"tumour microenvironment {d['feature']}"
    if kind == "Microbe":
        return f"microbiome {d['taxon']} {d['level']}"
    if kind == "Therapy":
        state = "ongoing" if d["ongoing"] else f"ended {d['end']}"
        return f"therapy {d['agent']} (line {d['line']}, {state}, response {d['response'] or '-'})"
    if kind == "Ctdna":
        subject = " ".join(x for x in (d["gene"], d["change"]) if x)
        during = f" during {'+'.join(d['during_agents'])}" if d["during_agents"] else ""
        return f"ctDNA {d['event']}{' ' + subject if subject else ''} on {d['date']}{during}"
    if kind == "Sensitivity":
        return f"organoid {d['agent']} {d['result']}"
    if kind == "Clinical":
        return f"clinical condition {d['condition']}"
    if kind == "Mechanism":
        return f"mechanism {d['id']} ({d['confidence']})"
    if kind == "Option":
        return f"option {d['id']}"
    if kind == "Caution":
        return f"caution {d['id']}"
    return f"{kind.lower()} " + ", ".join(f"{k}={v}" for k, v in sorted(d.items()))
