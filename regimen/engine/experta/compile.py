"""Knowledge rules -> experta ``Rule`` objects, and facts to and from experta.

The only place where conditions become experta patterns: one entry per
condition kind in :data:`COMPILERS`. Predicates are built by
factory functions (a closure created in a loop would otherwise see the loop's
last value) and guard their input types, so a value of the wrong type never
raises in the middle of a run. "One of these values" is a single ``P`` over a
frozenset, never OR-ed literals (which expand combinatorially).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import update_wrapper
from types import CodeType, FunctionType
from typing import Any

from ...knowledge.base import KnowledgeBase
from ...knowledge.conditions import AlterationCond, BiomarkerCond, Condition
from ...knowledge.language import Rule
from ..base import FactRecord
from ._compat import experta
from .fastrete import indexed, signed

P = experta.P
L = experta.L
NOT = experta.NOT
OR = experta.OR

SALIENCE = {"mechanism": 500, "option": 400, "avoid": 300, "caution": 200, "test": 100,
            "preference": 50}
"""Stages fire in this order: each reads only what the stages before produced."""


class _Test:
    """A field test of a pattern: a plain object, not a closure, so that a built network
    can be stored in the cache (:mod:`.netcache`). Its ``__qualname__`` names the factory
    that made it (``one_of.test``, ...), which tells the kinds of test apart in the
    :func:`~.fastrete.indexed` and :func:`~.fastrete.signed` signatures."""

    factory = ""

    def __init__(self) -> None:
        self.__qualname__ = f"{self.factory}.test"


class _OneOf(_Test):
    factory = "one_of"

    def __init__(self, allowed: frozenset[str]) -> None:
        super().__init__()
        self.allowed = allowed

    def __call__(self, value: Any) -> bool:
        return isinstance(value, str) and value in self.allowed


class _NotOneOf(_Test):
    factory = "not_one_of"

    def __init__(self, banned: frozenset[str]) -> None:
        super().__init__()
        self.banned = banned

    def __call__(self, value: Any) -> bool:
        return isinstance(value, str) and value not in self.banned


class _AnyIn(_Test):
    factory = "any_in"

    def __init__(self, wanted: frozenset[str]) -> None:
        super().__init__()
        self.wanted = wanted

    def __call__(self, value: Any) -> bool:
        wanted = self.wanted
        return isinstance(value, tuple) and any(v in wanted for v in value)


class _Compare(_Test):
    factory = "compare"

    def __init__(self, op: str, bound: float | str | list[str]) -> None:
        super().__init__()
        self.op = op
        self.bound = bound

    def __call__(self, value: Any) -> bool:
        op, bound = self.op, self.bound
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


def one_of(values: list[str] | tuple[str, ...] | set[str]) -> Any:
    allowed = frozenset(values)
    return P(indexed(_OneOf(allowed), "eq", allowed))


def not_one_of(values: list[str] | tuple[str, ...]) -> Any:
    banned = frozenset(values)
    return P(signed(_NotOneOf(banned), banned))


def any_in(values: list[str] | tuple[str, ...] | set[str]) -> Any:
    wanted = frozenset(values)
    return P(indexed(_AnyIn(wanted), "any", wanted))


def compare(op: str, bound: float | str | list[str]) -> Any:
    test = _Compare(op, bound)
    if op in ("eq", "isin"):
        return P(indexed(test, "eq", bound if isinstance(bound, list) else [bound]))
    return P(signed(test, op, bound))


_FACT_CLASSES: dict[str, Any] = {}


def fact_class(kind: str) -> Any:
    """The experta ``Fact`` subclass for a fact kind (``"Alteration"``), made once."""
    found = _FACT_CLASSES.get(kind)
    if found is None:
        found = _FACT_CLASSES[kind] = type(kind, (experta.Fact,), {})
    return found


def is_fact_class(cls: type) -> bool:
    """Whether ``cls`` is one made by :func:`fact_class`."""
    return _FACT_CLASSES.get(cls.__name__) is cls


def to_fact(record: FactRecord) -> Any:
    return fact_class(record.kind)(**record.as_dict())


def from_fact(fact: Any) -> FactRecord:
    return FactRecord(type(fact).__name__, tuple(
        (k, v) for k, v in fact.as_dict().items() if not isinstance(k, int)))


Compile = Callable[[Condition], Any]
"""Compiles a nested condition (for ``not`` and ``any``)."""


def _fields(spec: Any, table: list[tuple[str, str, Callable[[Any], Any]]]) -> dict[str, Any]:
    """Spec attributes that are set -> matchers on the fact fields they map to."""
    fields: dict[str, Any] = {}
    for attribute, fact_field, matcher in table:
        value = getattr(spec, attribute)
        if value is not None and value != []:
            fields[fact_field] = matcher(value)
    return fields


def _alteration(spec: AlterationCond, _: Compile) -> Any:
    fields: dict[str, Any] = {"gene": one_of(spec.gene)}
    if spec.change:
        fields["change"] = one_of(spec.change)
    if spec.type == ["any"]:
        pass  # tested at all, whatever the result (wild-type included)
    elif spec.type:
        fields["type"] = one_of(spec.type)
    else:
        fields["type"] = not_one_of(["wild-type"])
    if spec.origin == "tissue":  # a germline variant is reported from tissue or blood alike
        fields["origin"] = one_of(["tissue", "germline"])
    elif spec.origin != "any":
        fields["origin"] = L(spec.origin)
    return fact_class("Alteration")(**fields)


def _biomarker(spec: BiomarkerCond, _: Compile) -> Any:
    op, bound = spec.test
    return fact_class("Biomarker")(name=L(spec.name), value=compare(op, bound))


COMPILERS: dict[str, Callable[[Any, Compile], Any]] = {
    "tumour": lambda s, _: fact_class("Tumour")(lineage=any_in(s.codes)),
    "alteration": _alteration,
    "expression": lambda s, _: fact_class("Expression")(gene=one_of(s.gene),
                                                        level=one_of(s.level)),
    "biomarker": _biomarker,
    "tme": lambda s, _: fact_class("Tme")(feature=one_of(s.any_of)),
    "microbiome": lambda s, _: fact_class("Microbe")(taxon=one_of(s.taxon),
                                                     level=one_of(s.level)),
    "therapy": lambda s, _: fact_class("Therapy")(**_fields(s, [
        ("agent", "agent", one_of), ("klass", "classes", any_in),
        ("response", "response", one_of), ("ongoing", "ongoing", L)])),
    "ctdna": lambda s, _: fact_class("Ctdna")(**_fields(s, [
        ("event", "event", one_of), ("gene", "gene", one_of), ("change", "change", one_of),
        ("during_agent", "during_agents", any_in), ("during_class", "during_classes", any_in),
        ("confirmed", "confirmed", L)])),
    "sensitivity": lambda s, _: fact_class("Sensitivity")(**_fields(s, [
        ("result", "result", one_of), ("agent", "agent", one_of),
        ("klass", "classes", any_in)])),
    "condition": lambda s, _: fact_class("Clinical")(condition=one_of(s.any_of)),
    "mechanism": lambda s, _: fact_class("Mechanism")(id=one_of(s.any_of)),
    "option": lambda s, _: fact_class("Option")(id=one_of(s.any_of)),
    "not": lambda s, compile_: NOT(compile_(s.root)),
    "any": lambda s, compile_: OR(*(compile_(c) for c in s.root)),
}
"""Condition kind -> its experta pattern. Every kind in the registry has an entry."""


def compile_condition(cond: Condition) -> Any:
    return COMPILERS[cond.kind](cond.spec, compile_condition)


_PARAMETERS: dict[CodeType, set[str]] = {}
"""Code object of an action -> the argument names experta passes it (empty: all)."""


def _parameters(function: FunctionType) -> set[str]:
    """What experta's ``Rule.__call__`` derives from ``inspect.signature``, once per code."""
    found = _PARAMETERS.get(function.__code__)
    if found is None:
        signature = inspect.signature(function)
        if any(p.kind == inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values()):
            found = set()
        else:
            found = set(signature.parameters)
        _PARAMETERS[function.__code__] = found
    return found


