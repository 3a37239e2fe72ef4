"""Witness profiles: a minimal profile that satisfies a rule's conditions.

Used by ``regimen knowledge lint`` (an option whose own fixture does not fire
it can never fire) and by the knowledge tests (every rule has a profile that
makes it fire). ``not`` conditions are left unsatisfied-by-default (nothing is
added for them); ``any`` takes its first branch; a derived ``mechanism`` or
``option`` condition pulls in the witness of a rule that derives it. What each
condition adds is decided by its kind
(:meth:`regimen.knowledge.conditions.ConditionKind.witness`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..knowledge.base import KnowledgeBase
from ..knowledge.conditions import Condition
from ..knowledge.language import Rule

BASE_DATE = dt.date(2025, 1, 6)


def _day(offset: int) -> str:
    return (BASE_DATE + dt.timedelta(days=offset)).isoformat()


class WitnessBuilder:
    """Builds, for each rule, a minimal profile on which the rule should fire."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb
        self.derivers: dict[str, list[Rule]] = {}
        self.option_rules: dict[str, list[Rule]] = {}
        for rule in sorted(kb.rules, key=lambda r: r.id):
            if rule.stage == "mechanism" and rule.then.mechanism:
                self.derivers.setdefault(rule.then.mechanism, []).append(rule)
            if rule.stage == "option":
                self.option_rules.setdefault(rule.option_id, []).append(rule)

    def for_rule(self, rule: Rule) -> dict[str, Any]:
        profile: dict[str, Any] = {"id": f"fixture-{rule.id}"}
        self._add_all(profile, rule.when, depth=0)
        if "tumour" not in profile:
            code = "COADREAD"
            if rule.then.option is not None:
                studied = [c for c in rule.then.option.studied_in
                           if self.kb.vocabulary.tumour(c).gi and c != "GI"]
                code = studied[0] if studied else code
            profile["tumour"] = {"type": code}
        return profile

    def _add_all(self, profile: dict[str, Any], conditions: list[Condition], depth: int) -> None:
        for cond in conditions:
            self.add(profile, cond, depth)

    def patient_code(self, code: str) -> str:
        """A code a patient can have: the code itself, or its first specific descendant."""
        vocab = self.kb.vocabulary
        if vocab.tumour(code).parent is not None:
            return code
        below = sorted(c for c, t in vocab.tumours.items()
                       if t.parent is not None and code in vocab.lineage(c))
        return below[0] if below else code

    def agent_for(self, agents: list[str] | None, classes: list[str] | None) -> str:
        if agents:
            return agents[0]
        if not classes:
            drugs = sorted(a.id for a in self.kb.agents.values() if a.kind == "drug")
            return drugs[0]
        members = sorted(self.kb.members_of(classes[0]) - {classes[0]})
        drugs = [m for m in members if self.kb.agents[m].kind == "drug"]
        return (drugs or members or [classes[0]])[0]

    def add(self, profile: dict[str, Any], cond: Condition, depth: int) -> None:
        """Add a witness of one condition: the condition kind decides what."""
        if depth > 6:
            return
        profile.setdefault("biomarkers", {})
        cond.spec.witness(self, profile, depth)

    def add_derivation(self, profile: dict[str, Any], kind: str, value: str,
                       depth: int) -> None:
        """Witnesses of the simplest rule that derives mechanism (or proposes option) ``value``."""
        rules = (self.derivers if kind == "mechanism" else self.option_rules).get(value, [])
        if rules:
            self._add_all(profile, _prefer_simple(rules).when, depth + 1)

    def day(self, offset: int) -> str:
        return _day(offset)

    def ctdna_variant(self, profile: dict[str, Any], gene: str, change: str | None) -> None:
        draws = profile.setdefault("ctdna", [])
        variant = {"gene": gene, "vaf": 0.05, **({"change": change} if change else {})}
        if draws:
            draws[-1].setdefault("variants", []).append(variant)
        else:
            draws.append({"date": _day(60), "variants": [variant]})


def _prefer_simple(rules: list[Rule]) -> Rule:
    """The deriving rule with the fewest conditions and no negation."""
    return min(rules, key=lambda r: (any(c.kind == "not" for c in r.when), len(r.when), r.id))
