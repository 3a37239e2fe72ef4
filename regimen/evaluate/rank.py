"""Candidates -> ranked recommendations. Pure, deterministic, explainable.

The score is a sum of named integer parts, all shown in every report:

=====================  =========================================================
part                   points
=====================  =========================================================
evidence               approved 50, phase-3 45, phase-2 38, phase-1-2 34,
                       phase-1 30, clinical 26, preclinical-in-vivo 14,
                       preclinical-in-vitro 10, mechanistic 6 (patient data
                       of any phase stand well above animal and cell data)
tumour_match           exact (same code or an ancestor/descendant) 20,
                       same organ system 12, GI in general 10, solid tumours
                       across types 8, another GI tumour 6, a named tumour
                       outside the GI tract 2
confidence             strongest confidence of what triggered it: high 10,
                       moderate 6, low 3
mechanisms_addressed   4 per active mechanism the option addresses
organoid               per agent with an organoid result: sensitive +8,
                       intermediate 0, resistant -12
cautions               -4 per caution that applies to the option's agents, and
                       per active mechanism the option does not address that
                       blunts one of its reversal agents (not its backbone)
=====================  =========================================================

Ties break on (evidence level, tumour match, id). An option containing an agent
that the same evaluation says to avoid is dropped (unless it also contains one of
that avoid's ``except_with`` agents or classes: an approved combination lifts
it), and so is one that re-uses
an agent the tumour progressed on, unless the rule declares that re-use
(``rechallenge``) together with a reversal agent.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..knowledge.base import KnowledgeBase
from ..models import CONFIDENCE_LEVELS, EVIDENCE_LEVELS
from ..profile import Profile
from ..result import AvoidOut, CautionOut, Dropped, Recommendation
from .findings import Candidate, Findings, citations_of

EVIDENCE_POINTS = dict(zip(EVIDENCE_LEVELS, (50, 45, 38, 34, 30, 26, 14, 10, 6), strict=True))
MATCH_LEVELS = ("exact", "same-organ", "gi-general", "pan-tumour", "other-gi", "non-gi")
MATCH_POINTS = dict(zip(MATCH_LEVELS, (20, 12, 10, 8, 6, 2), strict=True))
CONFIDENCE_POINTS = dict(zip(CONFIDENCE_LEVELS, (10, 6, 3), strict=True))
PER_MECHANISM = 4
ORGANOID_POINTS = {"sensitive": 8, "intermediate": 0, "resistant": -12}
PER_CAUTION = -4

SCORE_PARTS = {
    "evidence": "evidence",
    "tumour_match": "tumour match",
    "confidence": "confidence",
    "mechanisms_addressed": "mechanisms addressed",
    "organoid": "organoid",
    "cautions": "cautions",
}
"""Score part -> its label in reports, in the order reports show them."""

MATCH_TEXT = {
    "exact": "same tumour type",
    "same-organ": "same organ system",
    "gi-general": "GI tumours in general",
    "pan-tumour": "solid tumours across types",
    "other-gi": "another GI tumour type",
    "non-gi": "outside the GI tract",
}
"""Tumour-match level -> its words in reports."""


def tumour_match(kb: KnowledgeBase, patient_code: str, studied_in: list[str]) -> str:
    """Best match of the patient's tumour against the tumours a study was done in."""
    vocab = kb.vocabulary
    patient_lineage = vocab.lineage(patient_code)
    patient = vocab.tumours[patient_code]
    best = len(MATCH_LEVELS) - 1
    for code in studied_in:
        studied = vocab.tumours[code]
        if code == "GI":
            level = "gi-general" if patient.gi else "non-gi"
        elif code == "SOLID":
            level = "pan-tumour"
        elif code in patient_lineage or patient_code in vocab.lineage(code):
            level = "exact"
        elif studied.organ == patient.organ:
            level = "same-organ"
        elif studied.gi and patient.gi:
            level = "other-gi"
        else:
            level = "non-gi"
        best = min(best, MATCH_LEVELS.index(level))
    return MATCH_LEVELS[best]


def _extrapolation(kb: KnowledgeBase, match: str, studied_in: list[str]) -> str | None:
    if match == "exact":
        return None
    names = ", ".join(kb.vocabulary.tumours[c].name for c in studied_in)
    if match == "gi-general":
        return f"reported for {names}, not for this tumour type specifically"
    if match == "pan-tumour":
        return f"reported across {names.lower()}, not specifically for GI tumours"
    if match == "non-gi":
        return f"extrapolated from outside the GI tract ({names})"
    return f"extrapolated from another GI tumour type ({names})"


def members(kb: KnowledgeBase, agents: list[str]) -> set[str]:
    """An option's agents and every class they belong to."""
    return set(agents) | {c for a in agents for c in kb.classes_of(a)}


def avoided_in(kb: KnowledgeBase, avoid: list[AvoidOut], agents: list[str]) -> list[str]:
    """The option's agents that an avoid blocks; an avoid whose ``except_with`` agents or
    classes are also in the option does not block it."""
    present = members(kb, agents)
    out: set[str] = set()
    for item in avoid:
        if item.except_with and present & kb.expand(item.except_with):
            continue
        avoided = kb.expand(item.agents)
        out |= {a for a in agents if a in avoided
                or any(c in avoided for c in kb.classes_of(a))}
    return sorted(out)


