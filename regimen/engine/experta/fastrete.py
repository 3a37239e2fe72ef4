"""experta's RETE matcher with hashed alpha dispatch and copy-free joins.

experta tests every fact against every pattern of its type, one opaque
predicate at a time, and copies the token at every node it passes. This
matcher keeps experta's network builder, its rule preparation (DNF, ``OR``
branches, ``NOT`` with an initial fact) and its beta wiring, and replaces
what runs at match time:

* the alpha part is a dispatch table per fact class: literal tests (``L``) and
  predicates marked with :func:`indexed` (``one_of``, ``any_in``) are looked up
  in a dict from (field, value) to the patterns that test it, so a fact reaches
  only the patterns whose indexed test it passes; their remaining tests run
  after. Patterns with the same tests (by identity, or by the signature given
  to :func:`indexed` / :func:`signed`) are tested once;
* joins, negations and conflict-set nodes keep their memories in dicts keyed by
  the token's captures and never copy a token;
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

_rete: Any = experta.matchers.rete
_nodes: Any = _rete.nodes
_check: Any = _rete.check
_utils: Any = _rete.utils
_token: Any = _rete.token

ReteMatcher: Any = experta.matchers.ReteMatcher
BusNode: Any = _nodes.BusNode
OrdinaryMatchNode: Any = _nodes.OrdinaryMatchNode
NotNode: Any = _nodes.NotNode
ConflictSetNode: Any = _nodes.ConflictSetNode
Activation: Any = experta.activation.Activation
Token: Any = _token.Token
TypeCheck: Any = _check.TypeCheck
FactCapture: Any = _check.FactCapture
FeatureCheck: Any = _check.FeatureCheck
L: Any = experta.L
P: Any = experta.P
W: Any = experta.W

VALID: Any = Token.TagType.VALID
INVALID: Any = Token.TagType.INVALID

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


def _key(context: dict[Any, Any]) -> tuple[Any, ...]:
    return tuple(context.items())


def _compatible(left: dict[Any, Any], right: dict[Any, Any]) -> bool:
    """experta's ``SameContextCheck`` for contexts holding only fact captures."""
    return all(key not in right or right[key] == value for key, value in left.items())


def _emit(children: list[Any], token: Any) -> None:
    for child in children:
        child.callback(token)


class _Capture:
    """The alpha terminal of one pattern: binds the fact to the pattern's capture key."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.children: list[Any] = []
        self.keys = frozenset((key,))

    def add_child(self, node: Any, callback: Any) -> None:
        if node not in self.children:
            self.children.append(_nodes.mixins.ChildNode(node, callback))

    def reset(self) -> None:  # memoryless; kept for experta's recursive reset
        for child in self.children:
            child.node.reset()


class _Group:
    """Patterns of one fact class with the same tests, tested once per fact."""

    def __init__(self, tests: list[tuple[str, Any, Any]]) -> None:
        self.tests = tests
        self.captures: list[_Capture] = []

    def passes(self, fact: Any) -> bool:
        for what, check, expected in self.tests:
            try:
                record = fact[what]
            except (IndexError, KeyError, TypeError):
                return False
            if not check(record, expected):
                return False
        return True


class _Route:
    """The patterns of one fact class, indexed by their most selective equality test."""

    def __init__(self) -> None:
        self.groups: list[_Group] = []
        self.unindexed: list[int] = []
        self.eq: dict[str, dict[Any, list[int]]] = {}
        self.any: dict[str, dict[Any, list[int]]] = {}

    def add(self, group: _Group, index: tuple[str, str, frozenset[Any]] | None) -> None:
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
        self._route(fact, VALID)

    def remove(self, fact: Any) -> None:
        self._route(fact, INVALID)

    def _route(self, fact: Any, tag: Any) -> None:
        route = self.routes.get(type(fact))
        if route is None:
            return
        data = frozenset((fact,))
        groups = route.groups
        for number in route.candidates(fact):
            group = groups[number]
            if not group.passes(fact):
                continue
            for capture in group.captures:
                token = tuple.__new__(Token, (tag, data, {capture.key: fact}))
                for child in capture.children:
                    child.callback(token)


class FastJoinNode(OrdinaryMatchNode):
    """experta's two-input join with dict memories and no token copies."""

    check_contexts = True
    touched: list[Any] = []

    def _reset(self) -> None:
        self.left_memory: dict[Any, tuple[Any, dict[Any, Any]]] = {}
        self.right_memory: dict[Any, tuple[Any, dict[Any, Any]]] = {}

    def activate_left(self, token: Any) -> None:
        tag, data, context = token
        key = _key(context)
        if tag is VALID:
            if not self.left_memory and not self.right_memory:
                self.touched.append(self)
            self.left_memory[key] = (data, context)
        else:
            self.left_memory.pop(key, None)
        check = self.check_contexts
        for other_data, other_context in self.right_memory.values():
            if check and not _compatible(context, other_context):
                continue
            joined = tuple.__new__(
                Token, (tag, data | other_data, {**context, **other_context}))
            for child in self.children:
                child.callback(joined)

    def activate_right(self, token: Any) -> None:
        tag, data, context = token
        key = _key(context)
        if tag is VALID:
            if not self.left_memory and not self.right_memory:
                self.touched.append(self)
            self.right_memory[key] = (data, context)
        else:
            self.right_memory.pop(key, None)
        check = self.check_contexts
        for other_data, other_context in self.left_memory.values():
            if check and not _compatible(other_context, context):
                continue
            joined = tuple.__new__(
                Token, (tag, other_data | data, {**other_context, **context}))
            for child in self.children:
                child.callback(joined)


