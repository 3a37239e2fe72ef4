"""The experta backend: the only package that imports experta.

``compile.py`` turns each condition kind into an experta pattern (one entry per
kind in ``COMPILERS``); ``engine.py`` runs the RETE network and translates
experta facts to and from regimen's :class:`~regimen.engine.base.FactRecord`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...knowledge.base import KnowledgeBase
    from .engine import Engine


class ExpertaBackend:
    """Compiles a knowledge base into an experta :class:`~.engine.Engine`."""

    name = "experta"

    def compile(self, kb: KnowledgeBase) -> Engine:
        from .engine import Engine

        return Engine(kb)


BACKEND = ExpertaBackend
DEFAULT = True
