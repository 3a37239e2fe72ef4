"""The beta network of the fast matcher: shared alpha memories, shared join prefixes, unlinking.

Classic RETE (Doorenbos 1995, *Production Matching for Large Learning
Systems*), in the form :class:`~.fastrete.FastMatcher` needs:

* **Alpha memories.** Patterns of one fact class with the same tests share one
  :class:`AlphaMemory`: the facts that pass, stored once, whatever the number
  of rules and patterns that use them. A join reads its right input from the
  alpha memory instead of keeping a copy.
* **Shared prefixes.** A token is the tuple of the facts matched by the
  positive patterns so far. Two rules (or ``OR`` branches) that start with the
  same patterns, in the same order, share the join nodes of that prefix: the
  joins are computed once and the conflict-set nodes of both rules hang off the
  last shared node.
* **Unlinking.** A join or negation whose left memory is empty is unlinked from
  its alpha memory, so a fact that reaches the alpha memory skips it. When its
  left memory fills again it is relinked; it needs no catch-up, because its
  right input *is* the alpha memory.

The one subtle point is a fact that reaches a node on both inputs while it is
being added (or removed): the same alpha memory, or two alpha memories the
fact passes, can feed a join's left side (through the joins above it) and its
right side. Each alpha memory hands a fact to its successors one at a time, in
a fixed order, and stores (or drops) the fact only after the last one. A node
activated on the left while its alpha memory is handing out fact ``f`` treats
``f`` as already in its right memory exactly when its own right input came
before the current successor in that order, that is when a right activation
for ``f`` has happened (or, unlinked, would have happened) already; a fact
another alpha memory has not handed out yet is not in that memory yet. Each
pair of a left token and a right fact is therefore joined exactly once, as
with experta's per-node memories.

Conflict-set nodes (:class:`Terminal`) turn tokens into experta activations
with the rule's own capture names, so the activations are equal to experta's.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Callable
from typing import Any

from ._compat import experta

Activation: Any = experta.activation.Activation

Deliver = Callable[[Any, bool], None]
"""A successor of an alpha memory: called with a fact and True (added) or False (removed)."""
Child = Callable[[tuple[Any, ...], bool], None]
"""A successor of a beta node: called with a token and True (added) or False (removed)."""


class AlphaMemory:
    """Facts of one class that pass one set of tests, and the nodes they feed, in order."""

    __slots__ = (
        "adding",
        "current",
        "dirty",
        "linked",
        "memory",
        "permanent",
        "position",
        "successors",
        "tests",
        "touched",
        "version",
    )

    def __init__(self, tests: list[tuple[str, Any, Any]], touched: list[Any]) -> None:
        self.tests = tests
        self.memory: dict[Any, None] = {}
        self.successors = 0
        self.permanent: list[tuple[int, Deliver]] = []
        self.linked: list[tuple[int, Deliver]] = []
        self.version = 0
        self.current: Any = None
        self.adding = True
        self.position = -1
        self.touched = touched
        self.dirty = False

    def passes(self, fact: Any) -> bool:
        for what, check, expected in self.tests:
            try:
                record = fact[what]
            except (IndexError, KeyError, TypeError):
                return False
            if not check(record, expected):
                return False
        return True

    def successor(self, deliver: Deliver | None) -> int:
        """Number a new successor; ``deliver`` (if given) is always linked."""
        number = self.successors
        self.successors += 1
        if deliver is not None:
            self.permanent.append((number, deliver))
            self.linked.append((number, deliver))
        return number

    def link(self, number: int, deliver: Deliver) -> None:
        insort(self.linked, (number, deliver))
        self.version += 1
        self._touch()

    def unlink(self, number: int, deliver: Deliver) -> None:
        self.linked.remove((number, deliver))
        self.version += 1

    def seen(self, number: int) -> int:
        """How the fact being handed out counts for successor ``number``'s right memory.

        1: in it though not yet stored; -1: stored but already out of it; 0: no difference.
        """
        if self.current is None or self.position <= number:
            return 0
        return 1 if self.adding else -1

    def activate(self, fact: Any, adding: bool) -> None:
        """Hand ``fact`` to the linked successors in order, then store or drop it."""
        self.current = fact
        self.adding = adding
        linked = self.linked
        version = self.version
        index = 0
        try:
            while index < len(linked):
                number, deliver = linked[index]
                self.position = number
                deliver(fact, adding)
                if self.version == version:
                    index += 1
                else:  # a successor was linked or unlinked meanwhile
                    version = self.version
                    index = bisect_right(linked, (number + 0.5,))
        finally:
            self.current = None
            self.position = -1
        if adding:
            self.memory[fact] = None
            self._touch()
        else:
            self.memory.pop(fact, None)

    def _touch(self) -> None:
        if not self.dirty:
            self.dirty = True
            self.touched.append(self)

    def reset(self) -> None:
        self.memory.clear()
        self.linked[:] = self.permanent
        self.version += 1
        self.dirty = False


def _agree(token: tuple[Any, ...], checks: tuple[int, ...], fact: Any) -> bool:
    """The pattern captured at each of ``checks`` is the same pattern: the same fact."""
    return all(token[i] == fact for i in checks)


class _BetaNode:
    """A two-input node: left tokens in its own memory, right facts in an alpha memory."""

    __slots__ = ("alpha", "checks", "children", "linked", "memory", "number", "touched")

    def __init__(self, alpha: AlphaMemory, checks: tuple[int, ...], touched: list[Any]) -> None:
        self.alpha = alpha
        self.number = alpha.successor(None)
        self.checks = checks
        self.children: list[Child] = []
        self.memory: dict[tuple[Any, ...], Any] = {}
        self.linked = False
        self.touched = touched

    def from_alpha(self, fact: Any, adding: bool) -> None:
        """Left input straight from an alpha memory (the first pattern of a rule)."""
        self.left((fact,), adding)

    def left(self, token: tuple[Any, ...], adding: bool) -> None:  # pragma: no cover
        raise NotImplementedError

    def right(self, fact: Any, adding: bool) -> None:  # pragma: no cover
        raise NotImplementedError

    def _link(self) -> None:
        self.linked = True
        self.touched.append(self)
        self.alpha.link(self.number, self.right)

    def _unlink(self) -> None:
        self.linked = False
        self.alpha.unlink(self.number, self.right)

    def _right_facts(self) -> tuple[Any, Any]:
        """(fact to skip, fact to add) for this node's view of its alpha memory now."""
        seen = self.alpha.seen(self.number)
        if seen == 0:
            return None, None
        current = self.alpha.current
        return (current, None) if seen < 0 else (None, current)

    def reset(self) -> None:
        self.memory = {}
        self.linked = False