class FastNotNode(NotNode):
    """experta's negation node with dict memories and no token copies."""

    check_contexts = True
    touched: list[Any] = []

    def _reset(self) -> None:
        self.left_memory: dict[Any, list[Any]] = {}
        self.right_memory: dict[Any, dict[Any, Any]] = {}

    def _matches(self, context: dict[Any, Any]) -> int:
        if not self.check_contexts:
            return len(self.right_memory)
        return sum(1 for right in self.right_memory.values() if _compatible(context, right))

    def activate_left(self, token: Any) -> None:
        tag, data, context = token
        key = _key(context)
        if tag is VALID:
            count = self._matches(context) if self.right_memory else 0
            if not self.left_memory and not self.right_memory:
                self.touched.append(self)
            self.left_memory[key] = [count, data, context]
            if count == 0:
                _emit(self.children, token)
        else:
            blocked = bool(self.right_memory) and self._matches(context) > 0
            self.left_memory.pop(key, None)
            if not blocked:
                _emit(self.children, token)

    def activate_right(self, token: Any) -> None:
        tag, _data, context = token
        key = _key(context)
        if tag is VALID:
            if not self.left_memory and not self.right_memory:
                self.touched.append(self)
            self.right_memory[key] = context
            step = 1
        else:
            if self.right_memory.pop(key, None) is None:
                return
            step = -1
        check = self.check_contexts
        for entry in self.left_memory.values():
            if check and not _compatible(entry[2], context):
                continue
            entry[0] += step
            if step == -1 and entry[0] == 0:
                _emit(self.children, tuple.__new__(Token, (VALID, entry[1], entry[2])))
            elif step == 1 and entry[0] == 1:
                _emit(self.children, tuple.__new__(Token, (INVALID, entry[1], entry[2])))


class FastConflictSetNode(ConflictSetNode):
    """experta's conflict-set node that reports itself changed to the matcher."""

    index = 0
    dirty: set[int] = set()
    touched: list[Any] = []

    def _reset(self) -> None:
        self.memory: set[Any] = set()

    def activate(self, token: Any) -> None:
        tag, data, context = token
        key = _key(context)
        if tag is VALID:
            if key in self.memory:
                return
            if not self.memory:
                self.touched.append(self)
            self.memory.add(key)
            activation = self._activation(data, context)
            if self.removed and activation in self.removed:
                self.removed.remove(activation)
            else:
                self.added.add(activation)
        else:
            if key not in self.memory:
                return
            self.memory.remove(key)
            activation = self._activation(data, context)
            if self.added and activation in self.added:
                self.added.remove(activation)
            else:
                self.removed.add(activation)
        self.dirty.add(self.index)

    def _activation(self, data: Any, context: dict[Any, Any]) -> Any:
        names = {k: v for k, v in context.items() if isinstance(k, str)}
        return _Activation(self.rule, data, names)


