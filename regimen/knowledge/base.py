"""The loaded knowledge base: rules, agents, mechanisms, sources and vocabulary."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from .conditions import Condition, walk_conditions
from .language import Agent, Exclusion, Manifest, Mechanism, Rule, Source
from .plans import Plan, assessment_plans
from .reads import Reads, collect_reads
from .vocabulary import Vocabulary

T = TypeVar("T")
K = TypeVar("K")
V = TypeVar("V")


class KnowledgeBase:
    """Everything under one knowledge directory, validated."""

    def __init__(
        self,
        *,
        root: Path,
        manifest: Manifest,
        sources: dict[str, Source],
        vocabulary: Vocabulary,
        agents: dict[str, Agent],
        mechanisms: dict[str, Mechanism],
        rules: list[Rule],
        rule_files: dict[str, str],
        exclusions: list[Exclusion],
        digest: str,
        standard_as_of: dt.date | None = None,
    ) -> None:
        self.root = root
        self.manifest = manifest
        self.sources = sources
        self.vocabulary = vocabulary
        self.agents = agents
        self.mechanisms = mechanisms
        self.rules = rules
        self.rule_files = rule_files
        self.exclusions = exclusions
        self.digest = digest
        self.standard_as_of = standard_as_of
        self.rules_by_id = {rule.id: rule for rule in rules}
        self._used_genes: set[str] | None = None
        self._used_agents: set[str] | None = None
        self._reads: Reads | None = None
        self._plans: dict[str, Plan] | None = None
        self._condition_json: dict[tuple[str, int], tuple[Condition, dict[str, Any]]] | None = \
            None
        self._members: dict[str, set[str]] = {}
        for agent in agents.values():
            for klass in agent.classes:
                self._members.setdefault(klass, set()).add(agent.id)
        # look-ups built on first use (the knowledge base does not change once loaded)
        self._by_stage: dict[str, tuple[Rule, ...]] | None = None
        self._deriving: dict[tuple[str, str], tuple[Rule, ...]] | None = None
        self._expanded: dict[tuple[str, ...], frozenset[str]] = {}
        self._with_classes: dict[tuple[str, ...], frozenset[str]] = {}
        self._indexes: dict[str, Any] = {}

    @property
    def version(self) -> str:
        return self.manifest.version

    def members_of(self, agent_or_class: str) -> set[str]:
        """A class id -> the agents in it (and itself); an agent id -> itself."""
        return {agent_or_class} | self._members.get(agent_or_class, set())

    def expand(self, ids: list[str] | tuple[str, ...]) -> set[str]:
        """Every agent or class id in ``ids`` with the members of each class (a new set)."""
        return set(self.expanded(ids))

    def expanded(self, ids: list[str] | tuple[str, ...]) -> frozenset[str]:
        """:meth:`expand` as a shared, immutable set, computed once per tuple of ids."""
        key = tuple(ids)
        found = self._expanded.get(key)
        if found is None:
            out: set[str] = set()
            for item in key:
                out |= self.members_of(item)
            found = frozenset(out)
            _remember(self._expanded, key, found)
        return found

    def index(self, name: str, build: Callable[[KnowledgeBase], T]) -> T:
        """A look-up table that an evaluation step derives from this knowledge base: built
        by ``build`` on first use and kept with the knowledge base (which does not change
        once loaded), so every later evaluation reuses it."""
        if name not in self._indexes:
            self._indexes[name] = build(self)
        found: T = self._indexes[name]
        return found

    def with_classes(self, agents: list[str] | tuple[str, ...]) -> frozenset[str]:
        """The agents and every class they belong to (memoised like :meth:`expanded`)."""
        key = tuple(agents)
        found = self._with_classes.get(key)
        if found is None:
            found = frozenset({*key, *(c for a in key for c in self.classes_of(a))})
            _remember(self._with_classes, key, found)
        return found

    def rules_at(self, stage: str) -> tuple[Rule, ...]:
        """The rules of one stage, in knowledge-base order (indexed on first use)."""
        if self._by_stage is None:
            by_stage: dict[str, list[Rule]] = {}
            for rule in self.rules:
                by_stage.setdefault(rule.stage, []).append(rule)
            self._by_stage = {stage: tuple(rules) for stage, rules in by_stage.items()}
        return self._by_stage.get(stage, ())

    def rules_deriving(self, kind: str, value: str) -> tuple[Rule, ...]:
        """The ``mechanism`` rules deriving mechanism ``value``, or the ``option`` rules
        proposing option ``value``, in knowledge-base order (indexed on first use)."""
        if self._deriving is None:
            deriving: dict[tuple[str, str], list[Rule]] = {}
            for rule in self.rules:
                if rule.stage == "mechanism" and rule.then.mechanism is not None:
                    deriving.setdefault(("mechanism", rule.then.mechanism), []).append(rule)
                elif rule.stage == "option":
                    deriving.setdefault(("option", rule.option_id), []).append(rule)
            self._deriving = {key: tuple(rules) for key, rules in deriving.items()}
        return self._deriving.get((kind, value), ())

    def blunts_of(self, rule_ids: list[str]) -> list[str]:
        """What the mechanism derived by these fired rules blunts: the union of each rule's
        own ``then.blunts``, or its mechanism's ``blunts`` where the rule gives none."""
        out: set[str] = set()
        for rule_id in rule_ids:
            then = self.rules_by_id[rule_id].then
            assert then.mechanism is not None
            out.update(then.blunts if then.blunts is not None
                       else self.mechanisms[then.mechanism].blunts)
        return sorted(out)

    def active_ingredient(self, agent: str) -> str:
        """``nab-paclitaxel`` -> ``paclitaxel``: formulations share their drug's history."""
        found = self.agents.get(agent)
        return found.formulation_of if found is not None and found.formulation_of else agent

    def classes_of(self, agent: str) -> tuple[str, ...]:
        """The classes an agent belongs to; a class or target id belongs to itself too."""
        found = self.agents.get(agent)
        if found is None:
            return ()
        if found.kind in ("class", "target"):
            return (agent, *found.classes)
        return tuple(found.classes)

    def used_genes(self) -> set[str]:
        """Genes any rule names (computed once; the knowledge base does not change)."""
        if self._used_genes is None:
            self._used_genes = self._collect_used_genes()
        return set(self._used_genes)

    def used_agents(self) -> set[str]:
        """Agents any rule or mechanism names, classes expanded (computed once)."""
        if self._used_agents is None:
            self._used_agents = self._collect_used_agents()
        return set(self._used_agents)

    def reads(self) -> Reads:
        """What the rules read, by kind (computed once; the knowledge base does not change)."""
        if self._reads is None:
            self._reads = collect_reads(self)
        return self._reads

    def plans(self) -> dict[str, Plan]:
        """Rule id -> the order its conditions are assessed in for conditional options
        (:mod:`regimen.knowledge.plans`; computed once, shared: do not change it)."""
        if self._plans is None:
            table = self._condition_table()
            self._plans = assessment_plans(
                self.rules, lambda rule_id, i, cond: table[(rule_id, i)][1])
        return self._plans

    def condition_json(self, rule_id: str, index: int, cond: Condition) -> dict[str, Any]:
        """``cond``, condition ``index`` of rule ``rule_id``, as JSON data (by alias, without
        unset kinds), from a table computed once, so that an evaluation serialises no rule."""
        found = self._condition_table().get((rule_id, index))
        if found is None or found[0] is not cond:  # not the rule loaded: no table entry
            return _condition_json(cond)
        return _copy(found[1])

    def _condition_table(self) -> dict[tuple[str, int], tuple[Condition, dict[str, Any]]]:
        if self._condition_json is None:
            self._condition_json = {
                (rule.id, i): (c, _condition_json(c))
                for rule in self.rules for i, c in enumerate(rule.when)}
        return self._condition_json

    def derive(self) -> None:
        """Compute now what is derived from the rules and computed once (the loader does,
        so that the knowledge-base cache keeps it)."""
        self.used_genes()
        self.used_agents()
        self.reads()
        self._condition_table()
        self.plans()

    def _collect_used_genes(self) -> set[str]:
        genes: set[str] = set()
        for rule in self.rules:
            for cond in walk_conditions(rule.when):
                genes |= cond.spec.genes()
        return genes

    def _collect_used_agents(self) -> set[str]:
        agents: set[str] = set()
        for rule in self.rules:
            for cond in walk_conditions(rule.when):
                agents |= self.expand(sorted(cond.spec.agents()))
            then = rule.then
            if then.option:
                agents |= self.expand(then.option.agents)
            if then.avoid:
                agents |= self.expand(then.avoid.agents)
            if then.caution:
                agents |= self.expand(then.caution.applies_to)
            agents |= self.expand(then.blunts or [])
        for mechanism in self.mechanisms.values():
            agents |= self.expand(mechanism.blunts)
        return agents


def _condition_json(cond: Condition) -> dict[str, Any]:
    return cond.model_dump(mode="json", by_alias=True, exclude_none=True)


def _copy(value: Any) -> Any:
    """A copy of JSON data (dicts, lists and scalars), so no caller shares the table's."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


MEMO_SIZE = 20_000
"""Entries a memo of the knowledge base keeps before it starts again (the keys are the
knowledge base's own ids, so this is only a bound against unexpected growth)."""


def _remember(memo: dict[K, V], key: K, value: V) -> None:
    if len(memo) >= MEMO_SIZE:
        memo.clear()
    memo[key] = value
