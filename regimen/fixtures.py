"""Synthesise a minimal profile that satisfies a rule's conditions.

Used by ``regimen knowledge lint`` (an option whose own fixture does not fire
it can never fire) and by the knowledge tests (every rule has a profile that
makes it fire). ``not`` conditions are left unsatisfied-by-default (nothing is
added for them); ``any`` takes its first branch; a derived ``mechanism`` or
``option`` condition pulls in the fixture of a rule that derives it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from .knowledge import Condition, KnowledgeBase, Rule

BASE_DATE = dt.date(2025, 1, 6)


def _day(offset: int) -> str:
    return (BASE_DATE + dt.timedelta(days=offset)).isoformat()


class FixtureBuilder:
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
                           if self.kb.vocabulary.tumours[c].gi and c != "GI"]
                code = studied[0] if studied else code
            profile["tumour"] = {"type": code}
        return profile

    def _add_all(self, profile: dict[str, Any], conditions: list[Condition], depth: int) -> None:
        for cond in conditions:
            self._add(profile, cond, depth)

    def _patient_code(self, code: str) -> str:
        """A code a patient can have: the code itself, or its first specific descendant."""
        vocab = self.kb.vocabulary
        if vocab.tumours[code].parent is not None:
            return code
        below = sorted(c for c, t in vocab.tumours.items()
                       if t.parent is not None and code in vocab.lineage(c))
        return below[0] if below else code

    def _agent_for(self, agents: list[str] | None, classes: list[str] | None) -> str:
        if agents:
            return agents[0]
        if not classes:
            drugs = sorted(a.id for a in self.kb.agents.values() if a.kind == "drug")
            return drugs[0]
        members = sorted(self.kb.members_of(classes[0]) - {classes[0]})
        drugs = [m for m in members if self.kb.agents[m].kind == "drug"]
        return (drugs or members or [classes[0]])[0]

    def _add(self, profile: dict[str, Any], cond: Condition, depth: int) -> None:
        if depth > 6:
            return
        kind = cond.kind
        markers = profile.setdefault("biomarkers", {})
        if kind == "tumour" and cond.tumour is not None:
            profile.setdefault("tumour", {"type": self._patient_code(cond.tumour.codes[0])})
        elif kind == "alteration" and cond.alteration is not None:
            spec = cond.alteration
            entry: dict[str, Any] = {"gene": spec.gene[0]}
            if spec.change:
                entry["change"] = spec.change[0]
            if spec.type and spec.type != ["any"]:
                entry["type"] = spec.type[0]
            elif not spec.change:
                entry["type"] = "mutation"
            if spec.origin == "ctdna":
                self._ctdna_variant(profile, spec.gene[0], spec.change[0] if spec.change else None)
            else:
                profile.setdefault("alterations", []).append(entry)
        elif kind == "expression" and cond.expression is not None:
            markers.setdefault("expression", {})[cond.expression.gene[0]] = \
                cond.expression.level[0]
        elif kind == "biomarker" and cond.biomarker is not None:
            spec_b = cond.biomarker
            value: Any
            if spec_b.eq is not None:
                value = spec_b.eq
            elif spec_b.isin:
                value = spec_b.isin[0]
            elif spec_b.ge is not None:
                value = spec_b.ge
            elif spec_b.gt is not None:
                value = spec_b.gt + 1
            elif spec_b.le is not None:
                value = spec_b.le
            else:
                assert spec_b.lt is not None
                value = max(0.0, spec_b.lt - 1) if spec_b.lt >= 1 else spec_b.lt / 2
            markers[spec_b.name] = value
        elif kind == "tme" and cond.tme is not None:
            markers.setdefault("tme", []).append(cond.tme.any_of[0])
        elif kind == "microbiome" and cond.microbiome is not None:
            markers.setdefault("microbiome", {})[cond.microbiome.taxon[0]] = \
                cond.microbiome.level[0]
        elif kind == "therapy" and cond.therapy is not None:
            spec_t = cond.therapy
            agent = self._agent_for(spec_t.agent, spec_t.klass)
            therapies = profile.setdefault("therapies", [])
            line: dict[str, Any] = {"agents": [agent], "start": _day(0)}
            if spec_t.ongoing is not True:
                line["end"] = _day(120)
            if spec_t.response:
                line["response"] = spec_t.response[0]
            therapies.append(line)
        elif kind == "ctdna" and cond.ctdna is not None:
            self._ctdna_event(profile, cond)
        elif kind == "sensitivity" and cond.sensitivity is not None:
            spec_s = cond.sensitivity
            profile.setdefault("drug_sensitivity", []).append(
                {"agent": self._agent_for(spec_s.agent, spec_s.klass),
                 "result": spec_s.result[0]})
        elif kind == "condition" and cond.condition is not None:
            profile.setdefault("clinical", {}).setdefault("conditions", []).append(
                cond.condition.any_of[0])
        elif kind == "mechanism" and cond.mechanism is not None:
            rules = self.derivers.get(cond.mechanism.any_of[0], [])
            if rules:
                self._add_all(profile, _prefer_simple(rules).when, depth + 1)
        elif kind == "option" and cond.option is not None:
            rules = self.option_rules.get(cond.option.any_of[0], [])
            if rules:
                self._add_all(profile, _prefer_simple(rules).when, depth + 1)
        elif kind == "any" and cond.any:
            self._add(profile, cond.any[0], depth)

    def _ctdna_variant(self, profile: dict[str, Any], gene: str, change: str | None) -> None:
        draws = profile.setdefault("ctdna", [])
        variant = {"gene": gene, "vaf": 0.05, **({"change": change} if change else {})}
        if draws:
            draws[-1].setdefault("variants", []).append(variant)
        else:
            draws.append({"date": _day(60), "variants": [variant]})

    def _ctdna_event(self, profile: dict[str, Any], cond: Condition) -> None:
        spec = cond.ctdna
        assert spec is not None
        event = spec.event[0]
        therapies = profile.setdefault("therapies", [])
        if spec.during_agent or spec.during_class:
            agent = self._agent_for(spec.during_agent, spec.during_class)
            therapies.append({"agents": [agent], "start": _day(0)})
        gene = spec.gene[0] if spec.gene else "KRAS"
        change = spec.change[0] if spec.change else None
        variant = {"gene": gene, **({"change": change} if change else {})}
        if event == "single-draw":
            draws = [{"date": _day(10), "tumour_fraction": 0.05}]
        elif event == "emergent-variant":
            draws = [{"date": _day(10), "tumour_fraction": 0.05},
                     {"date": _day(70), "tumour_fraction": 0.06,
                      "variants": [{**variant, "vaf": 0.04}]}]
        elif event == "molecular-response":
            draws = [{"date": _day(10), "tumour_fraction": 0.2},
                     {"date": _day(70), "tumour_fraction": 0.05}]
        elif event == "clearance":
            draws = [{"date": _day(10), "variants": [{**variant, "vaf": 0.05}]},
                     {"date": _day(70), "variants": []}]
        elif event == "reappearance":
            draws = [{"date": _day(10), "variants": [{**variant, "vaf": 0.05}]},
                     {"date": _day(40), "variants": []},
                     {"date": _day(70), "variants": [{**variant, "vaf": 0.03}]}]
        else:  # rise-from-nadir
            draws = [{"date": _day(10), "tumour_fraction": 0.1},
                     {"date": _day(40), "tumour_fraction": 0.01},
                     {"date": _day(70), "tumour_fraction": 0.04},
                     {"date": _day(100), "tumour_fraction": 0.08}]
        profile["ctdna"] = draws


def _prefer_simple(rules: list[Rule]) -> Rule:
    """The deriving rule with the fewest conditions and no negation."""
    return min(rules, key=lambda r: (any(c.kind == "not" for c in r.when), len(r.when), r.id))
