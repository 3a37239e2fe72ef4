"""The forward-chaining engine: build once, reset per profile, record every firing.

The RETE network is built when the engine is created (about half a
millisecond per rule); evaluations reuse it with ``reset()`` / ``declare`` /
``run()``. An engine is not thread-safe: :class:`Engine` serialises runs with a
lock, and a process pool should build one engine per worker.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ...knowledge.base import KnowledgeBase
from ...knowledge.language import Rule
from ..base import FactRecord, Firing
from . import netcache
from ._compat import experta
from .compile import compile_rules, from_fact, to_fact
from .fastrete import FastEngineMixin, FastMatcher

# experta's submodules, reached through the package imported by the compatibility shim
Agenda: Any = experta.agenda.Agenda
ReteMatcher: Any = experta.matchers.ReteMatcher


class _TrackingAgenda(Agenda):
    """An agenda that remembers the activation being fired (its facts feed the trace)."""

    def __init__(self) -> None:
        super().__init__()
        self.current: Any = None

    def get_next(self) -> Any:
        activation = super().get_next()
        self.current = activation
        return activation


class _DirtyTrackingMatcher(ReteMatcher):
    """experta's RETE matcher, asking only the rules whose terminal node changed.

    The stock matcher polls the conflict-set node of every rule after every
    change (about 250 rules x 80 run steps per profile here); this one records
    which terminal nodes were activated and polls only those, in the same
    order, so the agenda receives exactly the same activations.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._terminals = self._get_conflict_set_nodes()
        self._dirty: set[int] = set()
        for index, node in enumerate(self._terminals):
            node._activate = self._tracked(node._activate, index)

    def _tracked(self, activate: Any, index: int) -> Any:
        dirty = self._dirty

        def tracked(token: Any) -> Any:
            dirty.add(index)
            return activate(token)

        return tracked

    def changes(self, adding: Any = None, deleting: Any = None) -> Any:
        for deleted in deleting or ():
            self.root_node.remove(deleted)
        for added_fact in adding or ():
            self.root_node.add(added_fact)
        added: list[Any] = []
        removed: list[Any] = []
        for index in sorted(self._dirty):
            node_added, node_removed = self._terminals[index].get_activations()
            added.extend(node_added)
            removed.extend(node_removed)
        self._dirty.clear()
        return added, removed

    def reset(self) -> None:
        super().reset()
        for node in self._terminals:  # drop anything a previous run left uncollected
            node.added, node.removed = set(), set()
        self._dirty.clear()


_KnowledgeEngine: Any = experta.KnowledgeEngine


class _Matcher(FastMatcher):
    """The fast matcher, taking its network from the cache when the engine class has one."""

    def build_network(self) -> None:
        network = getattr(self.engine, "network", None)
        if network is None:
            super().build_network()
        else:
            netcache.restore(self, network)


class _BaseEngine(FastEngineMixin, _KnowledgeEngine):
    """KnowledgeEngine that turns each firing of a compiled rule into a derived fact."""

    rules_by_id: dict[str, Rule] = {}
    network: dict[str, Any] | None = None
    """A matcher state read from the cache (:mod:`.netcache`), or None: build the network."""
    __matcher__ = _Matcher
    agenda: Any

    def reset(self, **kwargs: Any) -> None:
        super().reset(**kwargs)
        agenda = _TrackingAgenda()
        agenda.activations = self.agenda.activations
        self.agenda = agenda
        self.firings: list[Firing] = []
        self._records: dict[int, FactRecord] = {}

    def derive(self, rule: Rule) -> tuple[FactRecord, Any]:
        """What ``rule`` derives: the record, and a new (undeclared) experta fact equal to
        ``to_fact(record)``, filled from items frozen once per rule."""
        cache: dict[str, tuple[FactRecord, Any, tuple[tuple[Any, Any], ...]]] = \
            self.__dict__.setdefault("_derived_by_rule", {})
        found = cache.get(rule.id)
        if found is None:
            record = _derived_fact(rule)
            template = to_fact(record)
            found = cache[rule.id] = (record, type(template), tuple(template.items()))
        record, klass, items = found
        fact = klass()
        dict.update(fact, items)
        return record, fact

    def fired(self, rule_id: str) -> None:
        rule = self.rules_by_id[rule_id]
        activation = self.agenda.current
        records = self._records
        matched = []
        for fact in activation.facts if activation is not None else ():
            if isinstance(fact, experta.InitialFact):
                continue
            # a declared fact never changes and stays in the fact list for the whole run
            record = records.get(id(fact))
            if record is None:
                record = records[id(fact)] = from_fact(fact)
            matched.append(record)
        derived, fact = self.derive(rule)
        if self.running:  # what declare() does while running, without re-checking our fact
            self.facts.declare(fact)  # an identical fact (a second match) is dropped
        else:
            self.declare(fact)
        self.firings.append(Firing(rule=rule_id, stage=rule.stage, matched=tuple(matched),
                                   derived=derived))


def _derived_fact(rule: Rule) -> FactRecord:
    then = rule.then
    if rule.stage == "mechanism":
        return FactRecord.of("Mechanism", id=then.mechanism, confidence=then.confidence,
                             rule=rule.id)
    if rule.stage == "option":
        return FactRecord.of("Option", id=rule.option_id, rule=rule.id)
    if rule.stage == "avoid":
        return FactRecord.of("Avoid", rule=rule.id)
    if rule.stage == "caution":
        return FactRecord.of("Caution", id=rule.caution_id, rule=rule.id)
    if rule.stage == "preference":
        return FactRecord.of("Preference", id=rule.preference_id, rule=rule.id)
    return FactRecord.of("Test", rule=rule.id)


@dataclass
class Engine:
    """A compiled knowledge base, ready to evaluate many profiles."""

    kb: KnowledgeBase
    _engine: Any = field(init=False, repr=False)
    _lock: threading.Lock = field(init=False, repr=False, default_factory=threading.Lock)

    def __post_init__(self) -> None:
        cached = netcache.load(self.kb)
        members, network = cached if cached is not None else (compile_rules(self.kb), None)
        engine_class = type("CompiledKnowledgeEngine", (_BaseEngine,), {
            **members, "rules_by_id": dict(self.kb.rules_by_id), "network": network})
        self._engine = engine_class()
        if cached is None:
            netcache.store(self.kb, members, self._engine.matcher)

    @property
    def rule_count(self) -> int:
        return len(self.kb.rules)

    def run(self, facts: Iterable[FactRecord]) -> list[Firing]:
        with self._lock:
            engine = self._engine
            engine.reset()
            batch = [to_fact(f) for f in facts]
            if batch:
                engine.declare(*batch)
            engine.run()
            return list(engine.firings)
