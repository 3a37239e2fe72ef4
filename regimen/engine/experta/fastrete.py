"""experta's RETE matcher with hashed alpha dispatch and a shared, unlinking beta network.

experta tests every fact against every pattern of its type, one opaque
predicate at a time, copies the token at every node it passes, and gives every
rule its own chain of joins, each with its own copy of its right input. This
matcher keeps experta's rule preparation (DNF, ``OR`` branches, ``NOT`` with an
initial fact) and replaces the network it runs:

* the alpha part is a dispatch table per fact class: literal tests (``L``) and
  predicates marked with :func:`indexed` (``one_of``, ``any_in``) are looked up
  in a dict from (field, value) to the patterns that test it, so a fact reaches
  only the patterns whose indexed test it passes; their remaining tests run
  after. Patterns with the same tests (by identity, or by the signature given
  to :func:`indexed` / :func:`signed`) share one alpha memory, tested once;
* the beta part (:mod:`.network`) shares the joins of identical rule prefixes,
  reads right inputs from the shared alpha memories, and unlinks a join or
  negation from its alpha memory while its left memory is empty;
* only the conflict-set nodes that changed are polled for activations;
* nothing is logged at match time.

The result is the same set of activations as :class:`experta.matchers.ReteMatcher`
for every change. Networks this matcher does not handle (variable bindings,
``TEST``, ``EXISTS``, ``FORALL``, composite field constraints) are built and
run by experta's own nodes, unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import chain
from typing import Any

from ._compat import experta
from .network import AlphaMemory, BetaBuilder

_rete: Any = experta.matchers.rete
_nodes: Any = _rete.nodes
_check: Any = _rete.check
_utils: Any = _rete.utils

ReteMatcher: Any = experta.matchers.ReteMatcher
BusNode: Any = _nodes.BusNode
TypeCheck: Any = _check.TypeCheck
FactCapture: Any = _check.FactCapture
FeatureCheck: Any = _check.FeatureCheck
L: Any = experta.L
P: Any = experta.P
W: Any = experta.W

INDEX_ATTRIBUTE = "__regimen_index__"
SIGNATURE_ATTRIBUTE = "__regimen_signature__"

_Predicate = Callable[[Any], bool]
_INDEXABLE_LITERALS = (str, int, float, bool)


def indexed(test: _Predicate, mode: str, values: Iterable[Any]) -> _Predicate:
    """Mark ``test`` as an equality test the matcher may look up in a hash table.

    ``mode="eq"``: ``test(v)`` can be true only if ``v`` is one of ``values``.
    ``mode="any"``: ``test(v)`` can be true only if ``v`` is a tuple holding one
    of ``values``. ``test`` still decides; the table only skips patterns whose
    test cannot pass. Two tests with the same mode and values are treated as the
    same test (they must behave identically).
    """
    if mode not in ("eq", "any"):
        raise ValueError(f"unknown index mode {mode!r}")
    frozen = frozenset(values)
    setattr(test, INDEX_ATTRIBUTE, (mode, frozen))
    setattr(test, SIGNATURE_ATTRIBUTE, ("indexed", test.__qualname__, mode, frozen))
    return test


def signed(test: _Predicate, *signature: Any) -> _Predicate:
    """Mark ``test`` as identical to every test carrying the same ``signature``."""
    setattr(test, SIGNATURE_ATTRIBUTE, ("signed", test.__qualname__, *signature))
    return test


class _Route:
    """The patterns of one fact class, indexed by their most selective equality test."""

    def __init__(self) -> None:
        self.groups: list[AlphaMemory] = []
        self.unindexed: list[int] = []
        self.eq: dict[str, dict[Any, list[int]]] = {}
        self.any: dict[str, dict[Any, list[int]]] = {}

    def add(self, group: AlphaMemory, index: tuple[str, str, frozenset[Any]] | None) -> None:
        number = len(self.groups)
        self.groups.append(group)
        if index is None:
            self.unindexed.append(number)
            return
        mode, what, values = index
        table = (self.eq if mode == "eq" else self.any).setdefault(what, {})
        for value in values:
            table.setdefault(value, []).append(number)

    def candidates(self, fact: Any) -> list[int]:
        found: set[int] = set(self.unindexed)
        for what, table in self.eq.items():
            try:
                hits = table.get(fact[what])
            except (IndexError, KeyError, TypeError):
                continue
            if hits:
                found.update(hits)
        for what, table in self.any.items():
            try:
                value = fact[what]
            except (IndexError, KeyError, TypeError):
                continue
            if isinstance(value, tuple):
                for element in value:
                    try:
                        hits = table.get(element)
                    except TypeError:
                        continue
                    if hits:
                        found.update(hits)
        return sorted(found)


class _Router(BusNode):
    """The root: sends each fact to the patterns it can match, by class and hashed value."""

    def __init__(self) -> None:
        super().__init__()
        self.routes: dict[type, _Route] = {}

    def add(self, fact: Any) -> None:
        self._route(fact, True)

    def remove(self, fact: Any) -> None:
        self._route(fact, False)

    def _route(self, fact: Any, adding: bool) -> None:
        route = self.routes.get(type(fact))
        if route is None:
            return
        groups = route.groups
        for number in route.candidates(fact):
            group = groups[number]
            if group.passes(fact):
                group.activate(fact, adding)


def _plain_capture(check: Any) -> bool:
    return isinstance(check.bind, str) and check.bind.startswith("__pattern_")


def _plain_feature(check: Any) -> bool:
    what, how = check.what, check.how
    if not isinstance(what, str) or "__" in what or what.isnumeric():
        return False
    return isinstance(how, L | P | W) and how.__bind__ is None


def _signature(check: Any) -> Any:
    if isinstance(check.how, P):
        signature = getattr(check.how.match, SIGNATURE_ATTRIBUTE, None)
        if signature is not None:
            return ("P", check.what, signature)
    return check


def _index(check: Any) -> tuple[str, str, frozenset[Any]] | None:
    how = check.how
    if isinstance(how, L):
        if isinstance(how.value, _INDEXABLE_LITERALS):
            return ("eq", check.what, frozenset((how.value,)))
        return None
    if not isinstance(how, P):
        return None
    marked = getattr(how.match, INDEX_ATTRIBUTE, None)
    if marked is None:
        return None
    mode, values = marked
    return (mode, check.what, values)


class FastMatcher(ReteMatcher):
    """RETE matcher with hashed alpha dispatch; same activations as experta's."""

    def __init__(self, engine: Any) -> None:
        self.fast = False
        self._terminals: tuple[Any, ...] = ()
        self._dirty: set[int] = set()
        self._touched: list[Any] = []
        self.beta_nodes = 0
        """Join and negation nodes in the fast network (shared prefixes counted once)."""
        super().__init__(engine)

    # -- building -------------------------------------------------------
    @staticmethod
    def prepare_ruleset(engine: Any) -> set[Any]:
        """experta's rule preparation, without the DNF rewrite of rules already in DNF.

        A rule made only of patterns and negated patterns whose fields hold no
        composite constraint (``|``, ``&``, ``~``) is its own disjunctive
        normal form: experta's rewrite rebuilds it, fact by fact, into an equal
        rule. Such a rule gets only what experta's preparation adds (an initial
        fact before a leading ``NOT``, or in an empty rule); every other rule
        goes through experta's ``prepare_rule``.
        """
        return {_prepare(rule) for rule in engine.get_rules()}

    def build_network(self) -> None:
        ruleset = self.prepare_ruleset(self.engine)
        built = self._build(ruleset)
        if built is None:  # something only experta's own nodes handle
            super().build_network()
            self._terminals = self._get_conflict_set_nodes()
            return
        self.root_node, self._terminals = built
        self.fast = True

    def _build(self, ruleset: set[Any]) -> tuple[_Router, tuple[Any, ...]] | None:
        alpha = self._build_alpha(ruleset)
        if alpha is None:
            return None
        router, patterns = alpha
        rules = []
        for rule in sorted(ruleset, key=_rule_order):
            if isinstance(rule[0], experta.OR):
                if len(rule) > 1:
                    return None
                branches = [_elements(branch) for branch in rule[0]]
            else:
                branches = [_elements(rule)]
            elements = []
            for branch in branches:
                if branch is None or not branch[0][0]:
                    return None
                elements.append([(positive, *patterns[fact]) for positive, fact in branch])
            rules.append((rule, elements))
        builder = BetaBuilder(self._touched, self._dirty)
        for rule, branch_elements in rules:
            builder.add_rule(rule, branch_elements)
        self.beta_nodes = len(builder.nodes)
        return router, tuple(builder.terminals)

    def _build_alpha(self, ruleset: set[Any]
                     ) -> tuple[_Router, dict[Any, tuple[AlphaMemory, str]]] | None:
        ruleset = set(ruleset)
        ruleset.add(experta.Rule(experta.InitialFact()))
        for rule in ruleset:
            if _contains_unsupported(rule):
                return None
        rule_facts = {rule: _utils.extract_facts(rule) for rule in ruleset}
        fact_checks = {fact: set(_utils.generate_checks(fact))
                       for fact in chain.from_iterable(rule_facts.values())}
        router = _Router()
        groups: dict[tuple[Any, frozenset[Any]], AlphaMemory] = {}
        patterns: dict[Any, tuple[AlphaMemory, str]] = {}
        for fact, checks in sorted(fact_checks.items(), key=lambda item: _order(item[1])):
            fact_type = None
            capture = None
            features = []
            for check in checks:
                if isinstance(check, TypeCheck):
                    fact_type = check.fact_type
                elif isinstance(check, FactCapture) and _plain_capture(check):
                    capture = check.bind
                elif isinstance(check, FeatureCheck) and _plain_feature(check):
                    features.append(check)
                else:
                    return None
            if fact_type is None or capture is None:
                return None
            features.sort(key=lambda c: (c.what, repr(_signature(c))))
            group_key = (fact_type, frozenset(_signature(c) for c in features))
            group = groups.get(group_key)
            if group is None:
                group = AlphaMemory([(c.what, c.check, c.expected) for c in features],
                                    self._touched)
                groups[group_key] = group
                indexes = [i for i in map(_index, features) if i is not None]
                best = min(indexes, key=lambda i: (len(i[2]), i[1]), default=None)
                router.routes.setdefault(fact_type, _Route()).add(group, best)
            patterns[fact] = (group, capture)
        return router, patterns

    # -- running --------------------------------------------------------
    def changes(self, adding: Any = None, deleting: Any = None) -> Any:
        if not self.fast:
            return super().changes(adding, deleting)
        root = self.root_node
        for deleted in deleting or ():
            root.remove(deleted)
        for added_fact in adding or ():
            root.add(added_fact)
        added: list[Any] = []
        removed: list[Any] = []
        terminals = self._terminals
        for index in sorted(self._dirty):
            node_added, node_removed = terminals[index].get_activations()
            added.extend(node_added)
            removed.extend(node_removed)
        self._dirty.clear()
        return added, removed

    def reset(self) -> None:
        """Empty the memories a previous run filled (and anything left uncollected)."""
        if not self.fast:
            super().reset()
            for node in self._terminals:
                node.added, node.removed = set(), set()
        for node in self._touched:
            node.reset()
        self._touched.clear()
        for index in self._dirty:
            self._terminals[index].reset()
        self._dirty.clear()


