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
                       blunts one of its reversal agents (not its backbone,
                       nor an agent whose avoid the option's partner lifts)
=====================  =========================================================

Options are ordered by tier first (standard, then trial, then investigational; see
:func:`tier_of`), then, among standard options, those a preference rule ranks first
(``preferred``: a cited reason to weigh them before the other standard options this
patient qualifies for), then by score; ties break on (evidence level, tumour match, id).
So no investigational option is ever placed above an applicable standard one, whatever
their scores, and a cited preference between standard options is not overturned by score
parts such as cautions, which stay listed on the option for the tumour board to weigh.
An option containing an agent that the same evaluation says to avoid is dropped (unless
it also contains one of that avoid's ``except_with`` agents or classes: an approved
combination lifts it), and so is one that re-uses an agent the tumour progressed on,
unless the rule declares that re-use (``rechallenge``) together with a reversal agent; a
standard option dropped that way says "standard option already given". An option whose
score is below zero is not ranked: it is dropped with its score parts as the reason.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..knowledge.base import KnowledgeBase
from ..knowledge.conditions import Condition
from ..knowledge.language import OptionSpec, Rule
from ..models import CONFIDENCE_LEVELS, EVIDENCE_LEVELS
from ..profile import Profile
from ..result import AvoidOut, CautionOut, Dropped, PreferenceOut, Recommendation
from .findings import Candidate, Findings, citations_of

EVIDENCE_POINTS = dict(zip(EVIDENCE_LEVELS, (50, 45, 38, 34, 30, 26, 14, 10, 6), strict=True))
MATCH_LEVELS = ("exact", "tumour-agnostic", "same-organ", "gi-general", "pan-tumour", "other-gi",
                "non-gi")
# tumour-agnostic: a standard option approved for any solid tumour with the biomarker. It
# applies to this tumour as approved (not an extrapolation) but ranks below an option
# studied in this very tumour type.
MATCH_POINTS = dict(zip(MATCH_LEVELS, (20, 16, 12, 10, 8, 6, 2), strict=True))
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
    "tumour-agnostic": "tumour-agnostic approval (any solid tumour with the biomarker)",
    "same-organ": "same organ system",
    "gi-general": "GI tumours in general",
    "pan-tumour": "solid tumours across types",
    "other-gi": "another GI tumour type",
    "non-gi": "outside the GI tract",
}
"""Tumour-match level -> its words in reports."""


TIERS = ("standard", "trial", "investigational")
"""Evidence tiers, in ranking order.

standard         an approved or guideline option for this setting (the standard-of-care
                 layer, ``tier: standard``)
trial            clinical data (approved elsewhere, any trial phase, clinical reports): a
                 trial to look for; also standard-layer options marked ``tier: trial``
investigational  preclinical (in vivo, in vitro) or mechanistic evidence only
"""

CLINICAL_EVIDENCE = ("approved", "phase-3", "phase-2", "phase-1-2", "phase-1", "clinical")


def tier_of(spec: OptionSpec) -> str:
    """The option's own tier (standard layer) or the one its evidence level implies."""
    if spec.tier is not None:
        return spec.tier
    return "trial" if spec.evidence in CLINICAL_EVIDENCE else "investigational"


# ESCAT (ESMO Scale for Clinical Actionability of molecular Targets; Mateo J et al., Ann Oncol
# 2018;29(9):1895-1902, doi:10.1093/annonc/mdy263, PMID 30137196) grades alteration-drug
# matches: I-A/I-B randomised/non-randomised prospective trials show benefit in this tumour
# type, I-C benefit across tumour types (basket trials); II retrospective or response-only
# data in this tumour type; III benefit in another tumour type; IV preclinical; V
# co-targeting; X no evidence. The mapping below is used only where it is clean:
#   standard tier, biomarker-selected, studied in this tumour type  -> "I" (tier I; whether
#       the pivotal trial was randomised, A, or not, B, is not recorded, so no letter)
#   standard tier, biomarker-selected, tumour-agnostic approval     -> "I-C"
#   everything else -> None: review options are triggered by mechanisms rather than by a
#   single alteration-drug match, and options without a molecular selection (chemotherapy,
#   later-line multikinase inhibitors) are outside ESCAT's scope.
ESCAT_BIOMARKERS = ("msi", "tmb")
"""Biomarker conditions that select on a genomic alteration (ESCAT grades those)."""


