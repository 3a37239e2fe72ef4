"""The ctDNA chart: labels never overlap, LOD line and key, axes, log scale, ticks."""

from __future__ import annotations

import datetime as dt
import itertools
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from regimen.errors import InputError
from regimen.io.resources import templates_dir
from regimen.render import render
from regimen.render.chart import ctdna_chart, overlaps, text_width

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
NS = {"s": "http://www.w3.org/2000/svg"}


def _crowded() -> dict:
    """Twenty draws in ten weeks, three lines of therapy with long agent lists, three variants."""
    start = dt.date(2025, 1, 6)
    draws = []
    for k in range(20):
        day = start + dt.timedelta(days=3 * k + (k % 3))
        tf = round(0.2 * (0.6 ** (k % 7)) + 0.0004, 4)
        draws.append({"date": day.isoformat(), "tumour_fraction": tf, "lod": 0.001,
                      "variants": [
                          {"gene": "KRAS", "change": "G12D", "vaf": 0.0005 if k < 8 else 0.02},
                          {"gene": "NRAS", "change": "Q61K", "vaf": 0.0002 if k % 2 else 0.004},
                          {"gene": "EGFR", "change": "S492R",
                           "vaf": 0.0 if k < 12 else 0.01 * (k - 11)}]})
    therapies = [
        {"agents": ["cetuximab", "fluorouracil", "irinotecan", "leucovorin"],
         "start": "2025-01-06", "end": "2025-01-30", "response": "PD"},
        {"agents": ["bevacizumab", "fluorouracil", "leucovorin", "oxaliplatin"],
         "start": "2025-02-01", "end": "2025-02-20", "response": "PD"},
        {"agents": ["panitumumab", "irinotecan"], "start": "2025-02-21", "end": "2025-03-10",
         "response": "PD"},
    ]
    return {"id": "crowded", "tumour": {"type": "COADREAD"}, "therapies": therapies,
            "ctdna": draws}


def _charts(recommender) -> list[tuple[str, dict]]:
    charts = []
    for path in EXAMPLES:
        chart = ctdna_chart(recommender.evaluate(path))
        if chart is not None:
            charts.append((path.stem, chart))
    charts.append(("crowded", ctdna_chart(recommender.evaluate(_crowded()))))
    return charts


def test_there_are_examples_with_ctdna(recommender) -> None:
    names = [name for name, _ in _charts(recommender)]
    assert "crc-anti-egfr-ctdna" in names and "crc-kras-g12c" in names and "crowded" in names


def test_no_two_labels_overlap(recommender) -> None:
    for name, chart in _charts(recommender):
        labels = chart["labels"]
        assert len(labels) >= 8, name
        for a, b in itertools.combinations(labels, 2):
            assert not overlaps(a["box"], b["box"]), (name, a["text"], b["text"])
        for label in labels:
            x0, y0, x1, y1 = label["box"]
            assert 0 <= x0 < x1 <= chart["width"], (name, label["text"])
            assert 0 <= y0 < y1 <= chart["height"], (name, label["text"])
            # the box is at least as wide as the text it stands for
            if not label.get("rotate"):
                assert x1 - x0 >= text_width(label["text"]) - 0.2, (name, label["text"])


def test_overlap_detection() -> None:
    assert overlaps((0, 0, 10, 10), (5, 5, 15, 15))
    assert not overlaps((0, 0, 10, 10), (10, 0, 20, 10))      # touching is not overlapping
    assert not overlaps((0, 0, 10, 10), (0, 11, 10, 20))


def test_crowded_chart_keeps_every_label(recommender) -> None:
    result = recommender.evaluate(_crowded())
    chart = ctdna_chart(result)
    texts = [label["text"] for label in chart["labels"]]
    marks = [label["text"] for label in chart["labels"] if label["cls"] == "mark-label"]
    assert marks.count("progression") == 3
    assert "cetuximab+fluorouracil+irinotecan+leucovorin" in texts
    draw_dates = {p.date.isoformat() for s in result.ctdna.series for p in s.points}
    assert draw_dates <= set(texts)                     # every draw date is labelled


