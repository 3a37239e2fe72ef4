"""PDF output: page count, text content, the summary on page 1, A4 and Letter.

Needs WeasyPrint and its system libraries (Pango, HarfBuzz); without them the
tests that print are skipped with the install instruction, and the one that
checks the error message runs instead.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from regimen.cli import cli
from regimen.render import render
from regimen.render.formats import format_for
from regimen.render.pdf import PdfUnavailableError, html_to_pdf, page_size, unavailable_reason

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
REASON = unavailable_reason()
needs_pdf = pytest.mark.skipif(REASON is not None, reason=REASON or "")


_PRINTED: dict[Path, bytes] = {}


def _printed(recommender, example: Path) -> bytes:
    """Each example is printed once per test run (printing takes seconds)."""
    if example not in _PRINTED:
        pdf = render(recommender.evaluate(example), "pdf")
        assert isinstance(pdf, bytes)
        _PRINTED[example] = pdf
    return _PRINTED[example]


def _pages(pdf: bytes) -> list[str]:
    pypdf = pytest.importorskip("pypdf", reason="pypdf is in the test extra: pip install pypdf")
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return [" ".join((page.extract_text() or "").split()) for page in reader.pages]


def _mediabox(pdf: bytes) -> tuple[float, float]:
    import pypdf

    box = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    return float(box.width), float(box.height)


def test_pdf_format_is_inferred_from_the_extension() -> None:
    assert format_for("board/EX-CRC-01.PDF", None) == "pdf"
    assert page_size("letter") == "letter"
    assert page_size(None) in ("A4", "letter")


def test_missing_weasyprint_is_an_input_error_naming_what_to_install(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "weasyprint", None)     # import fails as if absent
    assert "regimen[pdf]" in (unavailable_reason() or "")
    with pytest.raises(PdfUnavailableError, match="regimen\\[pdf\\]"):
        html_to_pdf("<p>x</p>")
    run = CliRunner().invoke(cli, ["evaluate", str(ROOT / "examples" / "crc-msi-high.yaml"),
                                   "-f", "pdf"])
    assert run.exit_code == 2
    assert "libpango" in run.output and "Traceback" not in run.output


@needs_pdf
def test_kras_g12c_example_prints_in_six_pages_with_the_summary_first(recommender) -> None:
    example = ROOT / "examples" / "crc-kras-g12c.yaml"
    result = recommender.evaluate(example)
    pages = _pages(_printed(recommender, example))
    # issue 13: a tumour-board pack, at most six A4 pages with the summary on page 1
    assert 1 <= len(pages) <= 6, len(pages)
    first = pages[0]
    assert "EX-CRC-01" in first
    assert "Summary" in first and "Top ranked options" in first
    assert "Patient" in first
    top = result.recommendations[0]
    assert top.label in first
    # the running header and the page numbers are on every page
    for number, text in enumerate(pages, start=1):
        assert "EX-CRC-01" in text, number
        assert f"page {number} of {len(pages)}" in text, number
        assert result.knowledge.version in text, number
    assert "does not replace clinical judgement" in " ".join(pages)


@needs_pdf
@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_every_example_prints(recommender, example: Path) -> None:
    result = recommender.evaluate(example)
    pdf = _printed(recommender, example)
    assert pdf.startswith(b"%PDF-")
    pages = _pages(pdf)
    assert len(pages) <= 7, (example.name, len(pages))
    assert "Summary" in pages[0]
    if result.recommendations:
        assert result.recommendations[0].label in pages[0]
    else:  # therapy history only: the options a test would unlock
        assert result.conditional_options[0].option.label in " ".join(pages)


@needs_pdf
def test_page_size_a4_by_default_and_letter_on_request(monkeypatch) -> None:
    html = "<!DOCTYPE html><html><body><p>page size</p></body></html>"
    monkeypatch.delenv("REGIMEN_PAGE_SIZE", raising=False)
    width, height = _mediabox(html_to_pdf(html))
    assert (round(width), round(height)) == (595, 842)          # A4 in points
    monkeypatch.setenv("REGIMEN_PAGE_SIZE", "Letter")
    width, height = _mediabox(html_to_pdf(html))
    assert (round(width), round(height)) == (612, 792)          # US Letter in points


@needs_pdf
def test_cli_writes_a_pdf_by_extension(tmp_path: Path) -> None:
    out = tmp_path / "report.pdf"
    run = CliRunner().invoke(cli, ["evaluate", str(ROOT / "examples" / "crc-msi-high.yaml"),
                                   "-o", str(out)])
    assert run.exit_code == 0, run.output
    data = out.read_bytes()
    assert data.startswith(b"%PDF-")
    assert "does not replace clinical judgement" in " ".join(_pages(data))


def test_unknown_page_size_is_an_input_error(monkeypatch) -> None:
    monkeypatch.setenv("REGIMEN_PAGE_SIZE", "A3")
    run = CliRunner().invoke(cli, ["evaluate", str(ROOT / "examples" / "crc-msi-high.yaml"),
                                   "-f", "pdf"])
    assert run.exit_code == 2
    assert "REGIMEN_PAGE_SIZE" in run.output and "A4 or Letter" in run.output