class Join(_BetaNode):
    """A positive pattern after the first: every left token with every fact that passes."""

    __slots__ = ()

    def left(self, token: tuple[Any, ...], adding: bool) -> None:
        memory = self.memory
        if adding:
            if not self.linked:
                self._link()
            memory[token] = None
        else:
            memory.pop(token, None)
            if not memory and self.linked:
                self._unlink()
        skip, extra = self._right_facts()
        checks = self.checks
        children = self.children
        for fact in self.alpha.memory:
            if fact is skip or (checks and not _agree(token, checks, fact)):
                continue
            joined = (*token, fact)
            for child in children:
                child(joined, adding)
        if extra is not None and not (checks and not _agree(token, checks, extra)):
            joined = (*token, extra)
            for child in children:
                child(joined, adding)

    def right(self, fact: Any, adding: bool) -> None:
        checks = self.checks
        children = self.children
        for token in self.memory:
            if checks and not _agree(token, checks, fact):
                continue
            joined = (*token, fact)
            for child in children:
                child(joined, adding)


class Negation(_BetaNode):
    """``NOT`` a pattern: a left token passes while no fact in the alpha memory matches."""

    __slots__ = ()

    def _count(self, token: tuple[Any, ...]) -> int:
        skip, extra = self._right_facts()
        checks = self.checks
        facts = self.alpha.memory
        if not checks:
            return len(facts) - (skip is not None) + (extra is not None)
        count = sum(1 for fact in facts if fact is not skip and _agree(token, checks, fact))
        return count + (extra is not None and _agree(token, checks, extra))

    def left(self, token: tuple[Any, ...], adding: bool) -> None:
        memory = self.memory
        if adding:
            count = self._count(token)
            if not self.linked:
                self._link()
            memory[token] = [count]
        else:
            entry = memory.pop(token, None)
            count = entry[0] if entry is not None else self._count(token)
            if not memory and self.linked:
                self._unlink()
        if count == 0:
            for child in self.children:
                child(token, adding)

    def right(self, fact: Any, adding: bool) -> None:
        checks = self.checks
        children = self.children
        for token, entry in self.memory.items():
            if checks and not _agree(token, checks, fact):
                continue
            if adding:
                entry[0] += 1
                if entry[0] == 1:
                    for child in children:
                        child(token, False)
            else:
                entry[0] -= 1
                if entry[0] == 0:
                    for child in children:
                        child(token, True)