class _Activation(Activation):
    """experta's activation, hashing its rule, facts and context once (none of them change)."""

    _hash: int | None = None

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = super().__hash__()
        return self._hash


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
        super().__init__(engine)

    # -- building -------------------------------------------------------
    def build_network(self) -> None:
        ruleset = self.prepare_ruleset(self.engine)
        alpha = self._build_alpha(ruleset)
        if alpha is None:  # something only experta's own nodes handle
            super().build_network()
            self._terminals = self._get_conflict_set_nodes()
            return
        self.root_node = alpha[0]
        self.build_beta_part(ruleset, alpha[1])
        self._speed_up(list(alpha[1].values()))
        self.fast = True

    def _build_alpha(self, ruleset: set[Any]) -> tuple[_Router, dict[Any, _Capture]] | None:
        ruleset = set(ruleset)
        ruleset.add(experta.Rule(experta.InitialFact()))
        for rule in ruleset:
            if _contains_unsupported(rule):
                return None
        rule_facts = {rule: _utils.extract_facts(rule) for rule in ruleset}
        fact_checks = {fact: set(_utils.generate_checks(fact))
                       for fact in chain.from_iterable(rule_facts.values())}
        router = _Router()
        groups: dict[tuple[Any, frozenset[Any]], _Group] = {}
        terminals: dict[Any, _Capture] = {}
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
                group = _Group([(c.what, c.check, c.expected) for c in features])
                groups[group_key] = group
                indexes = [i for i in map(_index, features) if i is not None]
                best = min(indexes, key=lambda i: (len(i[2]), i[1]), default=None)
                router.routes.setdefault(fact_type, _Route()).add(group, best)
            terminal = _Capture(capture)
            group.captures.append(terminal)
            terminals[fact] = terminal
        return router, terminals

    def _speed_up(self, captures: list[_Capture]) -> None:
        """Swap experta's beta nodes for the fast ones and record memories and terminals."""
        replacements = {OrdinaryMatchNode: FastJoinNode, NotNode: FastNotNode,
                        ConflictSetNode: FastConflictSetNode}
        seen: dict[int, Any] = {}
        order: list[Any] = []
        parents: dict[int, list[tuple[Any, str]]] = {}
        stack: list[Any] = list(reversed(captures))
        while stack:
            node = stack.pop()
            for child in node.children:
                name = child.callback.__name__
                parents.setdefault(id(child.node), []).append((node, name))
                if id(child.node) not in seen:
                    seen[id(child.node)] = child.node
                    order.append(child.node)
                    stack.append(child.node)
        for node in order:
            node.__class__ = replacements[type(node)]
            node._reset()
        for node in chain(captures, order):
            node.children[:] = [
                _nodes.mixins.ChildNode(c.node, getattr(c.node, c.callback.__name__))
                for c in node.children]
        keys: dict[int, frozenset[str]] = {id(c): c.keys for c in captures}

        def keys_of(node: Any) -> frozenset[str]:
            if id(node) not in keys:
                found: frozenset[str] = frozenset()
                for parent, port in parents[id(node)]:
                    if port != "activate_right" or not isinstance(node, FastNotNode):
                        found |= keys_of(parent)
                keys[id(node)] = found
            return keys[id(node)]

        for node in order:
            if isinstance(node, FastJoinNode | FastNotNode):
                sides: dict[str, frozenset[str]] = {"activate_left": frozenset(),
                                                    "activate_right": frozenset()}
                for parent, port in parents[id(node)]:
                    sides[port] |= keys_of(parent)
                node.check_contexts = bool(sides["activate_left"] & sides["activate_right"])
        terminals = [n for n in order if isinstance(n, FastConflictSetNode)]
        for index, node in enumerate(terminals):
            node.index = index
            node.dirty = self._dirty
        for node in order:
            node.touched = self._touched
        self._terminals = tuple(terminals)

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
            node._reset()
        self._touched.clear()
        for index in self._dirty:
            node = self._terminals[index]
            node.added, node.removed = set(), set()
        self._dirty.clear()


class FastEngineMixin:
    """KnowledgeEngine methods without per-step logging or per-reset member scans.

    experta formats every fired activation for its ``RULES`` watcher even when
    nobody listens, and looks up the engine's deffacts with ``inspect.getmembers``
    on every ``reset()``; with a few thousand rules that scan costs more than
    the run. Mix in before ``KnowledgeEngine``.
    """

    _deffacts: list[Any] | None = None

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
