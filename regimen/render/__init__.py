"""Rendering: the format registry, the Jinja environment and the ctDNA chart.

``regimen.render(result, "html")`` renders an evaluation report: this package
is callable, and :func:`render` is the same function. Jinja is imported only
when a template is rendered.
"""

from __future__ import annotations

import sys
import types
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..result import Result

__all__ = ["render"]


def render(result: Result, fmt: str = "txt") -> str | bytes:
    """An evaluation report in ``fmt``: text, or bytes for pdf (see :mod:`.formats`).

    JSON is written without importing Jinja (scripts that ask for JSON start faster)."""
    from .formats import FORMATS, render_document

    chosen = FORMATS.get(fmt)
    if chosen is not None and not chosen.templated and chosen.printed_from is None:
        return render_document("report", fmt, result)
    from .jinja import render as render_report

    return render_report(result, fmt)


class _CallableModule(types.ModuleType):
    """Lets ``regimen.render(result, fmt)`` call :func:`render` although ``render`` is a package."""

    def __call__(self, result: Result, fmt: str = "txt") -> Any:
        return render(result, fmt)


sys.modules[__name__].__class__ = _CallableModule