def test_axes_are_labelled_and_ticks_mark_therapy_changes_and_progression(recommender) -> None:
    chart = ctdna_chart(recommender.evaluate(ROOT / "examples" / "crc-anti-egfr-ctdna.yaml"))
    texts = {label["text"] for label in chart["labels"]}
    assert "date" in texts
    assert any(t.startswith("VAF / tumour fraction") for t in texts)
    kinds = {t["label"]: t["kind"] for t in chart["ticks_x"]}
    assert kinds["2025-09-30"] == "progression"          # end of cetuximab line, response PD
    assert kinds["2025-01-15"] == "therapy"              # start of that line, not a draw date
    assert {"draw"} <= set(kinds.values())


def test_censored_points_sit_on_the_lod_line_with_a_key(recommender) -> None:
    chart = ctdna_chart(recommender.evaluate(ROOT / "examples" / "crc-anti-egfr-ctdna.yaml"))
    kinds = [item["kind"] for item in chart["legend"]]
    assert "lod" in kinds and "censored" in kinds
    assert chart["lod_path"]
    lod_ys = {float(pair.split(",")[1]) for pair in chart["lod_path"].split()}
    censored = [p for line in chart["lines"] for p in line["points"] if p["below_lod"]]
    assert censored
    assert all(p["y"] in lod_ys for p in censored)
    assert all(p["y"] < chart["bottom"] or chart["scale"] == "linear" for p in censored)


def test_log_scale_when_values_span_more_than_two_decades(recommender, monkeypatch) -> None:
    profile = {"id": "span", "tumour": {"type": "COADREAD"},
               "ctdna": [{"date": "2025-01-10", "tumour_fraction": 0.3},
                         {"date": "2025-03-10", "tumour_fraction": 0.002},
                         {"date": "2025-05-10", "tumour_fraction": 0.05}]}
    result = recommender.evaluate(profile)
    chart = ctdna_chart(result)
    assert chart["scale"] == "log"
    assert [t["label"] for t in chart["ticks_y"]] == ["0.001", "0.01", "0.1", "1"]
    ys = [p["y"] for p in chart["lines"][0]["points"]]
    assert ys[1] > ys[2] > ys[0]
    # equal ratios, equal distances on a log axis
    decade = chart["ticks_y"][0]["y"] - chart["ticks_y"][1]["y"]
    assert decade > 0
    assert ctdna_chart(result, "linear")["scale"] == "linear"
    monkeypatch.setenv("REGIMEN_CHART_SCALE", "linear")
    assert ctdna_chart(result)["scale"] == "linear"
    monkeypatch.setenv("REGIMEN_CHART_SCALE", "cubic")
    with pytest.raises(InputError, match="REGIMEN_CHART_SCALE"):
        ctdna_chart(result)


def test_linear_scale_for_a_narrow_range(recommender) -> None:
    chart = ctdna_chart(recommender.evaluate(ROOT / "examples" / "crc-kras-g12c.yaml"))
    assert chart["scale"] == "linear"
    assert chart["ticks_y"][0]["label"] == "0"


def test_series_colours_are_distinct_and_not_overridden_by_the_stylesheet(recommender) -> None:
    page = render(recommender.evaluate(ROOT / "examples" / "crc-anti-egfr-ctdna.yaml"), "html")
    svg = ET.fromstring(re.search(r"<svg.*?</svg>", page, re.S).group(0))
    swatches = [r.get("fill") for r in svg.findall("s:rect[@class='legend-swatch']", NS)]
    lines = [g.find("s:polyline", NS).get("stroke") for g in svg.findall("s:g", NS)]
    assert len(lines) == 4 and len(set(lines)) == 4
    assert swatches[:4] == lines
    style = (templates_dir() / "_style.html.j2").read_text(encoding="utf-8")
    # no rule of the stylesheet sets a fill: the SVG's own colours stand
    assert "fill" not in style
