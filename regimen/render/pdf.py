"""Print an HTML report to PDF with WeasyPrint (the optional ``pdf`` extra).

The HTML templates carry the print stylesheet (running header, page numbers,
page-break rules); this module only chooses the page size, adds the date of
evaluation to the running header and converts. Nothing is fetched: the
reports are self-contained and any URL they might name is refused.

WeasyPrint needs Pango and HarfBuzz from the operating system. When the
library or its system libraries are missing, :func:`html_to_pdf` raises
:class:`PdfUnavailableError` saying what to install.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from ..errors import InputError

PAGE_SIZES: dict[str, str] = {"a4": "A4", "letter": "letter"}
PAGE_SIZE_VARIABLE = "REGIMEN_PAGE_SIZE"
INSTALL_HINT = (
    "install the pdf extra (pip install 'regimen[pdf]') and the system libraries it needs "
    "(Debian/Ubuntu: apt-get install libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 "
    "fonts-dejavu-core)"
)


class PdfUnavailableError(InputError):
    """PDF output was asked for but WeasyPrint or its system libraries are missing."""


def unavailable_reason() -> str | None:
    """None when PDF output works here, else why not (for messages and test skips)."""
    try:
        import weasyprint  # noqa: F401
    except (ImportError, OSError) as exc:
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return f"PDF output needs WeasyPrint: {first_line}; {INSTALL_HINT}"
    return None


def page_size(value: str | None = None) -> str:
    """The CSS page size: ``value``, else $REGIMEN_PAGE_SIZE, else A4."""
    chosen = value if value is not None else os.environ.get(PAGE_SIZE_VARIABLE, "A4")
    try:
        return PAGE_SIZES[chosen.strip().lower()]
    except KeyError:
        raise InputError(f"unknown page size {chosen!r}", field=PAGE_SIZE_VARIABLE,
                         hint="use A4 or Letter") from None


def _refuse_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError(f"regimen reports load no external resource (asked for {url})")


def print_css(size: str, evaluated: dt.date | None) -> str:
    """The stylesheet added for print: page size and the date of evaluation."""
    css = f"@page {{ size: {size}; }}\n"
    if evaluated is not None:
        css += (f'@page {{ @top-right {{ content: "evaluated {evaluated.isoformat()}"; }} }}\n')
    return css


def html_to_pdf(html: str, *, size: str | None = None,
                evaluated: dt.date | None = None) -> bytes:
    """The PDF of a self-contained HTML document.

    ``size`` is A4 or Letter (default: $REGIMEN_PAGE_SIZE, else A4); ``evaluated``
    is printed in the running header (default: today).
    """
    css_size = page_size(size)
    reason = unavailable_reason()
    if reason is not None:
        raise PdfUnavailableError(reason, field="--format pdf")
    import logging

    import weasyprint

    # WeasyPrint logs unsupported CSS properties (screen-only rules) as warnings
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    when = evaluated if evaluated is not None else dt.date.today()
    document = weasyprint.HTML(string=html, url_fetcher=_refuse_fetch)
    pdf = document.write_pdf(stylesheets=[weasyprint.CSS(string=print_css(css_size, when))])
    assert isinstance(pdf, bytes)
    return pdf
