"""Rule engines behind one seam (:mod:`regimen.engine.base`).

:func:`backend` imports the chosen backend only when it is asked for, so that
importing regimen imports no rule-engine library. Each backend lives in its own
folder (``experta/`` today) and must pass the same test suite.
"""

from __future__ import annotations

import importlib

from .base import BACKENDS, DEFAULT_BACKEND, Backend, FactRecord, Firing, Runner

__all__ = ["BACKENDS", "DEFAULT_BACKEND", "Backend", "FactRecord", "Firing", "Runner", "backend"]


def backend(name: str = DEFAULT_BACKEND) -> Backend:
    """The engine backend called ``name`` (imported now)."""
    module_name, _, class_name = BACKENDS[name].partition(":")
    backend_class = getattr(importlib.import_module(module_name), class_name)
    instance: Backend = backend_class()
    return instance