def _molecular(conditions: list[Condition]) -> bool:
    """Whether a rule's positive conditions select on a genomic alteration."""
    for cond in conditions:
        if cond.alteration is not None:
            return True
        if cond.biomarker is not None and cond.biomarker.name in ESCAT_BIOMARKERS:
            return True
        if cond.any is not None and _molecular(list(cond.any.root)):
            return True
    return False


def escat_of(rule: Rule, tier: str, match: str) -> str | None:
    """The ESCAT tier of an option where it maps cleanly (see the table above), else None."""
    if tier != "standard" or not _molecular(list(rule.when)):
        return None
    return {"exact": "I", "tumour-agnostic": "I-C"}.get(match)


def tumour_match(kb: KnowledgeBase, patient_code: str, studied_in: list[str], *,
                 agnostic: bool = False) -> str:
    """Best match of the patient's tumour against the tumours a study was done in.

    ``agnostic``: the option is a tumour-agnostic approval, so ``SOLID`` matches any solid
    tumour as approved ("tumour-agnostic") rather than as an extrapolation ("pan-tumour").
    """
    vocab = kb.vocabulary
    patient_lineage = vocab.lineage(patient_code)
    patient = vocab.tumour(patient_code)
    best = len(MATCH_LEVELS) - 1
    for code in studied_in:
        studied = vocab.tumour(code)
        if code == "GI":
            level = "gi-general" if patient.gi else "non-gi"
        elif code == "SOLID":
            level = "tumour-agnostic" if agnostic else "pan-tumour"
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
    if match in ("exact", "tumour-agnostic"):
        return None
    names = ", ".join(kb.vocabulary.tumour(c).name for c in studied_in)
    if match == "gi-general":
        return f"reported for {names}, not for this tumour type specifically"
    if match == "pan-tumour":
        return f"reported across {names.lower()}, not specifically for GI tumours"
    if match == "non-gi":
        return f"extrapolated from outside the GI tract ({names})"
    return f"extrapolated from another GI tumour type ({names})"


def members(kb: KnowledgeBase, agents: list[str]) -> frozenset[str]:
    """An option's agents and every class they belong to."""
    return kb.with_classes(agents)


def avoided_in(kb: KnowledgeBase, avoid: list[AvoidOut], agents: list[str]) -> list[str]:
    """The option's agents that an avoid blocks; an avoid whose ``except_with`` agents or
    classes are also in the option does not block it."""
    out: set[str] = set()
    for item in avoid:
        if item.except_with and not members(kb, agents).isdisjoint(
                kb.expanded(item.except_with)):
            continue
        avoided = kb.expanded(item.agents)
        out.update(a for a in agents if not avoided.isdisjoint(kb.with_classes((a,))))
    return sorted(out)


def caution_applies(kb: KnowledgeBase, caution: CautionOut, agents: list[str]) -> bool:
    """A caution applies to an option holding a member of ``applies_to`` and, when it gives
    ``applies_when_all``, a member of each of those groups."""
    present = members(kb, agents)
    if not present & kb.expanded(caution.applies_to):
        return False
    return all(present & kb.expanded(group) for group in caution.applies_when_all)


def preferred_by(kb: KnowledgeBase, preferences: list[PreferenceOut], tier: str,
                 agents: list[str]) -> list[str]:
    """The ids of the preferences that rank a standard option holding a member of their
    ``agents`` first among the standard options; none for other tiers."""
    if tier != "standard":
        return []
    present = members(kb, agents)
    return [p.id for p in preferences if present & kb.expand(p.agents)]


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
        given = already_given(kb, profile, spec)
        if given is not None:
            dropped.append(Dropped(id=cand.id, label=spec.label, agents=agents,
                                   rules=cand.rules, reason=given, tier=tier_of(spec)))
            continue
        avoided_here = avoided_in(kb, findings.avoid, agents)
        if avoided_here:
            dropped.append(Dropped(
                id=cand.id, label=spec.label, agents=agents, rules=cand.rules,
                reason=f"contains {', '.join(avoided_here)}, which this evaluation says to avoid",
                tier=tier_of(spec),
            ))
            continue
        failed = sorted(a for a in agents if kb.active_ingredient(a) in progressed
                        and a not in spec.rechallenge)
        if failed:
            reason = f"the tumour progressed on {', '.join(failed)}"
            if tier_of(spec) == "standard":
                reason = f"standard option already given: {reason}"
            dropped.append(Dropped(
                id=cand.id, label=spec.label, agents=agents, rules=cand.rules, reason=reason,
                tier=tier_of(spec),
            ))
            continue
        rec = score(kb, profile, cand, findings, organoid, active, progressed)
        if rec.score < 0:
            parts = ", ".join(f"{SCORE_PARTS[k]} {v:+g}" for k, v in rec.score_breakdown.items()
                              if v)
            dropped.append(Dropped(
                id=cand.id, label=spec.label, agents=agents, rules=cand.rules,
                reason=f"score below zero: {rec.score:g} ({parts})", tier=rec.tier,
            ))
            continue
        recs.append(rec)
    recs.sort(key=rank_key)
    ranked = [r.model_copy(update={"rank": i}) for i, r in enumerate(recs, start=1)]
    return ranked, sorted(dropped, key=lambda d: d.id)