def caution_applies(kb: KnowledgeBase, caution: CautionOut, agents: list[str]) -> bool:
    """A caution applies to an option holding a member of ``applies_to`` and, when it gives
    ``applies_when_all``, a member of each of those groups."""
    present = members(kb, agents)
    if not present & kb.expand(caution.applies_to):
        return False
    return all(present & kb.expand(group) for group in caution.applies_when_all)


def rank(kb: KnowledgeBase, profile: Profile, findings: Findings) -> tuple[
        list[Recommendation], list[Dropped]]:
    progressed = {kb.active_ingredient(a) for t in profile.therapies if t.progressed
                  for a in t.agents}
    organoid = {kb.active_ingredient(s.agent): s.result for s in profile.drug_sensitivity}
    active = {m.id for m in findings.mechanisms}

    recs: list[Recommendation] = []
    dropped: list[Dropped] = []
    for cand in findings.candidates:
        rule = kb.rules_by_id[cand.rules[0]]
        spec = rule.then.option
        assert spec is not None
        agents = list(spec.agents)
        avoided_here = avoided_in(kb, findings.avoid, agents)
        if avoided_here:
            dropped.append(Dropped(
                id=cand.id, label=spec.label, agents=agents, rules=cand.rules,
                reason=f"contains {', '.join(avoided_here)}, which this evaluation says to avoid",
            ))
            continue
        failed = sorted(a for a in agents if kb.active_ingredient(a) in progressed
                        and a not in spec.rechallenge)
        if failed:
            dropped.append(Dropped(
                id=cand.id, label=spec.label, agents=agents, rules=cand.rules,
                reason=f"the tumour progressed on {', '.join(failed)}",
            ))
            continue
        recs.append(score(kb, profile, cand, findings, organoid, active, progressed))
    recs.sort(key=lambda r: (-r.score, EVIDENCE_LEVELS.index(r.evidence_level),
                             MATCH_LEVELS.index(r.tumour_match), r.id))
    ranked = [r.model_copy(update={"rank": i}) for i, r in enumerate(recs, start=1)]
    return ranked, sorted(dropped, key=lambda d: d.id)


def score(kb: KnowledgeBase, profile: Profile, cand: Candidate, findings: Findings,
          organoid: Mapping[str, str], active: set[str], progressed: set[str]) -> Recommendation:
    """Score one candidate (rank 0: :func:`rank` numbers the sorted list)."""
    spec = kb.rules_by_id[cand.rules[0]].then.option
    assert spec is not None
    agents = list(spec.agents)
    match = tumour_match(kb, profile.tumour.type, spec.studied_in)
    confidence = min(cand.confidences, key=CONFIDENCE_LEVELS.index) if cand.confidences \
        else "moderate"

    cautions: list[str] = []
    for caution in findings.cautions:
        if caution_applies(kb, caution, agents):
            cautions.append(f"{caution.id}: {caution.text}")
    # The backbone is the drug whose resistance the option sets out to reverse: that an active
    # mechanism blunts it is the premise of the option, not a caution against it.
    reversal_agents = set(agents) - set(spec.backbone) - set(spec.rechallenge)
    blunts = {m.id: m.blunts for m in findings.mechanisms}  # of the rules that fired
    for mid in sorted(active - cand.addresses):
        blunted = sorted(reversal_agents & kb.expand(blunts[mid]))
        if blunted:
            cautions.append(f"active mechanism {mid} blunts {', '.join(blunted)}")
    for agent in agents:
        base = kb.active_ingredient(agent)
        if base in progressed:
            same = agent if base == agent else f"{agent} ({base})"
            cautions.append(f"re-uses {same}, on which the tumour progressed, together with "
                            "the reversal agent it was studied with")
        if organoid.get(base) == "resistant":
            cautions.append(f"patient-derived organoid resistant to {base}")

    organoid_points = sum(ORGANOID_POINTS[organoid[kb.active_ingredient(a)]] for a in agents
                          if kb.active_ingredient(a) in organoid)
    breakdown = {
        "evidence": float(EVIDENCE_POINTS[spec.evidence]),
        "tumour_match": float(MATCH_POINTS[match]),
        "confidence": float(CONFIDENCE_POINTS[confidence]),
        "mechanisms_addressed": float(PER_MECHANISM * len(cand.addresses)),
        "organoid": float(organoid_points),
        "cautions": float(PER_CAUTION * len(cautions)),
    }
    named = all(kb.agents[a].named for a in agents if a in kb.agents)
    note = spec.note
    if not named:
        unnamed = [a for a in agents if a in kb.agents and not kb.agents[a].named]
        text = f"no specific agent is named in the source for {', '.join(unnamed)}"
        note = f"{note} ({text})" if note else text
    return Recommendation(
        rank=0, id=cand.id, label=spec.label, agents=agents, backbone=list(spec.backbone),
        named_agent=named, strategy=spec.strategy, evidence_level=spec.evidence,
        studied_in=list(spec.studied_in), tumour_match=match,
        extrapolated=match != "exact",
        extrapolation=_extrapolation(kb, match, spec.studied_in),
        response_rate=spec.response_rate, score=sum(breakdown.values()),
        score_breakdown=breakdown, addresses=sorted(cand.addresses),
        citations=citations_of(kb, cand.rules), cautions=sorted(cautions), note=note,
        rules=cand.rules,
    )
