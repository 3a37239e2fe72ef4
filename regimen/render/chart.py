"""Geometry of the ctDNA chart drawn (as inline SVG) by the HTML report.

Pure arithmetic: dates -> x, values -> y on a linear scale from 0. Values below
the limit of detection are drawn on the x axis as open markers. The template
only draws what this returns.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..result import Result, Series, SeriesPoint

WIDTH, HEIGHT = 720, 300
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 20, 48
PALETTE = ("#1b4f72", "#b03a2e", "#1e8449", "#7d3c98", "#b9770e", "#2e4053", "#117a65")


def _nice_max(value: float) -> float:
    if value <= 0:
        return 0.01
    for step in (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0):
        if value <= step:
            return step
    return value


FILL_SERIES = 12
"""Up to this many series, a variant gets an open marker on every draw that did not list
it; beyond, only its own points are drawn (the chart grows with the readings)."""


def _filled(series: list[Series], dates: list[dt.date]) -> list[Series]:
    if len(series) > FILL_SERIES:
        return series
    out = []
    for s in series:
        if s.name == "tumour fraction":
            out.append(s)
            continue
        have = {p.date for p in s.points}
        extra = [SeriesPoint(date=d, value=None, below_lod=True) for d in dates if d not in have]
        out.append(Series(name=s.name, points=sorted([*s.points, *extra], key=lambda p: p.date)))
    return out


def ctdna_chart(result: Result) -> dict[str, Any] | None:
    section = result.ctdna
    series = [s for s in section.series if s.points]
    if not series:
        return None
    dates: list[dt.date] = [p.date for s in series for p in s.points]
    therapies = [t for t in result.patient.therapies if t.start is not None]
    dates += [t.start for t in therapies if t.start] + [t.end for t in therapies if t.end]
    events = [e for e in section.events if e.event != "single-draw"]
    dates += [e.date for e in events]
    dates += [e.nadir_date for e in events if e.nadir_date is not None]
    first, last = min(dates), max(dates)
    span = max((last - first).days, 1)
    peak = max((p.value or 0.0) for s in series for p in s.points)
    top = _nice_max(peak * 1.1)
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = HEIGHT - TOP - BOTTOM

    def x(day: dt.date) -> float:
        return round(LEFT + plot_w * (day - first).days / span, 1)

    def y(value: float) -> float:
        return round(TOP + plot_h * (1 - value / top), 1)

    lines = []
    for i, s in enumerate(_filled(series, section.dates)):
        points = [{"x": x(p.date), "y": y(p.value if p.value is not None else 0.0),
                   "date": p.date.isoformat(),
                   "value": "" if p.value is None else f"{p.value:g}",
                   "below_lod": p.below_lod} for p in s.points]
        lines.append({"name": s.name, "colour": PALETTE[i % len(PALETTE)], "points": points,
                      "path": " ".join(f"{p['x']},{p['y']}" for p in points)})
    bands = []
    for t in therapies:
        assert t.start is not None
        end = t.end or last
        bands.append({"x": x(t.start), "width": max(round(x(end) - x(t.start), 1), 1.0),
                      "label": "+".join(t.agents), "response": t.response or "ongoing"})
    raw_marks = [(e.date, e.event + (f" {e.gene}" if e.gene else "")) for e in events]
    raw_marks += [(e.nadir_date, "nadir") for e in events if e.nadir_date is not None]
    raw_marks += [(t.end, "progression") for t in therapies
                  if t.end is not None and t.response == "PD"]
    marks = []
    for i, (day, label) in enumerate(sorted(set(raw_marks))):
        near_right = x(day) > WIDTH - RIGHT - 110
        marks.append({"x": x(day), "label": label, "date": day.isoformat(),
                      "text_x": round(x(day) - 3 if near_right else x(day) + 3, 1),
                      "anchor": "end" if near_right else "start",
                      "kind": "progression" if label == "progression" else "event",
                      "label_y": TOP + 24 + 11 * (i % 4)})
    ticks_y = [{"y": y(top * k / 4), "label": f"{top * k / 4:g}"} for k in range(5)]
    ticks_x = [{"x": x(d), "label": d.isoformat()} for d in sorted({p.date for s in series
                                                                     for p in s.points})]
    return {"width": WIDTH, "height": HEIGHT, "left": LEFT, "right": WIDTH - RIGHT,
            "top": TOP, "bottom": HEIGHT - BOTTOM, "lines": lines, "bands": bands,
            "marks": marks, "ticks_y": ticks_y, "ticks_x": ticks_x, "y_max": top}
