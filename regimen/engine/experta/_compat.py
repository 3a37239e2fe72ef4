"""Make experta 1.9.4 importable on Python >= 3.10.

experta (last released 2019) pins ``frozendict==1.2``. frozendict 1.2 subclasses
``collections.Mapping``, an alias that Python 3.10 removed, so importing it fails
and experta's ``__init__`` silently swallows the ImportError (leaving
``experta.KnowledgeEngine`` undefined). pip cannot override experta's pin (a
second ``frozendict>=2`` requirement makes the resolver fail), so the fix lives
here: alias ``collections.Mapping`` only while frozendict's class is defined,
then remove the alias again so nothing else can come to depend on it.

experta also calls ``logging.basicConfig()`` at import time, which would add a
root handler to any program that imports regimen and print log messages twice.
Handlers that appear on the root logger during the import are removed again.

Only the modules of :mod:`regimen.engine.experta` import this module.
"""

from __future__ import annotations

import collections
import collections.abc
import logging
import sys
from types import ModuleType


def _import_frozendict() -> None:
    if "frozendict" in sys.modules:
        return
    added = not hasattr(collections, "Mapping")
    if added:
        collections.Mapping = collections.abc.Mapping  # type: ignore[attr-defined]
    try:
        import frozendict  # noqa: F401
    finally:
        if added:
            del collections.Mapping  # type: ignore[attr-defined]


def load_experta() -> ModuleType:
    """Import experta with the compatibility fixes applied and return the module."""
    if "experta" in sys.modules and hasattr(sys.modules["experta"], "KnowledgeEngine"):
        return sys.modules["experta"]
    root = logging.getLogger()
    handlers_before = list(root.handlers)
    _import_frozendict()
    import experta

    for handler in list(root.handlers):
        if handler not in handlers_before:
            root.removeHandler(handler)
    if not hasattr(experta, "KnowledgeEngine"):  # pragma: no cover - defensive
        raise ImportError("experta failed to import; see regimen/engine/experta/_compat.py")
    # Silence experta's own loggers unless a caller asks for them.
    for name in ("experta", "experta.watchers"):
        logging.getLogger(name).addHandler(logging.NullHandler())
    return experta


experta = load_experta()
