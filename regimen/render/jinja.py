"""The Jinja environment, its filters, and the report's ctDNA table.

Templates only format: every value they show is computed here or in the
library. HTML is autoescaped; every template uses StrictUndefined, so a
missing value is an error, never an empty string.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import jinja2
import markupsafe

from ..evaluate.rank import MATCH_TEXT, SCORE_PARTS
from ..io.cache import cache_dir
from ..io.resources import templates_dir
from ..result import DISCLAIMER, NOTICE
from .formats import FORMATS


def compress_refs(refs: Iterable[int]) -> str:
    """``[30, 31, 32, 34]`` -> ``"30-32, 34"``."""
    numbers = sorted(set(refs))
    if not numbers:
        return "no reference number"
    parts: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(parts)


def cite_text(citation: dict[str, Any]) -> str:
    refs = citation["refs"]
    ref_text = f"ref {compress_refs(refs)}" if len(refs) == 1 else (
        f"refs {compress_refs(refs)}" if refs else "no reference number given")
    return f"{citation['source']} {citation['where']} ({ref_text})"


def number(value: float) -> str:
    return f"{value:g}"


def signed(value: float) -> str:
    return f"{value:+g}"


def summarise(items: Iterable[str], limit: int = 6) -> str:
    """A list for a reader: the first ``limit`` items, then "and N more".

    >>> summarise(["a", "b", "c"], limit=2)
    'a, b and 1 more'
    >>> summarise(["a", "b"])
    'a, b'
    """
    shown = list(items)
    if len(shown) <= limit:
        return ", ".join(shown)
    return f"{', '.join(shown[:limit])} and {len(shown) - limit} more"


def break_after_plus(value: str) -> markupsafe.Markup:
    """HTML: ``a+b+c`` with a line-break opportunity after each ``+``."""
    return markupsafe.Markup("+<wbr>").join(markupsafe.escape(value).split("+"))


def _environment(autoescape: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        bytecode_cache=_bytecode_cache(autoescape),
    )
    env.filters["refs"] = compress_refs
    env.filters["cite"] = cite_text
    env.filters["num"] = number
    env.filters["signed"] = signed
    env.filters["wbr"] = break_after_plus
    env.filters["summarise"] = summarise
    env.globals["SCORE_PARTS"] = SCORE_PARTS
    env.globals["MATCH_TEXT"] = MATCH_TEXT
    env.globals["DISCLAIMER"] = DISCLAIMER
    env.globals["NOTICE"] = NOTICE
    return env


_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]|#~!"} | {
    "<": "&lt;", ">": "&gt;", "&": "&amp;", "\n": " ", "\r": " "})


def markdown_text(value: Any) -> Any:
    """Every value a Markdown template prints is text, never markup.

    Markdown punctuation is backslash-escaped (no links, emphasis or broken
    tables: ``[x](javascript:...)``, ``|``), ``<``, ``>`` and ``&`` become entities
    (no raw HTML such as ``<script>`` or ``<img onerror>``) and line breaks become
    spaces (a value cannot start a new block or table row).
    """
    if value is None or isinstance(value, bool | int | float):
        return value
    return str(value).translate(_MD_SPECIAL)


PREFORMATTED_MD = frozenset({"cohort.md.j2"})
"""Markdown templates whose values are built as Markdown from validated data (cohort
tables); every other Markdown template escapes what it prints."""


@jinja2.pass_context
def _markdown_finalize(context: jinja2.runtime.Context, value: Any) -> Any:
    if context.name in PREFORMATTED_MD:
        return value
    return markdown_text(value)


def _bytecode_cache(autoescape: bool, kind: str | None = None) -> jinja2.BytecodeCache | None:
    """Compiled templates in the user cache (keyed by template source), if it is on."""
    directory = cache_dir()
    if directory is None:
        return None
    kind = kind or ("escaped" if autoescape else "plain")
    target = directory / f"jinja-{jinja2.__version__}-{kind}"
    try:
        target.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError:
        return None
    return jinja2.FileSystemBytecodeCache(str(target))


_ENVS: dict[str, jinja2.Environment] = {}


def environment(fmt: str) -> jinja2.Environment:
    autoescape = FORMATS[fmt].autoescape
    key = "md" if fmt == "md" else str(autoescape)
    if key not in _ENVS:
        env = _environment(autoescape)
        if fmt == "md":  # compiled differently (finalize): its own bytecode cache
            env.finalize = _markdown_finalize
            env.bytecode_cache = _bytecode_cache(autoescape, "markdown-escaped")
        _ENVS[key] = env
    return _ENVS[key]


def render_template(name: str, fmt: str, **context: Any) -> str:
    return environment(fmt).get_template(f"{name}.{fmt}.j2").render(**context)


WIDE_TABLE_COLUMNS = 12
"""Up to this many series the ctDNA table has a column per series; beyond it, a row
per reading (so the table grows with the readings, not with draws x variants)."""


def _cell(point: dict[str, Any]) -> str:
    if point["below_lod"]:
        return "<LOD"
    if point["value"] is None:
        return "detected"
    return f"{point['value']:g}"


def ctdna_table(data: dict[str, Any]) -> dict[str, Any]:
    """The ctDNA series as rows (one per draw date) and columns (one per series).

    A variant series without a point on a draw date was not listed there: below
    detection ("<LOD"); the tumour fraction without a point was not measured ("-").
    """
    series = data["ctdna"]["series"]
    dates = sorted({p["date"] for s in series for p in s["points"]}
                   | set(data["ctdna"].get("dates", [])))
    if len(series) > WIDE_TABLE_COLUMNS:
        by_date: dict[str, list[list[str]]] = {}
        for s in series:
            for p in s["points"]:
                by_date.setdefault(p["date"], []).append([s["name"], _cell(p)])
        return {"columns": ["series", "value"],
                "rows": [{"date": date, "cells": cells} for date in sorted(by_date)
                         for cells in by_date[date]]}
    rows = []
    points = [({p["date"]: p for p in s["points"]}, s["name"] == "tumour fraction")
              for s in series]
    for date in dates:
        cells = []
        for by_date_point, is_fraction in points:
            point = by_date_point.get(date)
            if point is None:
                cells.append("-" if is_fraction else "<LOD")
            else:
                cells.append(_cell(point))
        rows.append({"date": date, "cells": cells})
    return {"columns": [s["name"] for s in series], "rows": rows}
