"""Conditional options: what a test would unlock.

An option rule that did not fire is *conditional* when none of its conditions is
contradicted by the profile and every unmet one is about something not measured
(an alteration of an untested gene, an unmeasured biomarker, expression, TME or
microbiome, or a mechanism that such a finding would derive). Each condition
kind assesses itself (:meth:`~regimen.knowledge.conditions.ConditionKind.assess`)
and names the test that would settle it. Options needing more than
:data:`MAX_TESTS` tests, or that the evaluation would drop (an avoided agent, an
agent the tumour progressed on, a standard option whose ``not_after`` the
patient's history meets), are not listed.

They are ranked by tier (standard, trial, investigational; as recommendations
are), then by the option's evidence and tumour-match points (the first two parts
of the recommendation score), then evidence level, tumour match and id, and kept
out of the recommendations.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from ..engine.base import FactRecord
from ..knowledge.base import KnowledgeBase
from ..knowledge.conditions import (
    CONTRADICTED,
    SATISFIED,
    Assessment,
    Condition,
    fewest_tests,
)
from ..knowledge.language import OptionSpec, Rule
from ..models import EVIDENCE_LEVELS
from ..profile import Profile
from ..result import ConditionalOption, MissingCondition, OptionOut, TestOut
from .findings import Candidate, Findings, citations_of
from .rank import (
    EVIDENCE_POINTS,
    MATCH_LEVELS,
    MATCH_POINTS,
    TIERS,
    already_given,
    avoided_in,
    score,
    tier_of,
    tumour_match,
)

DEFAULT_CAP = 10
"""Conditional options shown by default (``--conditional N``; 0 hides them)."""

MAX_TESTS = 2
"""An option needing more tests than this is not listed: one or two tests should unlock it."""


class ProfileView:
    """A profile's facts and the evaluation's derived facts, as condition kinds assess them."""

    def __init__(self, kb: KnowledgeBase, facts: Iterable[FactRecord],
                 findings: Findings) -> None:
        self.kb = kb
        self._facts: dict[str, list[Mapping[str, Any]]] = {}
        for record in facts:
            self._facts.setdefault(record.kind, []).append(record.as_dict())
        self._mechanisms = {m.id for m in findings.mechanisms}
        self._options = frozenset(c.id for c in findings.candidates)
        self._cache: dict[tuple[str, str], Assessment] = {}
        self.assessed: dict[int, Assessment] = {}
        """Condition key (see :mod:`regimen.knowledge.plans`) -> its assessment for this
        profile."""
        self.plans = kb.plans()

    @property
    def proposed(self) -> frozenset[str]:
        """Option ids the evaluation proposed."""
        return self._options

    def facts(self, kind: str) -> Sequence[Mapping[str, Any]]:
        """The facts of one kind (shared: read them, do not change them)."""
        return self._facts.get(kind, ())

    def classes_of(self, agent: str) -> list[str]:
        return list(self.kb.classes_of(agent))

    def derived(self, kind: str, value: str) -> Assessment:
        """A mechanism or option: satisfied if the evaluation derived it, unknown if a rule
        deriving it has only satisfied or unknown conditions, else contradicted."""
        key = (kind, value)
        if key not in self._cache:
            self._cache[key] = self._derive(kind, value)
        return self._cache[key]

    def _derive(self, kind: str, value: str) -> Assessment:
        made = self._mechanisms if kind == "mechanism" else self._options
        if value in made:
            return SATISFIED
        self._cache[(kind, value)] = CONTRADICTED  # guards against cycles
        routes = [assess_rule(self, rule) for rule in self.kb.rules_deriving(kind, value)]
        if any(a.state == "unknown" for a in routes):
            return fewest_tests(routes)
        return CONTRADICTED


def assess_rule(view: ProfileView, rule: Rule) -> Assessment:
    """All of a rule's conditions: contradicted if one is, unknown (with every test) if one
    is, else satisfied."""
    assessed = _assess_all(view, rule)
    if assessed is None:
        return CONTRADICTED
    tests = sorted({t for _, a in assessed if a.state == "unknown" for t in a.tests})
    return Assessment("unknown", tuple(tests)) if tests else SATISFIED


def conditional_options(kb: KnowledgeBase, profile: Profile, facts: Iterable[FactRecord],
                        findings: Findings, *, cap: int = DEFAULT_CAP,
                        ) -> tuple[list[ConditionalOption], int]:
    """The conditional options (at most ``cap``) and how many more exist."""
    view = ProfileView(kb, facts, findings)
    progressed = {kb.active_ingredient(a) for t in profile.therapies if t.progressed
                  for a in t.agents}
    organoid = {kb.active_ingredient(s.agent): s.result for s in profile.drug_sensitivity}
    active = {m.id for m in findings.mechanisms}
    confidence = findings.mechanism_confidence

    proposed = view.proposed
    best: dict[str, _Unlockable] = {}
    for rule, option_id, spec in kb.index("conditional.options", _option_rules):
        if option_id in proposed:
            continue
        assessed = _assess_all(view, rule)  # most rules end here (cheapest filter first)
        if assessed is None:
            continue
        agents = list(spec.agents)
        if progressed and any(kb.active_ingredient(a) in progressed
                              and a not in spec.rechallenge for a in agents):
            continue
        if spec.not_after and already_given(kb, profile, spec) is not None:
            continue
        if findings.avoid and avoided_in(kb, findings.avoid, agents):
            continue
        tests = sorted({t for _, a in assessed if a.state == "unknown" for t in a.tests})
        if not tests or len(tests) > MAX_TESTS:
            continue
        key = (len(tests), rule.id)
        found = best.get(option_id)
        if found is None or key < found.key:
            best[option_id] = _Unlockable(key, rule, assessed, tests)

    # Order on what the option's rule gives (tier, evidence level, tumour match, id: the
    # same values score() puts in the option), then score and describe only those shown.
    patient = profile.tumour.type
    orders = kb.index("conditional.orders", _new_orders)
    ordered = sorted(best.values(), key=lambda u: _order(kb, orders, patient, u.rule))
    items = []
    for entry in ordered[:cap]:
        rule, assessed = entry.rule, entry.assessed
        addresses = {m for c, a in assessed if c.kind == "mechanism" and a.state == "satisfied"
                     for m in c.spec.any_of if m in active}  # type: ignore[attr-defined]
        confidences = [confidence[m] for m in sorted(addresses)]
        if rule.then.confidence:
            confidences.append(rule.then.confidence)
        cand = Candidate(id=rule.option_id, rules=[rule.id], addresses=addresses,
                         confidences=confidences)
        rec = score(kb, profile, cand, findings, organoid, active, progressed)
        items.append(ConditionalOption(
            option=OptionOut.model_validate(rec, from_attributes=True),
            missing=[MissingCondition(text=c.describe(),
                                      condition=kb.condition_json(rule.id, i, c),
                                      tests=list(a.tests))
                     for i, (c, a) in enumerate(assessed) if a.state == "unknown"],
            tests=entry.tests,
            citations=citations_of(kb, [rule.id]),
        ))
    return items, max(0, len(ordered) - cap)


class _Unlockable(NamedTuple):
    """An option rule that one or two tests would unlock, before it is scored."""

    key: tuple[int, str]  # (tests needed, rule id): the best rule of an option has the least
    rule: Rule
    assessed: list[tuple[Condition, Assessment]]
    tests: list[str]


def _assess_all(view: ProfileView, rule: Rule) -> list[tuple[Condition, Assessment]] | None:
    """Each condition of the rule with its assessment, in the rule's order; None if one is
    contradicted.

    Conditions on the profile's own facts are assessed first and the first contradicted
    one ends the assessment, so that a mechanism is derived only for rules it could still
    decide. The order changes nothing but the time: an assessment depends only on the view
    (the knowledge base's stage checks rule out a mechanism or option deriving itself)."""
    plan = view.plans[rule.id]
    results: list[Assessment | None] = [None] * len(plan)
    memo = view.assessed
    for position, key, spec in plan:
        assessment = memo.get(key)
        if assessment is None:
            assessment = memo[key] = spec.assess(view)
        if assessment.state == "contradicted":
            return None
        results[position] = assessment
    return [(cond, result) for cond, result in zip(rule.when, results, strict=True)
            if result is not None]


def _option_rules(kb: KnowledgeBase) -> tuple[tuple[Rule, str, OptionSpec], ...]:
    """The option rules with their option id and spec, in knowledge-base order."""
    out = []
    for rule in kb.rules_at("option"):
        assert rule.then.option is not None
        out.append((rule, rule.option_id, rule.then.option))
    return tuple(out)


Order = tuple[int, int, int, int, str]


def _new_orders(kb: KnowledgeBase) -> dict[tuple[str, str], Order]:
    return {}


def _order(kb: KnowledgeBase, orders: dict[tuple[str, str], Order], patient: str,
           rule: Rule) -> Order:
    """Tier, then evidence and tumour-match points, evidence level, tumour match, option id
    (remembered per tumour type and rule in ``orders``)."""
    key = (patient, rule.id)
    found = orders.get(key)
    if found is None:
        found = orders[key] = _order_of(kb, patient, rule)
    return found


def _order_of(kb: KnowledgeBase, patient: str, rule: Rule) -> Order:
    spec = rule.then.option
    assert spec is not None
    match = tumour_match(kb, patient, spec.studied_in, agnostic=spec.tier is not None)
    return (TIERS.index(tier_of(spec)), -(EVIDENCE_POINTS[spec.evidence] + MATCH_POINTS[match]),
            EVIDENCE_LEVELS.index(spec.evidence), MATCH_LEVELS.index(match), rule.option_id)


def with_unlocks(tests: list[TestOut], options: list[ConditionalOption]) -> list[TestOut]:
    """Suggested tests, each with the conditional options it would unlock; a test no rule
    suggested is added (merged by test name)."""
    unlocks: dict[str, set[str]] = {}
    for item in options:
        for test in item.tests:
            unlocks.setdefault(test, set()).add(item.option.id)
    out = [t.model_copy(update={"unlocks": sorted(unlocks.pop(t.test, set()))}) for t in tests]
    for test in sorted(unlocks):
        ids = sorted(unlocks[test])
        out.append(TestOut(
            id=f"conditional.{_slug(test)}", test=test,
            why=(f"would settle what {len(ids)} option(s) under 'What a test would unlock' "
                 "are waiting for"),
            citations=[], unlocks=ids))
    return out


def _slug(text: str) -> str:
    return "-".join("".join(ch if ch.isalnum() else " " for ch in text.lower()).split())
