"""The engine seam: regimen's own fact and firing types and the backend protocol.

A backend compiles a knowledge base once into a runner; a runner takes
:class:`FactRecord` s and returns the :class:`Firing` s, in firing order. Nothing
of a backend's own types crosses this seam: facts and firings carry plain,
hashable values (strings, numbers, booleans, ``None``, tuples of strings).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    from ..knowledge.base import KnowledgeBase


@dataclass(frozen=True)
class FactRecord:
    """One fact: its kind (``"Alteration"``, ``"Mechanism"``, ...) and its fields, in order.

    >>> fact = FactRecord.of("Tme", feature="hypoxic")
    >>> fact["feature"], fact.as_dict()
    ('hypoxic', {'feature': 'hypoxic'})
    """

    kind: str
    values: tuple[tuple[str, Any], ...]

    @classmethod
    def of(cls, kind: str, **values: Any) -> FactRecord:
        return cls(kind, tuple(values.items()))

    def as_dict(self) -> dict[str, Any]:
        return dict(self.values)

    def __getitem__(self, key: str) -> Any:
        for name, value in self.values:
            if name == key:
                return value
        raise KeyError(key)


class Firing(NamedTuple):
    """One rule firing: which rule, at which stage, the facts it matched, what it derived."""

    rule: str
    stage: str
    matched: tuple[FactRecord, ...]
    derived: FactRecord


class Runner(Protocol):
    """A compiled knowledge base, ready to evaluate many profiles."""

    def run(self, facts: Iterable[FactRecord]) -> list[Firing]: ...


class Backend(Protocol):
    """An engine backend: compiles a knowledge base into a :class:`Runner`."""

    name: str

    def compile(self, kb: KnowledgeBase) -> Runner: ...
