"""The fast matcher's network: shared alpha memories, shared prefixes, unlinking, retraction.

Each mechanism is checked two ways: white-box (the network has the shape it
should: one alpha memory for equal tests, one join for a shared prefix, a join
unlinked while its left memory is empty) and against experta's own
``ReteMatcher``, whose agenda must be the same after every declaration and
every retraction of long random sequences.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from regimen.engine.experta._compat import experta
from regimen.engine.experta.engine import ReteMatcher
from regimen.engine.experta.fastrete import FastMatcher, indexed, signed
from regimen.engine.experta.network import Join, Negation

Item: Any = type("Item", (experta.Fact,), {})
Tag: Any = type("Tag", (experta.Fact,), {})
L = experta.L
NOT = experta.NOT
OR = experta.OR
AND = experta.AND
MATCH = experta.MATCH


def one_of(values: list[str]) -> Any:
    """A new predicate object each call; equal calls share an alpha memory, not a capture."""
    allowed = frozenset(values)

    def test(value: Any) -> bool:
        return isinstance(value, str) and value in allowed

    return experta.P(indexed(test, "eq", allowed))


def any_in(values: list[str]) -> Any:
    wanted = frozenset(values)

    def test(value: Any) -> bool:
        return isinstance(value, tuple) and any(v in wanted for v in value)

    return experta.P(indexed(test, "any", wanted))


def at_least(n: int) -> Any:
    def test(value: Any) -> bool:
        return isinstance(value, int) and value >= n

    return experta.P(signed(test, n))


def _rule(name: str, *patterns: Any) -> Any:
    def fire(self: Any, **_: Any) -> None:
        pass

    fire.__name__ = name
    return experta.Rule(*patterns)(fire)


def plain_rules() -> list[Any]:
    """Rules that run on the fast network: every mechanism of :mod:`network` is exercised."""
    a_twice = Item(kind=L("a"))  # one pattern object used twice: one capture, the same fact
    b_item = Item(kind=L("b"))
    return [
        _rule("pair", Item(kind=one_of(["a", "b"])), Tag(tags=any_in(["x"]))),
        # two patterns with equal tests: one alpha memory, two captures (left and right)
        _rule("same-memory-both-sides", Item(kind=one_of(["a"])), Item(kind=one_of(["a"]))),
        _rule("same-pattern-twice", a_twice, Tag(tags=any_in(["x"])), a_twice),
        # one fact passes two alpha memories, one feeding each side of the same join
        _rule("one-fact-two-memories", Item(kind=one_of(["a", "b"])), Item(size=L(2))),
        _rule("not", Item(kind=one_of(["a", "b"])), NOT(Tag(tags=any_in(["x"])))),
        _rule("not-same-memory", Item(kind=one_of(["a"])), NOT(Item(kind=one_of(["a"])))),
        _rule("not-itself", b_item, NOT(b_item)),
        _rule("leading-not", NOT(Item(kind=L("c")))),
        # two rules sharing the prefix (a, x): one join for both
        _rule("prefix-join", Item(kind=L("a")), Tag(tags=any_in(["x"])), Item(size=L(2))),
        _rule("prefix-not", Item(kind=L("a")), Tag(tags=any_in(["x"])),
              NOT(Item(size=at_least(3)))),
        _rule("or", OR(Item(kind=L("a")), Tag(tags=any_in(["y", "z"]))), Item(size=L(2))),
        _rule("or-of-ands", OR(AND(Item(kind=L("b")), Tag(tags=any_in(["x"]))),
                               AND(Item(kind=L("b")), NOT(Tag(tags=any_in(["y"])))))),
        _rule("long-chain", Tag(tags=any_in(["z"])), Item(kind=one_of(["a", "b"])),
              Item(size=at_least(2)), NOT(Item(kind=L("c"))), Tag(tags=any_in(["x"]))),
        _rule("wildcard", Item(kind=experta.W()), Tag()),
    ]


def binding_rules() -> list[Any]:
    """Rules with variable bindings: built and run by experta's own nodes."""
    def fire(self: Any, k: Any) -> None:
        pass

    return [
        experta.Rule(Item(kind=MATCH.k), Tag(tags=MATCH.k))(fire),
        experta.Rule(Item(kind=MATCH.k), NOT(Tag(tags=MATCH.k)))(fire),
        experta.Rule(Item(kind=one_of(["a"])), Item(kind=MATCH.k))(fire),
    ]


