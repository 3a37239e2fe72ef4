"""The hashed-dispatch matcher fires exactly what experta's own RETE matcher fires.

Every example and 500 generated profiles run through experta's ``ReteMatcher``,
the dirty-terminal matcher the engine used before, and :class:`FastMatcher`;
the firings (rule, matched facts, derived fact) and ``Result.to_json()`` must be
identical. A knowledge base x16 (copies that all fire, copies that never fire)
must fire identically too.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from conftest import benchmark_module
from hypothesis import HealthCheck, given, settings
from test_properties import profiles

from regimen import Recommender, load_knowledge
from regimen.engine.base import FactRecord
from regimen.engine.experta._compat import experta
from regimen.engine.experta.engine import Engine, ReteMatcher, _DirtyTrackingMatcher
from regimen.engine.experta.fastrete import FastMatcher, indexed, signed
from regimen.knowledge.base import KnowledgeBase

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


def _load_benchmark() -> Any:
    return benchmark_module("engine_scaling.py", "engine_scaling")


BENCH = _load_benchmark()
KB = load_knowledge()
MATCHERS = {"experta": ReteMatcher, "dirty-tracking": _DirtyTrackingMatcher, "fast": FastMatcher}


def engines(kb: KnowledgeBase, names: Iterable[str] = MATCHERS) -> dict[str, Engine]:
    return {name: BENCH.engine_with(kb, MATCHERS[name], experta_run=name != "fast")
            for name in names}


def recommenders(kb: KnowledgeBase) -> dict[str, Recommender]:
    out = {}
    for name, engine in engines(kb).items():
        rec = Recommender(kb)
        rec.engine = engine
        out[name] = rec
    return out


RECS = recommenders(KB)


def canonical(fact: FactRecord) -> tuple[str, frozenset[Any]]:
    """A fact as an unordered set of fields (no fact-list index crosses the engine seam)."""
    assert type(fact) is FactRecord
    return fact.kind, frozenset(fact.values)


def firings(engine: Engine, facts: list[FactRecord]) -> set[Any]:
    return {(f.rule, frozenset(canonical(m) for m in f.matched), canonical(f.derived))
            for f in engine.run(facts)}


def assert_same_everywhere(profile: Any) -> None:
    """Same firings and byte-identical JSON from every matcher (one evaluation each)."""
    outputs = {}
    fired = {}
    for name, rec in RECS.items():
        outputs[name] = rec.evaluate(profile).to_json()
        fired[name] = {(f.rule, frozenset(canonical(m) for m in f.matched), canonical(f.derived))
                       for f in rec.engine._engine.firings}
    assert fired["fast"] == fired["experta"]
    assert fired["dirty-tracking"] == fired["experta"]
    assert outputs["fast"] == outputs["experta"]
    assert outputs["dirty-tracking"] == outputs["experta"]


def test_the_shipped_knowledge_base_runs_on_the_fast_network() -> None:
    shipped = Recommender(KB).engine
    assert isinstance(shipped, Engine) and isinstance(shipped._engine.matcher, FastMatcher)
    matcher = RECS["fast"].engine._engine.matcher
    assert matcher.fast  # not the fallback onto experta's own nodes
    assert len(matcher._terminals) >= len(KB.rules)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_examples_fire_identically(path: Path) -> None:
    facts = BENCH.facts_of(RECS["fast"], path)
    assert firings(RECS["fast"].engine, facts)  # every example fires something
    assert_same_everywhere(path)


@pytest.mark.slow
@settings(max_examples=500, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(profiles())
def test_generated_profiles_fire_identically(profile: dict[str, Any]) -> None:
    assert_same_everywhere(profile)


@pytest.mark.slow
def test_knowledge_base_x16_fires_identically() -> None:
    big = BENCH.multiplied(KB, 7, 8)  # 7 copies of every rule that fire, 8 that never do
    assert len(big.rules) == 16 * len(KB.rules)
    fast_engine = BENCH.engine_with(big, FastMatcher)
    stock_engine = BENCH.engine_with(big, ReteMatcher, experta_run=True)
    for number, path in enumerate(EXAMPLES):
        facts = BENCH.facts_of(RECS["fast"], path)
        once = firings(RECS["experta"].engine, facts)
        many = firings(fast_engine, facts)
        # each firing copy fires as the original does, under its own names; the others never
        assert len(many) == 8 * len(once)
        assert {f for f in many if "-copy" not in f[0]} == once
        assert {f[0].rsplit("-copy", 1)[1] for f in many if "-copy" in f[0]} == {
            str(n) for n in range(1, 8)}
        if number < 2:  # experta's matcher takes seconds per profile at this size
            assert many == firings(stock_engine, facts)


@pytest.mark.slow
def test_never_firing_copies_leave_the_result_unchanged() -> None:
    rec = Recommender(BENCH.multiplied(KB, 0, 15))
    for path in EXAMPLES[:3]:
        once = RECS["experta"].evaluate(path).to_dict()
        many = rec.evaluate(path).to_dict()
        assert many["knowledge"].pop("rules") == 16 * once["knowledge"].pop("rules")
        assert many == once


def _engine(matcher: Any, *rules: Any) -> Any:
    members = {f"r{i}": rule for i, rule in enumerate(rules)}
    members["__matcher__"] = matcher
    return type("E", (experta.KnowledgeEngine,), members)()


Item: Any = type("Item", (experta.Fact,), {})
Tag: Any = type("Tag", (experta.Fact,), {})


def _run(engine: Any, facts: list[Any]) -> list[Any]:
    fired: list[Any] = []
    engine.reset()
    engine.declare(*facts)
    engine.fired = fired
    engine.run()
    return sorted(fired, key=repr)


def _rules() -> list[Any]:
    def action(name: str) -> Any:
        def fire(self: Any, **_: Any) -> None:
            self.fired.append(name)
        return fire

    def one_of(values: list[str]) -> Any:
        allowed = frozenset(values)

        def test(value: Any) -> bool:
            return isinstance(value, str) and value in allowed
        return experta.P(indexed(test, "eq", allowed))

    def any_in(values: list[str]) -> Any:
        wanted = frozenset(values)

        def test(value: Any) -> bool:
            return isinstance(value, tuple) and any(v in wanted for v in value)
        return experta.P(indexed(test, "any", wanted))

    def longer_than(n: int) -> Any:
        def test(value: Any) -> bool:
            return isinstance(value, str) and len(value) > n
        return experta.P(signed(test, n))

    rule = experta.Rule
    return [
        rule(Item(kind=one_of(["a", "b"])))(action("ab")),
        rule(Item(kind=one_of(["a", "b"]), size=experta.L(2)))(action("ab-2")),
        rule(Item(kind=longer_than(1)), experta.NOT(Tag(tags=any_in(["x"]))))(action("long-no-x")),
        rule(experta.NOT(Item(kind=experta.L("c"))))(action("no-c")),
        rule(experta.OR(Item(kind=experta.L("a")), Tag(tags=any_in(["y", "z"]))),
             Item(size=experta.L(2)))(action("or")),
        rule(Item(kind=one_of(["a"])), Item(kind=one_of(["a"])))(action("same-pattern-twice")),
        rule(Item(kind=experta.W()), Tag())(action("wildcard")),
    ]


FACT_SETS: list[list[Any]] = [
    [],
    [Item(kind="a", size=2)],
    [Item(kind="b", size=1), Item(kind="c", size=2)],
    [Item(kind="long", size=3), Tag(tags=("x",))],
    [Item(kind="long", size=2), Tag(tags=("z", "q")), Item(kind="a", size=5)],
    [Item(kind=("a",), size=2), Tag(tags="x")],
]


@pytest.mark.parametrize("facts", FACT_SETS, ids=lambda f: str(len(f)))
def test_conditional_elements_match_like_experta(facts: list[Any]) -> None:
    """NOT, OR, literals, wildcards and one pattern used twice, on hand-made rules."""
    fast_engine = _engine(FastMatcher, *_rules())
    stock_engine = _engine(ReteMatcher, *_rules())
    assert fast_engine.matcher.fast
    fast = _run(fast_engine, [f.copy() for f in facts])
    stock = _run(stock_engine, [f.copy() for f in facts])
    assert fast == stock


def test_variable_bindings_fall_back_to_experta_nodes() -> None:
    """A network the fast nodes do not handle is built and run by experta's own."""
    def rule() -> Any:
        def fire(self: Any, k: Any) -> None:
            self.fired.append(k)

        return experta.Rule(Item(kind=experta.MATCH.k), Tag(tags=experta.MATCH.k))(fire)

    fast_engine = _engine(FastMatcher, rule())
    assert not fast_engine.matcher.fast
    facts = [Item(kind="a"), Tag(tags="a"), Tag(tags="b")]
    fast = _run(fast_engine, facts)
    assert fast == _run(_engine(ReteMatcher, rule()), [f.copy() for f in facts]) == ["a"]
    assert _run(fast_engine, [f.copy() for f in facts]) == fast  # and again after a reset