def already_given(kb: KnowledgeBase, profile: Profile, spec: OptionSpec) -> str | None:
    """Why a standard option is not offered again (its ``not_after``), or None."""
    if not spec.not_after:
        return None
    members = kb.expanded(spec.not_after)
    received: dict[str, bool] = {}  # agent -> the tumour progressed on it
    for therapy in profile.therapies:
        for agent in therapy.agents:
            if agent in members or any(c in members for c in kb.classes_of(agent)):
                received[agent] = received.get(agent, False) or therapy.progressed
    if not received:
        return None
    if set(received) <= set(spec.agents):
        head = f"{tier_of(spec)} option already given"
    else:  # another agent of a class the option is not offered after
        head = f"{tier_of(spec)} option not offered after {', '.join(spec.not_after)}"
    progressed = sorted(a for a, p in received.items() if p)
    if progressed:
        return f"{head}: the tumour progressed on {', '.join(progressed)}"
    return f"{head}: {', '.join(sorted(received))} already received (no progression recorded)"


def rank_key(rec: Recommendation) -> tuple[int, int, float, int, int, str]:
    """Tier first (standard, trial, investigational), then preferred standard options, then
    score, evidence, match, id."""
    return (TIERS.index(rec.tier), 0 if rec.preferred else 1, -rec.score,
            EVIDENCE_LEVELS.index(rec.evidence_level), MATCH_LEVELS.index(rec.tumour_match),
            rec.id)


def score(kb: KnowledgeBase, profile: Profile, cand: Candidate, findings: Findings,
          organoid: Mapping[str, str], active: set[str], progressed: set[str]) -> Recommendation:
    """Score one candidate (rank 0: :func:`rank` numbers the sorted list)."""
    rule = kb.rules_by_id[cand.rules[0]]
    spec = rule.then.option
    assert spec is not None
    agents = list(spec.agents)
    tier = tier_of(spec)
    match = tumour_match(kb, profile.tumour.type, spec.studied_in,
                         agnostic=spec.tier is not None)
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
    # An avoid that this option's partner agent lifts (``except_with``: an approved
    # combination built against that resistance) lifts the matching blunting caution too.
    present = members(kb, agents)
    lifted = set().union(*(kb.expanded(a.agents) for a in findings.avoid
                           if present & kb.expanded(a.except_with)))
    for mid in sorted(active - cand.addresses):
        blunted = sorted((reversal_agents - lifted) & kb.expanded(blunts[mid]))
        if blunted:
            cautions.append(f"active mechanism {mid} blunts {', '.join(blunted)}")
    for agent in agents:
        base = kb.active_ingredient(agent)
        if base in progressed:
            same = agent if base == agent else f"{agent} ({base})"
            if spec.tier is not None:  # a standard option whose approved setting re-uses it
                cautions.append(f"re-uses {same}, on which the tumour progressed, as the "
                                "approved setting allows")
            else:
                cautions.append(f"re-uses {same}, on which the tumour progressed, together "
                                "with the reversal agent it was studied with")
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
        extrapolated=match not in ("exact", "tumour-agnostic"),
        extrapolation=_extrapolation(kb, match, spec.studied_in),
        response_rate=spec.response_rate, score=sum(breakdown.values()),
        score_breakdown=breakdown, addresses=sorted(cand.addresses),
        citations=citations_of(kb, cand.rules), cautions=sorted(cautions), note=note,
        rules=cand.rules, tier=tier, escat=escat_of(rule, tier, match),
        setting=spec.setting.model_dump() if spec.setting is not None else None,
        approvals=[a.model_dump() for a in spec.approvals],
        preferred=preferred_by(kb, findings.preferences, tier, agents),
    )