_ACTION_PARAMETERS = frozenset(("engine",))
"""What experta's ``inspect.signature`` finds in :meth:`RuleAction.__call__`."""

_ExpertaRule: Any = experta.Rule


class CompiledRule(_ExpertaRule):
    """experta's ``Rule``, reading its action's signature from a cache.

    experta rebuilds a rule about ten times while it prepares the network (each
    step of the DNF rewrite calls ``new_conditions``, which wraps the action
    again) and each wrap calls ``inspect.signature``: some 2,400 calls for the
    knowledge base. A compiled action is a :class:`RuleAction`, whose one
    parameter is known, and a plain function's names are computed once per code
    object; anything else (a wrapped callable, a ``__signature__``) goes through
    experta unchanged.
    """

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        wrapped: Any = getattr(self, "_wrapped", None)
        action: Any = args[0] if args else None
        if wrapped is None and (type(action) is RuleAction or (type(action) is FunctionType
                                and not hasattr(action, "__wrapped__")
                                and not hasattr(action, "__signature__"))):
            self._wrapped = action
            parameters = _ACTION_PARAMETERS if type(action) is RuleAction \
                else _parameters(args[0])
            if parameters:
                self._wrapped_args = set(parameters)
            return update_wrapper(self, action)
        return super().__call__(*args, **kwargs)


def compile_rule(rule: Rule, kb: KnowledgeBase, action: Callable[..., None]) -> Any:
    """One knowledge rule -> one experta Rule whose action calls ``action``."""
    patterns = [compile_condition(c) for c in rule.when]
    if all(c.kind == "not" for c in rule.when):
        patterns.insert(0, experta.InitialFact())
    return CompiledRule(*patterns, salience=SALIENCE[rule.stage])(action)


class RuleAction:
    """The action of one compiled rule: records the firing of ``rule_id`` on the engine.

    An object rather than a closure, so that a built network can be stored in the cache
    (:mod:`.netcache`); it carries ``__name__`` (``rule_<id>``) as a function would.
    """

    def __init__(self, rule_id: str) -> None:
        self.rule_id = rule_id
        self.__name__ = self.__qualname__ = f"rule_{rule_id}"

    def __call__(self, engine: Any) -> None:
        engine.fired(self.rule_id)


def make_action(rule_id: str) -> RuleAction:
    """The action of the rule ``rule_id`` (bound now, not at call time)."""
    return RuleAction(rule_id)


def compile_rules(kb: KnowledgeBase) -> dict[str, Any]:
    """Class attributes for a KnowledgeEngine subclass, one per rule, in id order."""
    members: dict[str, Any] = {}
    for number, rule in enumerate(sorted(kb.rules, key=lambda r: r.id)):
        members[f"r{number:05d}"] = compile_rule(rule, kb, make_action(rule.id))
    return members
