"""The built rule network, kept in the cache (:mod:`regimen.io.cache`) beside the
knowledge base it was built from.

Building the network (compiling ~300 rules into experta rules, preparing them,
the alpha dispatch tables, the joins) is a pure function of the knowledge
base's rules and of the code; a cold command spent about a sixth of its time on
it. The built network (the compiled rules and the matcher's nodes, memories
empty) is pickled once, under the knowledge base's own cache key
(:func:`regimen.knowledge.loader.cache_key`: the digest of every knowledge
file, of regimen's code and the directory) plus experta's version, and read
back instead of being built again.

A knowledge base that did not come from :func:`~regimen.knowledge.loader.load_knowledge`,
or whose rule list was changed after loading, has no key: its network is built
and never stored. Everything that cannot be pickled safely makes the entry be
skipped (and the network built as before); an entry that cannot be read is
ignored.

experta's patterns and rules are tuple and dict subclasses with attributes, and
hashes cached on the object; they are pickled here by value without those
hashes, and without the engine a rule remembers from its last attribute access.
"""

from __future__ import annotations

import functools
import io
import pickle
from types import FunctionType
from typing import Any

from ...io import cache
from ...knowledge.base import KnowledgeBase
from ...knowledge.loader import cache_key
from ._compat import experta
from .compile import fact_class, is_fact_class

KIND = "network-experta"
"""The cache entry's kind (one entry per knowledge directory)."""

_Fact: Any = experta.Fact
_ConditionalElement: Any = experta.conditionalelement.ConditionalElement
_Rule: Any = experta.Rule
_KnowledgeEngine: Any = experta.KnowledgeEngine
_check: Any = experta.matchers.rete.check

_CHECKS = {"equal_literal": experta.L(None), "match_predicate": experta.P(bool),
           "wildcard_match": experta.W()}
"""experta's field-test functions (defined anew inside a function for each pattern, so not
importable by name), each with a constraint that makes experta define it."""


@functools.cache
def _check_function(name: str) -> Any:
    """experta's field-test function called ``name`` (the same code as any other copy, and
    without a closure, so one copy serves every test that refers to it)."""
    return _check.FeatureCheck.get_check_function(_CHECKS[name]).check


def _rebuild_element(cls: Any, items: tuple[Any, ...], state: dict[str, Any]) -> Any:
    element = tuple.__new__(cls, items)
    element.__dict__.update(state)
    return element


def _rebuild_fact(cls: Any, items: dict[Any, Any], state: dict[str, Any]) -> Any:
    fact = cls.__new__(cls)
    dict.update(fact, items)  # the values are frozen already: no __setitem__
    fact.__dict__.update(state)
    return fact


class _NetworkPickler(pickle.Pickler):
    """Pickles experta's network objects by value and its fact classes by kind name."""

    def reducer_override(self, obj: Any) -> Any:
        if isinstance(obj, type):
            return (fact_class, (obj.__name__,)) if is_fact_class(obj) else NotImplemented
        if isinstance(obj, _KnowledgeEngine):
            raise pickle.PicklingError("the network refers to an engine")
        if isinstance(obj, FunctionType) and obj.__module__ == _check.__name__:
            if obj.__name__ not in _CHECKS or obj.__closure__ is not None:
                raise pickle.PicklingError(f"experta check {obj.__qualname__}")
            return _check_function, (obj.__name__,)
        if isinstance(obj, _Fact):
            state = {k: v for k, v in vars(obj).items() if k != "_hash"}
            return _rebuild_fact, (type(obj), dict(obj.items()), state)
        if isinstance(obj, _ConditionalElement):
            state = {k: v for k, v in vars(obj).items() if k != "ke"}
            if isinstance(obj, _Rule):
                state["_wrapped_self"] = None
            return _rebuild_element, (type(obj), tuple(obj), state)
        return NotImplemented


def _entry(kb: KnowledgeBase) -> tuple[Any, str] | None:
    key = cache_key(kb)
    if key is None:
        return None
    path = cache.entry_path(KIND, str(kb.root.resolve()))
    if path is None:
        return None
    return path, f"{key}|experta {experta.__version__}"


def load(kb: KnowledgeBase) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The compiled rules (engine class members) and matcher state stored for ``kb``."""
    entry = _entry(kb)
    if entry is None:
        return None
    data = cache.load(*entry)
    if not isinstance(data, bytes):
        return None
    try:
        members, state = pickle.loads(data)
    except Exception:  # from another version of a class: build it again
        return None
    if not (isinstance(members, dict) and isinstance(state, dict)):
        return None
    return members, state


def matcher_state(matcher: Any) -> dict[str, Any]:
    """What the matcher built (everything but its engine)."""
    return {k: v for k, v in vars(matcher).items() if k != "engine"}


def restore(matcher: Any, state: dict[str, Any]) -> None:
    """Give a matcher the network a stored :func:`matcher_state` describes."""
    vars(matcher).update(state)


def store(kb: KnowledgeBase, members: dict[str, Any], matcher: Any) -> None:
    """Keep the freshly built network of ``kb`` (before any run: memories empty)."""
    entry = _entry(kb)
    if entry is None or not getattr(matcher, "fast", False):
        return  # experta's own nodes (a network the fast matcher does not handle): not kept
    buffer = io.BytesIO()
    try:
        _NetworkPickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(
            (members, matcher_state(matcher)))
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError):
        return
    cache.store(*entry, buffer.getvalue())
