"""Rule engines behind one seam (:mod:`regimen.engine.base`).

Each backend is one subpackage here whose ``__init__`` names its class as
``BACKEND`` (and ``DEFAULT = True`` for the one used when none is asked for);
the backend's engine library is imported only when the backend compiles a
knowledge base, so importing regimen imports no rule-engine library. Every
backend must pass the same test suite.
"""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from .base import Backend, FactRecord, Firing, Runner

__all__ = ["Backend", "FactRecord", "Firing", "Runner", "available", "backend"]


def available() -> list[str]:
    """The names of the backends (the subpackages of this package)."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if m.ispkg)


def _module(name: str) -> ModuleType:
    if name not in available():
        from ..errors import InputError

        raise InputError(f"unknown engine backend {name!r}", field="engine",
                         hint=f"choose one of {', '.join(available())}")
    return importlib.import_module(f"{__name__}.{name}")


def backend(name: str | None = None) -> Backend:
    """The engine backend called ``name``, else the default one."""
    if name is None:
        defaults = [n for n in available() if getattr(_module(n), "DEFAULT", False)]
        if len(defaults) != 1:  # pragma: no cover - a packaging mistake
            raise RuntimeError(f"expected one default engine backend, found {defaults}")
        name = defaults[0]
    instance: Backend = _module(name).BACKEND()
    return instance
