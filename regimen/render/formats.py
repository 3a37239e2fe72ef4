"""The one output-format registry: name, file extensions, how a document is rendered.

Every command's ``--format`` choices, the default taken from the ``--output``
extension and the JSON writer come from here. ``json`` writes the document's
model with :func:`regimen.result.to_json`; every other format renders the
document's Jinja template ``templates/<document>.<format>.j2``.

``pdf`` is printed from the document's ``html`` rendering with WeasyPrint
(:mod:`regimen.render.pdf`) and is the one format whose output is bytes.

Adding a format: one :class:`Format` entry in :data:`FORMATS`, plus a template
``<document>.<name>.j2`` for each document that should support it (a command
offers a format only for the documents listed in :data:`DOCUMENTS`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

from ..errors import InputError


class Format(NamedTuple):
    name: str
    extensions: tuple[str, ...]
    templated: bool = True
    """Rendered through ``templates/<document>.<name>.j2``."""
    autoescape: bool = False
    printed_from: str | None = None
    """Printed to PDF from the document rendered in this format (bytes, not text)."""


FORMATS: dict[str, Format] = {f.name: f for f in (
    Format("txt", (".txt",)),
    Format("md", (".md", ".markdown")),
    Format("html", (".html", ".htm"), autoescape=True),
    Format("json", (".json",), templated=False),
    Format("pdf", (".pdf",), templated=False, printed_from="html"),
)}
"""Every output format, by name, in the order ``--help`` lists them."""

DOCUMENTS: dict[str, tuple[str, ...]] = {
    "report": ("txt", "md", "html", "json", "pdf"),
    "explain": ("txt", "md", "json"),
    "timeline": ("txt", "md", "html", "json", "pdf"),
    "summary": ("txt", "md", "html", "json", "pdf"),
    "table": ("txt", "json"),
    "batch-report": ("txt", "md", "html", "json"),
    "cohort": ("html", "md", "json"),
}
"""The formats each document supports (``table``: the plain listings of ``knowledge``;
``batch-report``: the per-patient reports ``regimen batch`` writes; ``cohort``: its
cohort summary)."""


def names(document: str | None = None) -> tuple[str, ...]:
    """The format names, all of them or those ``document`` supports."""
    if document is None:
        return tuple(FORMATS)
    return DOCUMENTS[document]


def check_format(fmt: str, document: str | None = None) -> Format:
    allowed = names(document)
    if fmt not in allowed:
        raise InputError(f"unknown format {fmt!r}", field="--format",
                         hint=f"choose one of {', '.join(allowed)}")
    return FORMATS[fmt]


def format_for(path: str | None, explicit: str | None,
               default: Callable[[], str] = lambda: "txt", document: str | None = None) -> str:
    """The explicit format, else the output file's extension, else the default."""
    if explicit:
        check_format(explicit, document)
        return explicit
    if path:
        for fmt in (FORMATS[n] for n in names(document)):
            if any(path.lower().endswith(ext) for ext in fmt.extensions):
                return fmt.name
    return default()


def render_document(document: str, fmt: str, model: Any, **context: Any) -> str | bytes:
    """A document (``report``, ``timeline``, ...) in ``fmt``: JSON, its template, or PDF.

    The template receives ``context``; JSON is the model itself; PDF is the
    document rendered in ``printed_from`` (HTML), printed: bytes, not text.
    """
    from ..result import to_json

    chosen = check_format(fmt, document)
    if chosen.printed_from is not None:
        from .pdf import html_to_pdf

        printed = render_document(document, chosen.printed_from, model, **context)
        assert isinstance(printed, str)
        return html_to_pdf(printed)
    if not chosen.templated:
        return to_json(model)
    from .jinja import render_template

    return render_template(document, fmt, **context)