_DepthStrategy: Any = experta.strategies.DepthStrategy


class FastDepthStrategy(_DepthStrategy):
    """experta's depth strategy (same keys, same order) without memoising its keys.

    experta caches ``get_key`` in an ``lru_cache``, which hashes every activation
    (its rule, facts and context) to look the key up; computing the key is cheaper.
    """

    def get_key(self, activation: Any) -> tuple[Any, list[int]]:
        facts = sorted((f["__factid__"] for f in activation.facts), reverse=True)
        return (activation.rule.salience, facts)


class FastEngineMixin:
    """KnowledgeEngine methods without per-step logging or per-reset member scans.

    experta formats every fired activation for its ``RULES`` watcher even when
    nobody listens, and looks up the engine's deffacts with ``inspect.getmembers``
    on every ``reset()``; with a few thousand rules that scan costs more than
    the run. Mix in before ``KnowledgeEngine``.
    """

    _deffacts: list[Any] | None = None
    __strategy__ = FastDepthStrategy

    def get_deffacts(self) -> list[Any]:
        if self._deffacts is None:
            self._deffacts = super().get_deffacts()  # type: ignore[misc]
        return self._deffacts

    def run(self, steps: float = float("inf")) -> None:
        if experta.watchers.worth("RULES", "INFO") or experta.watchers.worth("AGENDA", "DEBUG"):
            super().run(steps)  # type: ignore[misc]
            return
        engine: Any = self
        engine.running = True
        while steps > 0 and engine.running:
            added, removed = engine.get_activations()
            engine.strategy.update_agenda(engine.agenda, added, removed)
            activation = engine.agenda.get_next()
            if activation is None:
                break
            steps -= 1
            activation.rule(engine, **{k: v for k, v in activation.context.items()
                                       if not k.startswith("__")})
        engine.running = False


