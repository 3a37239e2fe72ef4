"""The loaded knowledge base: rules, agents, mechanisms, sources and vocabulary."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from .conditions import Condition, walk_conditions
from .language import Agent, Exclusion, Manifest, Mechanism, Rule, Source
from .reads import Reads, collect_reads
from .vocabulary import Vocabulary


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
        self._condition_json: dict[tuple[str, int], tuple[Condition, dict[str, Any]]] | None = \
            None
        self._members: dict[str, set[str]] = {}
        for agent in agents.values():
            for klass in agent.classes:
                self._members.setdefault(klass, set()).add(agent.id)

    @property
    def version(self) -> str:
        return self.manifest.version

    def members_of(self, agent_or_class: str) -> set[str]:
        """A class id -> the agents in it (and itself); an agent id -> itself."""
        return {agent_or_class} | self._members.get(agent_or_class, set())

    def expand(self, ids: list[str] | tuple[str, ...]) -> set[str]:
        out: set[str] = set()
        for item in ids:
            out |= self.members_of(item)
        return out

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