def _engine(matcher: Any, rules: list[Any]) -> Any:
    members: dict[str, Any] = {f"r{i}": rule for i, rule in enumerate(rules)}
    members["__matcher__"] = matcher
    engine = type("E", (experta.KnowledgeEngine,), members)()
    engine.reset()
    return engine


def _agenda(engine: Any) -> list[tuple[str, tuple[int, ...], tuple[str, ...]]]:
    return sorted((act.rule.__name__, tuple(sorted(f["__factid__"] for f in act.facts)),
                   tuple(sorted(k for k in act.context if not k.startswith("__"))))
                  for act in engine.agenda.activations)


FACTS: list[Callable[[], Any]] = [
    *(lambda k=k, s=s: Item(kind=k, size=s) for k in ("a", "b", "c", "long") for s in (1, 2, 3)),
    lambda: Item(kind="a"),
    lambda: Item(size=2),
    *(lambda t=t: Tag(tags=t) for t in (("x",), ("y",), ("x", "z"), ("z",), "x")),
]


Signature = tuple[str, tuple[int, ...], tuple[str, ...]]


def _signature(activation: Any) -> Signature:
    return (activation.rule.__name__,
            tuple(sorted(f["__factid__"] for f in activation.facts)),
            tuple(sorted(k for k in activation.context if not k.startswith("__"))))


def _apply(engine: Any, live: Counter[Signature]) -> None:
    """Collect the matcher's changes into ``live`` (activations as a multiset)."""
    added, removed = engine.get_activations()
    for activation in removed:
        live[_signature(activation)] -= 1
        assert live[_signature(activation)] >= 0, "an activation removed twice"
    for activation in added:
        live[_signature(activation)] += 1
    for signature in [s for s, n in live.items() if n == 0]:
        del live[signature]


def _same_activations_throughout(rules: Callable[[], list[Any]], seed: int, steps: int) -> int:
    """Random declarations and retractions; the activations agree after each.

    Compares what the matchers report (experta's agenda cannot be compared: its
    bisect-based removal can miss an activation among many with the same key).
    Returns how many steps changed the activations.
    """
    rng = random.Random(seed)
    engines = (_engine(FastMatcher, rules()), _engine(ReteMatcher, rules()))
    lives: tuple[Counter[Signature], Counter[Signature]] = (Counter(), Counter())
    for engine, live in zip(engines, lives, strict=True):
        live.update(_signature(a) for a in engine.agenda.activations)
    declared: list[int] = []
    changes = 0
    for _ in range(steps):
        before = Counter(lives[1])
        if declared and rng.random() < 0.4:
            index = declared.pop(rng.randrange(len(declared)))
            for engine in engines:
                engine.facts.retract(index)
        else:
            make = rng.choice(FACTS)
            added = [engine.facts.declare(make()) for engine in engines]
            assert (added[0] is None) == (added[1] is None)
            if added[0] is not None:
                declared.append(added[0]["__factid__"])
        for engine, live in zip(engines, lives, strict=True):
            _apply(engine, live)
        assert lives[0] == lives[1]
        changes += lives[1] != before
    return changes


@pytest.mark.parametrize("seed", range(12))
def test_declarations_and_retractions_match_experta(seed: int) -> None:
    assert _engine(FastMatcher, plain_rules()).matcher.fast
    assert _same_activations_throughout(plain_rules, seed, 60) > 10  # the agenda did change


@pytest.mark.parametrize("seed", range(3))
def test_variable_bindings_match_experta_on_experta_nodes(seed: int) -> None:
    assert not _engine(FastMatcher, binding_rules()).matcher.fast
    assert _same_activations_throughout(binding_rules, seed, 40) > 5


def _alpha_memories(engine: Any, klass: Any) -> list[Any]:
    return engine.matcher.root_node.routes[klass].groups


