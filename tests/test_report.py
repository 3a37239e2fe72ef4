from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import html5lib
import pytest

from regimen.render import render
from regimen.render.formats import FORMATS, format_for
from regimen.render.jinja import compress_refs
from regimen.result import DISCLAIMER

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def result(recommender):
    return recommender.evaluate(DATA / "issue_format.yaml")


def test_compress_refs() -> None:
    assert compress_refs([34, 30, 31, 32, 36]) == "30-32, 34, 36"
    assert compress_refs([]) == "no reference number"


@pytest.mark.parametrize("fmt", [f for f in FORMATS if f != "pdf"])  # pdf: tests/test_pdf.py
def test_every_format_renders_summary_and_disclaimer(result, fmt: str) -> None:
    text = render(result, fmt)
    assert "TB-2026-014" in text
    assert "COADREAD" in text
    flat = " ".join(text.split())
    assert "does not replace clinical judgement" in flat
    for rec in result.recommendations:
        assert rec.label in text or (fmt == "html" and rec.label.replace("&", "&amp;") in text)


def test_text_report_opens_with_patient_and_closes_with_disclaimer(result) -> None:
    text = render(result, "txt")
    assert text.index("PATIENT") < text.index("RANKED OPTIONS") < text.index("DISCLAIMER")
    assert text.rstrip().endswith("before any treatment decision.")


def test_report_shows_score_parts_and_citations(result) -> None:
    text = render(result, "txt")
    top = result.recommendations[0]
    assert f"{top.rank}. {top.label}  (score {top.score:g})" in text
    assert "evidence +" in text and "tumour match +" in text
    assert "gi-resistance-2025" in text


def test_json_render_is_result_json(result) -> None:
    assert json.loads(render(result, "json")) == result.to_dict()


def test_html_is_well_formed_and_self_contained(result) -> None:
    page = render(result, "html")
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    parser.parse(page)
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    assert "<script" not in page.lower()
    assert "@import" not in page and "url(" not in page


def test_html_escapes_user_text(recommender) -> None:
    evil = '<script>alert("x")</script>&<b>'
    result = recommender.evaluate({"id": evil, "tumour": {"type": "COADREAD", "stage": evil}})
    page = render(result, "html")
    assert evil not in page
    assert "&lt;script&gt;" in page


def test_html_ctdna_chart_points_follow_the_data(recommender) -> None:
    profile = {"id": "chart", "tumour": {"type": "COADREAD"},
               "therapies": [{"agents": ["cetuximab"], "start": "2025-01-01",
                              "end": "2025-07-01", "response": "PD"}],
               "ctdna": [{"date": "2025-01-10", "tumour_fraction": 0.10},
                         {"date": "2025-03-10", "tumour_fraction": 0.02},
                         {"date": "2025-05-10", "tumour_fraction": 0.06,
                          "variants": [{"gene": "KRAS", "change": "G12D", "vaf": 0.03}]}]}
    page = render(recommender.evaluate(profile), "html")
    svg_text = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    svg = ET.fromstring(svg_text)
    ns = {"s": "http://www.w3.org/2000/svg"}
    groups = {g.get("data-name"): g for g in svg.findall("s:g", ns)}
    assert set(groups) == {"tumour fraction", "KRAS G12D"}
    tf = groups["tumour fraction"].findall("s:circle", ns)
    assert [c.get("data-date") for c in tf] == ["2025-01-10", "2025-03-10", "2025-05-10"]
    assert [float(c.get("data-value")) for c in tf] == [0.10, 0.02, 0.06]
    xs = [float(c.get("cx")) for c in tf]
    ys = [float(c.get("cy")) for c in tf]
    assert xs == sorted(xs)                       # time runs left to right
    assert ys[1] > ys[2] > ys[0]                  # larger value, higher on the page
    kras = groups["KRAS G12D"].findall("s:circle", ns)
    assert [c.get("data-below-lod") for c in kras] == ["true", "true", "false"]
    assert svg.findall("s:rect", ns), "therapy band missing"
    progression = svg.findall("s:line[@class='progression']", ns)
    assert len(progression) == 1
    assert float(progression[0].get("x1")) > xs[-1]   # 2025-07-01 is after the last draw
    labels = {t.text for t in svg.findall("s:text[@class='mark-label']", ns)}
    assert {"progression", "nadir", "rise-from-nadir", "emergent-variant KRAS"} <= labels


def test_format_inference() -> None:
    assert format_for("out.html", None) == "html"
    assert format_for("out.JSON", None) == "json"
    assert format_for("out.md", "txt") == "txt"
    assert format_for(None, None) == "txt"
    assert DISCLAIMER.startswith("regimen supports")