class _Activation(Activation):
    """experta's activation, hashing its rule, facts and context once (none of them change)."""

    _hash: int | None = None

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = super().__hash__()
        return self._hash


class Terminal:
    """A rule's conflict-set node: tokens in, experta activations (added, removed) out."""

    __slots__ = ("added", "dirty", "index", "memory", "removed", "rule", "touched")

    def __init__(self, rule: Any, index: int, dirty: set[int], touched: list[Any]) -> None:
        self.rule = rule
        self.index = index
        self.dirty = dirty
        self.touched = touched
        self.memory: set[Any] = set()
        # activations by their context: equal contexts make equal activations of one rule
        self.added: dict[Any, Any] = {}
        self.removed: dict[Any, Any] = {}

    def entry(self, keys: tuple[str, ...]) -> _Entry:
        """The input for one branch, whose positive patterns capture under ``keys``."""
        return _Entry(self, keys)

    def activate(self, token: tuple[Any, ...], adding: bool, keys: tuple[str, ...]) -> None:
        context = dict(zip(keys, token, strict=True))
        key = frozenset(context.items())
        memory = self.memory
        if adding:
            if key in memory:
                return
            if not memory:
                self.touched.append(self)
            memory.add(key)
            if self.removed.pop(key, None) is None:
                self.added[key] = _Activation(self.rule, frozenset(token), context)
        else:
            if key not in memory:
                return
            memory.remove(key)
            if self.added.pop(key, None) is None:
                self.removed[key] = _Activation(self.rule, frozenset(token), context)
        self.dirty.add(self.index)

    def get_activations(self) -> tuple[list[Any], list[Any]]:
        found = (list(self.added.values()), list(self.removed.values()))
        self.added.clear()
        self.removed.clear()
        return found

    def reset(self) -> None:
        self.memory = set()
        self.added.clear()
        self.removed.clear()


class _Entry:
    """A conflict-set node's input for one branch (an object, not a closure: the built
    network is pickled into the cache)."""

    __slots__ = ("keys", "terminal")

    def __init__(self, terminal: Terminal, keys: tuple[str, ...]) -> None:
        self.terminal = terminal
        self.keys = keys

    def __call__(self, token: tuple[Any, ...], adding: bool) -> None:
        self.terminal.activate(token, adding, self.keys)

    def from_alpha(self, fact: Any, adding: bool) -> None:
        """A one-pattern branch: the fact is the whole token."""
        self.terminal.activate((fact,), adding, self.keys)


Element = tuple[bool, AlphaMemory, str]
"""One element of a rule branch: (positive?, its alpha memory, its capture key)."""


class BetaBuilder:
    """Builds join chains, sharing every prefix two branches have in common."""

    def __init__(self, touched: list[Any], dirty: set[int]) -> None:
        self.touched = touched
        self.dirty = dirty
        self.nodes: dict[tuple[Any, ...], _BetaNode] = {}
        self.terminals: list[Terminal] = []

    def add_rule(self, rule: Any, branches: list[list[Element]]) -> Terminal:
        terminal = Terminal(rule, len(self.terminals), self.dirty, self.touched)
        self.terminals.append(terminal)
        for branch in branches:
            self._add_branch(terminal, branch)
        return terminal

    def _add_branch(self, terminal: Terminal, branch: list[Element]) -> None:
        positive, first, key = branch[0]
        assert positive, "a branch starts with a positive pattern"
        keys = [key]
        node: _BetaNode | None = None
        for positive, alpha, key in branch[1:]:
            checks = tuple(i for i, k in enumerate(keys) if k == key)
            identity = (id(node) if node is not None else ("alpha", id(first)),
                        positive, id(alpha), checks)
            found = self.nodes.get(identity)
            if found is None:
                found = (Join if positive else Negation)(alpha, checks, self.touched)
                self.nodes[identity] = found
                if node is None:
                    first.successor(found.from_alpha)
                else:
                    node.children.append(found.left)
            node = found
            if positive:
                keys.append(key)
        entry = terminal.entry(tuple(keys))
        if node is None:
            first.successor(entry.from_alpha)
        else:
            node.children.append(entry)