def test_equal_tests_share_one_alpha_memory() -> None:
    rules = [_rule("one", Item(kind=one_of(["a", "b"]))),
             _rule("two", Item(kind=one_of(["b", "a"])), Tag()),
             _rule("three", Item(kind=one_of(["a"])))]
    engine = _engine(FastMatcher, rules)
    memories = _alpha_memories(engine, Item)
    assert len(memories) == 2  # {a, b} once, {a}
    engine.declare(Item(kind="a"), Item(kind="b"), Tag(tags="t"))
    assert sorted(len(m.memory) for m in memories) == [1, 2]  # each fact stored once
    assert _agenda(engine) == _agenda(_declared(ReteMatcher, rules, [
        Item(kind="a"), Item(kind="b"), Tag(tags="t")]))


def _declared(matcher: Any, rules: list[Any], facts: list[Any]) -> Any:
    engine = _engine(matcher, rules)
    engine.declare(*facts)
    return engine


def test_identical_prefixes_share_their_joins() -> None:
    def rules() -> list[Any]:
        return [_rule(f"copy{n}", Item(kind=one_of(["a"])), Tag(tags=any_in(["x"])),
                      NOT(Item(size=L(3)))) for n in range(5)]

    engine = _engine(FastMatcher, rules())
    assert engine.matcher.beta_nodes == 2  # one join and one negation for five rules
    facts = [Item(kind="a", size=1), Tag(tags=("x",)), Tag(tags=("x", "y"))]
    engine.declare(*[f.copy() for f in facts])
    assert len(engine.agenda.activations) == 10
    assert _agenda(engine) == _agenda(_declared(ReteMatcher, rules(), facts))


def test_a_join_waits_unlinked_until_its_left_memory_fills() -> None:
    rules = [_rule("pair", Item(kind=one_of(["a"])), Tag(tags=any_in(["x"]))),
             _rule("none", Item(kind=one_of(["a"])), NOT(Tag(tags=any_in(["x"]))))]
    engine = _engine(FastMatcher, rules)
    (tags,) = _alpha_memories(engine, Tag)
    nodes = [deliver.__self__ for _, deliver in tags.linked]
    assert nodes == []  # both unlinked: no Item yet
    engine.declare(Tag(tags=("x",)), Tag(tags=("x", "y")))  # right activations skip them
    assert len(tags.memory) == 2 and tags.linked == []
    assert engine.agenda.activations == []
    engine.declare(Item(kind="a"))  # left memory fills: relinked, catches up from the memory
    linked = sorted(type(deliver.__self__).__name__ for _, deliver in tags.linked)
    assert linked == [Join.__name__, Negation.__name__]
    assert [a.rule.__name__ for a in engine.agenda.activations] == ["pair", "pair"]
    engine.declare(Tag(tags=("x", "z")))  # linked now: a right activation joins at once
    assert len(engine.agenda.activations) == 3
    engine.retract(next(f for f in engine.facts.values() if isinstance(f, Item)))
    assert tags.linked == [] and engine.agenda.activations == []  # unlinked again


def test_a_fact_on_both_sides_of_one_join_is_joined_once() -> None:
    """The same alpha memory feeds the left (through the first pattern) and the right."""
    for order in (0, 1):
        rules = [_rule("both", Item(kind=one_of(["a"])), Item(kind=one_of(["a"])))]
        if order:
            rules.append(_rule("other", Item(kind=one_of(["a"])), Tag()))
        engine = _engine(FastMatcher, rules)
        engine.declare(Item(kind="a", n=1))
        assert _agenda(engine) == [("both", (1,), ())]
        engine.declare(Item(kind="a", n=2))
        assert _agenda(engine) == [("both", (1,), ()), ("both", (1, 2), ()), ("both", (1, 2), ()),
                                   ("both", (2,), ())]
        engine.retract(1)
        assert _agenda(engine) == [("both", (2,), ())]


def test_reset_forgets_memories_and_links() -> None:
    engine = _engine(FastMatcher, plain_rules())
    engine.declare(Item(kind="a", size=2), Tag(tags=("x",)))
    first = _agenda(engine)
    assert first
    engine.reset()
    stored = [fact for route in engine.matcher.root_node.routes.values()
              for memory in route.groups for fact in memory.memory]
    assert [type(f) for f in stored] == [experta.InitialFact]  # only what reset() declares
    engine.declare(Item(kind="a", size=2), Tag(tags=("x",)))
    assert _agenda(engine) == first
