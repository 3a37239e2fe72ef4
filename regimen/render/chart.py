"""Geometry of the ctDNA chart drawn (as inline SVG) by the HTML report.

Pure arithmetic: dates -> x; values -> y on a linear scale from 0, or on a log
scale when the values span more than two decades (or when
$REGIMEN_CHART_SCALE is ``log``; ``linear`` forces the linear scale).
Values below the limit of detection are censored: they are drawn as open
markers at the draw's limit of detection, which is drawn as a dashed line.
The x axis has ticks at every draw, therapy change and progression.

Every text label gets a box (its width estimated from the character count and
the font size) and is moved to the next free row when it would overlap a label
already placed, so no two labels overlap. The template only draws what this
returns.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import dataclass
from typing import Any

from ..errors import InputError
from ..result import Result, Series, SeriesPoint

WIDTH = 720
LEFT, RIGHT, TOP = 70, 16, 14
PLOT_HEIGHT = 220
FONT = 10.0
# average advance width of a glyph in em, generous for DejaVu Sans / system sans
# (digits are 0.636 em in DejaVu Sans): estimates err on the wide side
CHAR_EM = 0.64
ROW = 13.0
PALETTE = ("#1b4f72", "#c0392b", "#1e8449", "#7d3c98", "#b9770e", "#17a589", "#6e2c00")
SCALES = ("auto", "linear", "log")
SCALE_VARIABLE = "REGIMEN_CHART_SCALE"
LOG_SPAN = 100.0   # auto: log scale when the largest value is > 100 x the smallest

Box = tuple[float, float, float, float]


def text_width(text: str, size: float = FONT) -> float:
    return round(len(text) * size * CHAR_EM + 2, 1)


def overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@dataclass
class _Placer:
    """Places text labels so that their boxes never overlap."""

    width: float
    labels: list[dict[str, Any]]

    def box(self, x: float, y: float, text: str, anchor: str) -> Box:
        w = text_width(text)
        x0 = x if anchor == "start" else x - w if anchor == "end" else x - w / 2
        return (round(x0, 1), round(y - FONT, 1), round(x0 + w, 1), round(y + FONT * 0.3, 1))

    def free(self, box: Box) -> bool:
        return not any(overlaps(box, other["box"]) for other in self.labels)

    def place(self, text: str, x: float, y: float, anchor: str, cls: str,
              step: float = ROW, **extra: Any) -> dict[str, Any]:
        for row in range(200):
            yy = round(y + row * step, 1)
            a = anchor
            box = self.box(x, yy, text, a)
            if box[2] > self.width - 1:
                a, box = "end", self.box(min(x, self.width - 1), yy, text, "end")
            if box[0] < 1:
                a, box = "start", self.box(max(x, 1), yy, text, "start")
            if self.free(box):
                break
        label = {"text": text, "x": round(x if a == anchor else (box[0] if a == "start"
                                                                  else box[2]), 1),
                 "y": yy, "anchor": a, "cls": cls, "box": box, **extra}
        self.labels.append(label)
        return label


def chart_scale(value: str | None = None) -> str:
    """``auto`` (default), ``linear`` or ``log``: $REGIMEN_CHART_SCALE unless given."""
    chosen = (value if value is not None else os.environ.get(SCALE_VARIABLE, "auto")).lower()
    if chosen not in SCALES:
        raise InputError(f"unknown chart scale {chosen!r}", field=SCALE_VARIABLE,
                         hint=f"use one of {', '.join(SCALES)}")
    return chosen


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
    lods = {p.date: p.lod for s in series for p in s.points if p.lod is not None}
    out = []
    for s in series:
        if s.name == "tumour fraction":
            out.append(s)
            continue
        have = {p.date for p in s.points}
        extra = [SeriesPoint(date=d, value=None, below_lod=True, lod=lods.get(d))
                 for d in dates if d not in have]
        out.append(Series(name=s.name, points=sorted([*s.points, *extra], key=lambda p: p.date)))
    return out


def ctdna_chart(result: Result, scale: str | None = None) -> dict[str, Any] | None:
    section = result.ctdna
    series = _filled([s for s in section.series if s.points], section.dates)
    if not series:
        return None
    mode = chart_scale(scale)
    dates: list[dt.date] = [p.date for s in series for p in s.points]
    therapies = [t for t in result.patient.therapies if t.start is not None]
    dates += [t.start for t in therapies if t.start] + [t.end for t in therapies if t.end]
    events = [e for e in section.events if e.event != "single-draw"]
    dates += [e.date for e in events]
    dates += [e.nadir_date for e in events if e.nadir_date is not None]
    first, last = min(dates), max(dates)
    span = max((last - first).days, 1)
    plot_w = WIDTH - LEFT - RIGHT
    bottom = TOP + PLOT_HEIGHT

    detected = [p.value for s in series for p in s.points
                if p.value is not None and not p.below_lod and p.value > 0]
    lods = {p.date: p.lod for s in series for p in s.points if p.lod is not None}
    censored_any = any(p.below_lod for s in series for p in s.points)
    shown_lods = sorted(set(lods.values())) if censored_any else []
    peak = max(detected, default=0.0)
    smallest = min([*detected, *(v for v in shown_lods if v > 0)], default=0.0)
    log = mode == "log" or (mode == "auto" and smallest > 0 and peak / smallest > LOG_SPAN)
    if log and smallest <= 0:
        log = False          # nothing positive to put on a log axis
    if log:
        lo_exp = math.floor(math.log10(smallest))
        hi_exp = max(math.ceil(math.log10(max(peak, smallest) * 1.0001)), lo_exp + 1)
        lo, top = 10.0 ** lo_exp, 10.0 ** hi_exp
    else:
        lo, top = 0.0, _nice_max(max(peak, *shown_lods, 0.0) * 1.1)

    def x(day: dt.date) -> float:
        return round(LEFT + plot_w * (day - first).days / span, 1)

    def y(value: float) -> float:
        if log:
            v = max(value, lo)
            frac = (math.log10(v) - math.log10(lo)) / (math.log10(top) - math.log10(lo))
        else:
            frac = value / top
        return round(TOP + PLOT_HEIGHT * (1 - frac), 1)

    placer = _Placer(WIDTH, [])

    lines = []
    for i, s in enumerate(series):
        points = []
        for p in s.points:
            if p.below_lod:
                at = p.lod if p.lod is not None else lo
            else:
                at = p.value if p.value is not None else (p.lod or lo)
            shown = f"<LOD ({p.lod:g})" if p.below_lod and p.lod is not None else (
                "<LOD" if p.below_lod else "detected" if p.value is None else f"{p.value:g}")
            points.append({"x": x(p.date), "y": y(at), "date": p.date.isoformat(),
                           "value": "" if p.value is None else f"{p.value:g}",
                           "shown": shown, "below_lod": p.below_lod})
        lines.append({"name": s.name, "colour": PALETTE[i % len(PALETTE)], "points": points,
                      "path": " ".join(f"{p['x']},{p['y']}" for p in points)})

    lod_path = ""
    if lods and censored_any:
        steps: list[str] = []
        ordered = sorted(lods.items())
        for k, (day, value) in enumerate(ordered):
            x0 = LEFT if k == 0 else x(day)
            x1 = WIDTH - RIGHT if k == len(ordered) - 1 else x(ordered[k + 1][0])
            steps.append(f"{x0},{y(value)} {x1},{y(value)}")
        lod_path = " ".join(steps)

    bands = []
    for t in therapies:
        assert t.start is not None
        end = t.end or last
        label = "+".join(t.agents)
        bands.append({"x": x(t.start), "width": max(round(x(end) - x(t.start), 1), 1.0),
                      "label": label, "response": t.response or "ongoing"})
        placer.place(label, x(t.start) + 3, TOP + 11, "start", "band-label")

    raw_marks = [(e.date, e.event + (f" {e.gene}" if e.gene else "")) for e in events]
    raw_marks += [(e.nadir_date, "nadir") for e in events if e.nadir_date is not None]
    progressions = sorted({t.end for t in therapies if t.end is not None and t.response == "PD"})
    raw_marks += [(day, "progression") for day in progressions]
    marks = []
    for day, label in sorted(set(raw_marks)):
        near_right = x(day) > WIDTH - RIGHT - text_width(label) - 4
        placed = placer.place(label, x(day) - 3 if near_right else x(day) + 3, TOP + 11,
                              "end" if near_right else "start", "mark-label")
        marks.append({"x": x(day), "label": label, "date": day.isoformat(),
                      "kind": "progression" if label == "progression" else "event",
                      "label_y": placed["y"]})

    if log:
        tick_values = [10.0 ** k for k in range(round(math.log10(lo)), round(math.log10(top)) + 1)]
    else:
        tick_values = [top * k / 4 for k in range(5)]
    ticks_y = [{"y": y(v), "label": f"{v:g}"} for v in tick_values]
    for v in tick_values:
        placer.place(f"{v:g}", LEFT - 6, y(v) + 3, "end", "tick", step=0)

    kinds: dict[dt.date, str] = {p.date: "draw" for s in series for p in s.points}
    for t in therapies:
        for change in (t.start, t.end):
            if change is not None and kinds.get(change) != "draw":
                kinds[change] = "therapy"
    for day in progressions:
        kinds[day] = "progression"
    ticks_x = []
    lowest = bottom
    for day in sorted(kinds):
        placed = placer.place(day.isoformat(), x(day), bottom + 14, "middle", "tick")
        lowest = max(lowest, placed["box"][3])
        ticks_x.append({"x": x(day), "kind": kinds[day], "label": day.isoformat()})

    axis_y = placer.place("date", LEFT + plot_w / 2, lowest + 14, "middle", "axis-label")
    y_title = "VAF / tumour fraction" + (" (log scale)" if log else "")
    mid = TOP + PLOT_HEIGHT / 2
    w = text_width(y_title)
    y_label = {"text": y_title, "x": 14.0, "y": round(mid, 1), "anchor": "middle",
               "cls": "axis-label", "rotate": True,
               "box": (14.0 - FONT, round(mid - w / 2, 1), 14.0 + FONT * 0.3,
                       round(mid + w / 2, 1))}
    placer.labels.append(y_label)

    legend_items: list[tuple[str, str, str]] = [
        ("series", str(line["colour"]), str(line["name"])) for line in lines]
    if lod_path:
        legend_items.append(("lod", "#7f8c8d", "limit of detection (LOD)"))
    if censored_any:
        legend_items.append(("censored", "#566573", "below LOD: drawn at the LOD"))
    if bands:
        legend_items.append(("therapy", "#d6eaf8", "therapy"))
    if progressions:
        legend_items.append(("progression", "#000000", "progression"))
    legend = []
    cursor_x, row_y = float(LEFT), axis_y["box"][3] + 16
    for kind, colour, text in legend_items:
        needed = 18 + text_width(text)
        if cursor_x + needed > WIDTH - RIGHT and cursor_x > LEFT:
            cursor_x, row_y = float(LEFT), row_y + ROW + 2
        placed = placer.place(text, cursor_x + 18, row_y, "start", "legend-text", step=ROW + 2)
        legend.append({"kind": kind, "colour": colour, "x": cursor_x,
                       "y": round(placed["y"] - 4, 1)})
        cursor_x = placed["box"][2] + 14
        row_y = placed["y"]
    height = round(max(label["box"][3] for label in placer.labels) + 8, 1)

    return {"width": WIDTH, "height": height, "left": LEFT, "right": WIDTH - RIGHT,
            "top": TOP, "bottom": bottom, "lines": lines, "bands": bands,
            "marks": marks, "ticks_y": ticks_y, "ticks_x": ticks_x, "y_max": top,
            "y_min": lo, "scale": "log" if log else "linear", "lod_path": lod_path,
            "labels": placer.labels, "legend": legend}