_COMPOSITE = (experta.fieldconstraint.ORFC, experta.fieldconstraint.ANDFC,
              experta.fieldconstraint.NOTFC, experta.Fact)


def _plain_pattern(element: Any) -> bool:
    return isinstance(element, experta.Fact) and not any(
        isinstance(value, _COMPOSITE)
        for value in element.values())


def _prepare(rule: Any) -> Any:
    """``experta``'s ``prepare_rule``, short-cut for rules already in normal form."""
    if not all(_plain_pattern(e) or (isinstance(e, experta.NOT) and len(e) == 1
                                     and _plain_pattern(e[0])) for e in rule):
        return _utils.prepare_rule(rule)
    if not rule:
        return rule.new_conditions(experta.InitialFact())
    if isinstance(rule[0], experta.NOT):
        return rule.new_conditions(experta.InitialFact(), *rule)
    return rule.new_conditions(*rule)


def _elements(branch: Any) -> list[tuple[bool, Any]] | None:
    """A prepared branch as (positive?, pattern) pairs, or None if it holds anything else."""
    if isinstance(branch, experta.Fact):
        return [(True, branch)]
    if not isinstance(branch, experta.Rule | experta.AND):
        return None
    found: list[tuple[bool, Any]] = []
    for element in branch:
        if isinstance(element, experta.Fact):
            found.append((True, element))
        elif isinstance(element, experta.NOT) and len(element) == 1 \
                and isinstance(element[0], experta.Fact):
            found.append((False, element[0]))
        else:
            return None
    return found or None


def _rule_order(rule: Any) -> str:
    """A stable build order for rules (the order terminals are polled in)."""
    return str(getattr(rule, "__name__", ""))


def _order(checks: set[Any]) -> str:
    """A stable build order for patterns (their capture keys are unique)."""
    for check in checks:
        if isinstance(check, FactCapture):
            return str(check.bind)
    return ""


def _contains_unsupported(element: Any) -> bool:
    ce = experta.conditionalelement
    if isinstance(element, ce.TEST | ce.EXISTS | ce.FORALL):
        return True
    if isinstance(element, experta.Fact):
        return False
    return any(_contains_unsupported(e) for e in element)
