"""Every HTML document regimen writes, loaded in headless Chromium at 1280 and 390 px.

Asserts no console message, exception or Content-Security-Policy violation and
no element wider than the viewport. Needs Chromium (Debian: apt-get install
chromium); skipped with that message when it is absent. $REGIMEN_CHROMIUM names
another binary.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from devtools import Browser, find_chromium

from regimen.knowledge import load_knowledge
from regimen.render import render
from regimen.render.jinja import render_template
from regimen.tools.summary import summarise_knowledge

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
WIDTHS = (1280, 390)
CHROMIUM = find_chromium()
DOCUMENTS = [f"report-{p.stem}" for p in EXAMPLES] + [
    "timeline-crc-anti-egfr-ctdna", "summary-HCC"]
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
       "form-action 'none'")

pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium not found: install it (Debian: apt-get install chromium) or set "
           "REGIMEN_CHROMIUM to run the browser checks")


@pytest.fixture(scope="module")
def pages(recommender, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("html")
    written = {}

    def write(name: str, text: str | bytes) -> None:
        assert isinstance(text, str)
        path = out / f"{name}.html"
        path.write_text(text, encoding="utf-8")
        written[name] = path

    for example in EXAMPLES:
        write(f"report-{example.stem}", render(recommender.evaluate(example), "html"))
    timeline = recommender.timeline(ROOT / "examples" / "crc-anti-egfr-ctdna.yaml")
    write("timeline-crc-anti-egfr-ctdna",
          render_template("timeline", "html", t=timeline.model_dump()))
    kb = load_knowledge(None)
    summary = summarise_knowledge(kb, kb.vocabulary.tumour_code("HCC"))
    write("summary-HCC", render_template("summary", "html", s=summary.model_dump(mode="json")))
    # two pages that must fail, to show that the checks can see a problem
    write("bad-script", f'<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" '
                        f'content="{CSP}"></head><body><p>x</p>'
                        "<script>document.title = 'ran'</script></body></html>")
    write("bad-wide", '<!DOCTYPE html><html><head><meta name="viewport" '
                      'content="width=device-width, initial-scale=1"></head><body>'
                      '<table><tr><td>aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'
                      "aaaaaaaaaaaaaaaaaaaaaaaaaaaa</td></tr></table></body></html>")
    return written


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert CHROMIUM is not None
    client = Browser(CHROMIUM)
    try:
        yield client
    finally:
        client.close()


def test_the_checks_see_a_csp_violation_and_an_overflow(browser: Browser, pages) -> None:
    blocked = browser.load(pages["bad-script"], 1280)
    assert any("Content Security Policy" in p or "ContentSecurityPolicy" in p
               for p in blocked["problems"]), blocked["problems"]
    wide = browser.load(pages["bad-wide"], 390)
    assert wide["wide"] and wide["scrollWidth"] > wide["viewport"]


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", DOCUMENTS)
def test_document_loads_cleanly_and_fits_the_viewport(browser: Browser, pages, name: str,
                                                      width: int) -> None:
    measured = browser.load(pages[name], width)
    assert measured["viewport"] <= width
    assert measured["problems"] == [], measured["problems"]
    assert measured["wide"] == [], f"{measured['wideCount']} elements overflow: {measured['wide']}"
    assert measured["scrollWidth"] <= measured["viewport"], measured
