"""Knowledge rules -> experta ``Rule`` objects.

The only place where conditions become patterns. Predicates are built by
factory functions (a closure created in a loop would otherwise see the loop's
last value) and guard their input types, so a value of the wrong type never
raises in the middle of a run. "One of these values" is a single ``P`` over a
frozenset, never OR-ed literals (which expand combinatorially).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import facts as F
from ._compat import experta
from .fastrete import indexed, signed
from .knowledge import Condition, KnowledgeBase, Rule

P = experta.P
L = experta.L
NOT = experta.NOT
OR = experta.OR

SALIENCE = {"mechanism": 500, "option": 400, "avoid": 300, "caution": 200, "test": 100}
"""Stages fire in this order: each reads only what the stages before produced."""


def one_of(values: list[str] | tuple[str, ...] | set[str]) -> Any:
    allowed = frozenset(values)

    def test(value: Any) -> bool:
        return isinstance(value, str) and value in allowed

    return P(indexed(test, "eq", allowed))


def not_one_of(values: list[str] | tuple[str, ...]) -> Any:
    banned = frozenset(values)

    def test(value: Any) -> bool:
        return isinstance(value, str) and value not in banned

    return P(signed(test, banned))


def any_in(values: list[str] | tuple[str, ...] | set[str]) -> Any:
    wanted = frozenset(values)

    def test(value: Any) -> bool:
        return isinstance(value, tuple) and any(v in wanted for v in value)

    return P(indexed(test, "any", wanted))


def compare(op: str, bound: float | str | list[str]) -> Any:
    def test(value: Any) -> bool:
        if op in ("eq", "isin"):
            options = bound if isinstance(bound, list) else [bound]
            return isinstance(value, str) and value in options
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        assert isinstance(bound, int | float)
        return {
            "ge": value >= bound,
            "gt": value > bound,
            "le": value <= bound,
            "lt": value < bound,
        }[op]

    if op in ("eq", "isin"):
        return P(indexed(test, "eq", bound if isinstance(bound, list) else [bound]))
    return P(signed(test, op, bound))


_FIELD_TABLES: dict[str, tuple[Any, list[tuple[str, str, Callable[[Any], Any]]]]] = {
    # condition kind: (fact class, [(spec attribute, fact field, matcher factory)])
    "therapy": (F.Therapy, [("agent", "agent", one_of), ("klass", "classes", any_in),
                            ("response", "response", one_of), ("ongoing", "ongoing", L)]),
    "ctdna": (F.Ctdna, [("event", "event", one_of), ("gene", "gene", one_of),
                        ("change", "change", one_of), ("during_agent", "during_agents", any_in),
                        ("during_class", "during_classes", any_in),
                        ("confirmed", "confirmed", L)]),
    "sensitivity": (F.Sensitivity, [("result", "result", one_of), ("agent", "agent", one_of),
                                    ("klass", "classes", any_in)]),
}
"""Condition kinds whose spec fields map one-to-one onto fact fields."""


def compile_condition(cond: Condition, kb: KnowledgeBase) -> Any:
    kind = cond.kind
    if kind == "tumour":
        assert cond.tumour is not None
        return F.Tumour(lineage=any_in(cond.tumour.codes))
    if kind == "alteration":
        spec = cond.alteration
        assert spec is not None
        fields: dict[str, Any] = {"gene": one_of(spec.gene)}
        if spec.change:
            fields["change"] = one_of(spec.change)
        if spec.type == ["any"]:
            pass  # tested at all, whatever the result (wild-type included)
        elif spec.type:
            fields["type"] = one_of(spec.type)
        else:
            fields["type"] = not_one_of(["wild-type"])
        if spec.origin != "any":
            fields["origin"] = L(spec.origin)
        return F.Alteration(**fields)
    if kind == "expression":
        expression = cond.expression
        assert expression is not None
        return F.Expression(gene=one_of(expression.gene), level=one_of(expression.level))
    if kind == "biomarker":
        biomarker = cond.biomarker
        assert biomarker is not None
        for op in ("eq", "isin", "ge", "gt", "le", "lt"):
            bound = getattr(biomarker, op)
            if bound is not None:
                return F.Biomarker(name=L(biomarker.name), value=compare(op, bound))
    if kind == "tme":
        assert cond.tme is not None
        return F.Tme(feature=one_of(cond.tme.any_of))
    if kind == "microbiome":
        microbiome = cond.microbiome
        assert microbiome is not None
        return F.Microbe(taxon=one_of(microbiome.taxon), level=one_of(microbiome.level))
    if kind in _FIELD_TABLES:
        fact_class, table = _FIELD_TABLES[kind]
        spec_any = getattr(cond, kind)
        fields = {}
        for attribute, fact_field, matcher in table:
            value = getattr(spec_any, attribute)
            if value is not None and value != []:
                fields[fact_field] = matcher(value)
        return fact_class(**fields)
    if kind == "condition":
        assert cond.condition is not None
        return F.Clinical(condition=one_of(cond.condition.any_of))
    if kind == "mechanism":
        assert cond.mechanism is not None
        return F.Mechanism(id=one_of(cond.mechanism.any_of))
    if kind == "option":
        assert cond.option is not None
        return F.Option(id=one_of(cond.option.any_of))
    if kind == "not":
        assert cond.negate is not None
        return NOT(compile_condition(cond.negate, kb))
    if kind == "any":
        assert cond.any is not None
        return OR(*(compile_condition(c, kb) for c in cond.any))
    raise AssertionError(f"unknown condition kind {kind}")  # pragma: no cover


def compile_rule(rule: Rule, kb: KnowledgeBase, action: Callable[..., None]) -> Any:
    """One knowledge rule -> one experta Rule whose action calls ``action``."""
    patterns = [compile_condition(c, kb) for c in rule.when]
    if all(c.kind == "not" for c in rule.when):
        patterns.insert(0, experta.InitialFact())
    return experta.Rule(*patterns, salience=SALIENCE[rule.stage])(action)


def make_action(rule_id: str) -> Callable[..., None]:
    """Factory: binds ``rule_id`` now, not at call time."""

    def fire(engine: Any) -> None:
        engine.fired(rule_id)

    fire.__name__ = f"rule_{rule_id}"
    return fire


def compile_rules(kb: KnowledgeBase) -> dict[str, Any]:
    """Class attributes for a KnowledgeEngine subclass, one per rule, in id order."""
    members: dict[str, Any] = {}
    for number, rule in enumerate(sorted(kb.rules, key=lambda r: r.id)):
        members[f"r{number:05d}"] = compile_rule(rule, kb, make_action(rule.id))
    return members