def test_indexed_rejects_an_unknown_mode() -> None:
    with pytest.raises(ValueError, match="unknown index mode"):
        indexed(lambda v: True, "range", [1])


def test_preparation_equals_experta_on_every_rule() -> None:
    """The short-cut preparation gives the rule experta's ``prepare_rule`` gives."""
    from regimen.engine.experta.fastrete import _prepare, _utils

    def fire(self: Any) -> None:
        pass

    handmade = [*_rules(),
                experta.Rule(Item(kind=experta.L("a") | experta.L("b")))(fire),
                experta.Rule(experta.NOT(Item(kind=~experta.L("a"))), Tag())(fire),
                experta.Rule()(fire),
                experta.Rule(experta.AND(Item(kind=experta.L("a")), Tag()))(fire)]
    compiled = list(Engine(KB)._engine.get_rules())
    assert len(compiled) == len(KB.rules)
    for rule in [*compiled, *handmade]:
        assert _prepare(rule) == _utils.prepare_rule(rule), rule


def test_compiled_rules_pass_the_arguments_experta_would() -> None:
    """The cached signature gives the same argument filter as ``inspect.signature``."""
    from regimen.engine.experta.compile import CompiledRule, make_action

    def with_kwargs(engine: Any, **kwargs: Any) -> None:
        pass

    def with_names(engine: Any, k: Any = None) -> None:
        pass

    for action in (make_action("X1"), make_action("X2"), with_kwargs, with_names):
        ours = CompiledRule(Item())(action)
        stock = experta.Rule(Item())(action)
        assert ours._wrapped is stock._wrapped is action
        assert ours._wrapped_args == stock._wrapped_args
        assert ours.__name__ == stock.__name__


