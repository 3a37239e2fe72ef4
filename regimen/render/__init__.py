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

    source = (FORMATS[fmt].printed_from or fmt) if fmt in FORMATS else fmt
    if source not in FORMATS or not FORMATS[source].templated:
        return render_document("report", fmt, result)  # JSON, or the unknown format's error
    from .jinja import ctdna_table

    data = result.to_dict()
    chart = None
    if source == "html":  # only the HTML report draws the chart
        from .chart import ctdna_chart

        chart = ctdna_chart(result)
    return render_document("report", fmt, result, r=data, chart=chart, table=ctdna_table(data))


class _CallableModule(types.ModuleType):
    """Lets ``regimen.render(result, fmt)`` call :func:`render` although ``render`` is a package."""

    def __call__(self, result: Result, fmt: str = "txt") -> Any:
        return render(result, fmt)


sys.modules[__name__].__class__ = _CallableModule