def test_derived_facts_equal_what_to_fact_builds() -> None:
    """The engine fills derived facts from items frozen once; they equal ``to_fact``'s."""
    from regimen.engine.experta.compile import to_fact
    from regimen.engine.experta.engine import _derived_fact

    engine = Engine(KB)._engine
    engine.reset()
    for rule in KB.rules:
        for _ in range(2):  # built, then from the cache
            record, fact = engine.derive(rule)
            expected = to_fact(_derived_fact(rule))
            assert record == _derived_fact(rule)
            assert type(fact) is type(expected) and fact == expected
            assert fact.__factid__ is None and fact.as_dict() == expected.as_dict()


def test_depth_strategy_keys_equal_experta() -> None:
    """The unmemoised strategy orders the agenda by experta's own keys."""
    from regimen.engine.experta.compile import to_fact
    from regimen.engine.experta.fastrete import FastDepthStrategy

    runner: Any = RECS["fast"].engine
    engine = runner._engine
    engine.reset()
    engine.declare(*(to_fact(f) for f in BENCH.facts_of(RECS["fast"], EXAMPLES[1])))
    activations = list(engine.agenda.activations)
    assert len(activations) > 5
    stock = experta.strategies.DepthStrategy()
    ours = FastDepthStrategy()
    for activation in activations:
        assert ours.get_key(activation) == stock.get_key(activation)
    keys = [ours.get_key(a) for a in activations]
    assert keys == sorted(keys)  # the agenda is in key order
