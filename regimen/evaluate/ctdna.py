"""A ctDNA series -> trend events the rules can match.

Each draw gives a tumour fraction and/or variant VAFs. Values below the limit
of detection (the draw's ``lod``, else the profile's ``settings.ctdna.default_lod``)
are censored: the true value is somewhere in ``[0, lod)``. Every comparison is
made conservatively on the interval, so a censored value can never create a
response or a rise that the data do not show.

Events (all with dates and values):

* ``molecular-response`` - the signal fell by more than ``response_drop``
  (default 50 %) from baseline (tumour fraction, else mean VAF of the baseline
  variants);
* ``clearance`` - every tracked variant (and the tumour fraction) below
  detection after having been detected;
* ``reappearance`` - detectable again after a clearance (molecular relapse);
* ``rise-from-nadir`` - the latest draw is at least ``rise_from_nadir``
  (default 50 %) above the nadir and above detection; ``confirmed`` when the
  draw before it met the same test;
* ``emergent-variant`` - absent (or below detection) at baseline, detected
  later; with first date, trajectory and the agents running at the time;
* ``single-draw`` - one draw only: no trend can be derived.

This module is the only owner of ctDNA readings: trend events, the variants
the rules see as ctDNA alterations (:func:`detected_variants`) and the series
the report draws (:func:`series`) all read draws through :class:`DrawReadings`
(each draw's variants read once into a dict; :func:`variant_reading` for a single
look-up) and :func:`tumour_fraction_reading`.

``lead_time_days`` is set on an event when a therapy running at the event date
later ended with progression (response PD): days from the ctDNA signal to the
progression date.
"""

from __future__ import annotations

import datetime as dt
import math
from typing import NamedTuple

from ..profile import CtdnaDraw, CtdnaSettings, Therapy
from ..result import CtdnaEvent, Series, SeriesPoint


class Reading(NamedTuple):
    """One measurement as an interval, and whether the analyte was detected.

    Exact (low == high), censored below detection (0, lod), or detected with no
    value given (lod, 1).
    """

    low: float
    high: float
    detected: bool

    @property
    def exact(self) -> bool:
        return self.low == self.high

    @property
    def shown(self) -> float | None:
        return self.high if self.exact else None


def lod_of(draw: CtdnaDraw, settings: CtdnaSettings) -> float:
    """The draw's limit of detection, else the profile's default."""
    return draw.lod if draw.lod is not None else settings.default_lod


def is_detected(value: float, lod: float) -> bool:
    """A measured value is detected when it reaches the limit of detection.

    With a limit of 0 a value is detected when it is above 0: exactly 0 is
    never a detection (otherwise clearance could never be seen).
    """
    return value > 0 if lod <= 0 else value >= lod


Key = tuple[str, str | None]


def variant_reading(draw: CtdnaDraw, key: Key, settings: CtdnaSettings) -> Reading:
    """A tracked variant (gene, change) in one draw.

    Not listed, ``detected: false``, or a VAF below the limit of detection (unless
    ``detected: true``) is below detection; listed without a VAF is detected with
    an unknown value. (One look-up; loops over draws and variants use
    :class:`DrawReadings`, which reads every listed variant of a draw once.)
    """
    return DrawReadings(draw, settings).get(key)


class DrawReadings:
    """Every listed variant of one draw, read once: (gene, change) -> :class:`Reading`."""

    def __init__(self, draw: CtdnaDraw, settings: CtdnaSettings) -> None:
        lod = lod_of(draw, settings)
        self.below = Reading(0.0, lod, detected=False)
        self.by_key: dict[tuple[str, str | None], Reading] = {}
        for variant in draw.variants:
            key = (variant.gene, variant.change)
            if key in self.by_key:
                continue  # the first listing of a variant in a draw is the one read
            if variant.detected is False:
                reading = self.below
            elif variant.vaf is None:
                reading = Reading(lod, 1.0, detected=True)
            elif not is_detected(variant.vaf, lod) and variant.detected is not True:
                reading = self.below
            else:
                reading = Reading(variant.vaf, variant.vaf, detected=True)
            self.by_key[key] = reading

    def get(self, key: tuple[str, str | None]) -> Reading:
        return self.by_key.get(key, self.below)


def tumour_fraction_reading(draw: CtdnaDraw, settings: CtdnaSettings) -> Reading | None:
    if draw.tumour_fraction is None:
        return None
    lod = lod_of(draw, settings)
    if not is_detected(draw.tumour_fraction, lod):
        return Reading(0.0, lod, detected=False)
    return Reading(draw.tumour_fraction, draw.tumour_fraction, detected=True)


def tracked_variants(draws: list[CtdnaDraw]) -> list[Key]:
    """Every (gene, change) listed in any draw, in order of first appearance."""
    keys: dict[Key, None] = {}
    for draw in draws:
        for v in draw.variants:
            keys.setdefault((v.gene, v.change), None)
    return list(keys)


def _listed_in(draws: list[CtdnaDraw]) -> dict[Key, list[int]]:
    """For each tracked variant, the indexes of the draws that list it."""
    out: dict[Key, list[int]] = {}
    for i, draw in enumerate(draws):
        for v in draw.variants:
            out.setdefault((v.gene, v.change), []).append(i)
    return out


def detected_variants(draws: list[CtdnaDraw],
                      settings: CtdnaSettings) -> list[tuple[str, str | None]]:
    """Tracked variants detected in at least one draw (the rules' ctDNA alterations)."""
    readings = [DrawReadings(d, settings) for d in draws]
    return [key for key, listed in _listed_in(draws).items()
            if any(readings[i].get(key).detected for i in listed)]


def series(draws: list[CtdnaDraw], settings: CtdnaSettings) -> list[Series]:
    """The tumour fraction (when measured) and every tracked variant.

    The tumour fraction has a point for each draw that measured it. A variant
    has a point for the baseline draw and for each draw that lists it: a draw
    that does not list a variant did not detect it (the report's table shows
    "<LOD" there), so the output grows with the input, not with draws x
    variants.
    """
    out: list[Series] = []
    fractions = [(d, tumour_fraction_reading(d, settings)) for d in draws]
    if any(reading is not None for _, reading in fractions):
        out.append(Series(name="tumour fraction", points=[
            SeriesPoint(date=d.date, value=d.tumour_fraction, below_lod=not reading.detected,
                        lod=lod_of(d, settings))
            for d, reading in fractions if reading is not None]))
    readings = [DrawReadings(d, settings) for d in draws]
    for (gene, change), listed in _listed_in(draws).items():
        points = []
        for i in ([0] if listed[0] != 0 else []) + listed:
            d, reading = draws[i], readings[i].get((gene, change))
            points.append(SeriesPoint(date=d.date, value=reading.shown,
                                      below_lod=not reading.detected,
                                      lod=lod_of(d, settings)))
        out.append(Series(name=f"{gene} {change}" if change else gene, points=points))
    return out


def _agents_on(therapies: list[Therapy], date: dt.date) -> list[str]:
    agents: list[str] = []
    for therapy in therapies:
        if therapy.start is None or therapy.start > date:
            continue
        if therapy.end is not None and therapy.end < date:
            continue
        agents.extend(a for a in therapy.agents if a not in agents)
    return sorted(agents)


def _progression_after(therapies: list[Therapy], date: dt.date) -> dt.date | None:
    """Earliest progression date (response PD) of a therapy running on ``date``."""
    found: list[dt.date] = []
    for therapy in therapies:
        if therapy.start is None or therapy.start > date or not therapy.progressed:
            continue
        outcome = therapy.outcome_date
        if outcome is None or outcome < date:
            continue
        found.append(outcome)
    return min(found) if found else None


def derive_events(draws: list[CtdnaDraw], therapies: list[Therapy],
                  settings: CtdnaSettings) -> list[CtdnaEvent]:
    """All trend events of a series (draws must be sorted by date)."""
    if not draws:
        return []
    if len(draws) == 1:
        return [CtdnaEvent(event="single-draw", date=draws[0].date,
                           detail="one ctDNA draw: no trend can be derived; "
                                  "repeat ctDNA to follow the trend")]
    events: list[CtdnaEvent] = []
    baseline = draws[0]
    baseline_lod = lod_of(baseline, settings)
    keys = tracked_variants(draws)
    readings = [DrawReadings(d, settings) for d in draws]
    baseline_readings = {k: readings[0].get(k) for k in keys}
    baseline_keys = [k for k in keys if baseline_readings[k].detected]
    in_baseline = set(baseline_keys)

    # the mean-VAF signal uses only baseline variants with a measured VAF
    series, measure = _signal(draws, readings,
                              [k for k in baseline_keys if baseline_readings[k].exact], settings)
    if series is not None:
        events.extend(_response_events(draws, series, measure, settings))
        events.extend(_rise_events(draws, series, measure, settings))
    events.extend(_clearance_events(draws, readings, keys, settings))

    for key, listed in _listed_in(draws).items():
        if key in in_baseline:
            continue
        trajectory = [(draws[i].date, readings[i].get(key)) for i in listed]
        first = next(((date, value) for date, value in trajectory if value.detected), None)
        if first is None:
            continue
        gene, change = key
        name = f"{gene} {change}" if change else gene
        events.append(CtdnaEvent(
            event="emergent-variant",
            date=first[0],
            first_date=first[0],
            gene=gene,
            change=change,
            value=first[1].shown,
            measure="vaf",
            during_agents=_agents_on(therapies, first[0]),
            series=name,
            detail=f"{name} absent at baseline ({baseline.date}, below {baseline_lod:g}) "
                   f"and detected on {first[0]} " + (f"at VAF {first[1].high:g}" if first[1].exact
                                                     else "(VAF not given)"),
        ))

    out: list[CtdnaEvent] = []
    for event in events:
        if event.event in ("rise-from-nadir", "emergent-variant", "reappearance"):
            signal_date = event.first_date or event.date
            progression = _progression_after(therapies, signal_date)
            if progression is not None and progression >= signal_date:
                event = event.model_copy(update={
                    "lead_time_days": (progression - signal_date).days,
                    "progression_date": progression,
                })
        out.append(event)
    return sorted(out, key=lambda e: (e.date, e.event, e.gene or "", e.change or ""))


def _signal(draws: list[CtdnaDraw], readings: list[DrawReadings],
            baseline_keys: list[tuple[str, str | None]],
            settings: CtdnaSettings) -> tuple[list[Reading] | None, str]:
    tfs = [tumour_fraction_reading(d, settings) for d in draws]
    if all(tf is not None for tf in tfs):
        return [tf for tf in tfs if tf is not None], "tumour fraction"
    if baseline_keys:
        series = []
        for by_key in readings:
            values = [by_key.get(k) for k in baseline_keys]
            series.append(Reading(sum(v.low for v in values) / len(values),
                                  sum(v.high for v in values) / len(values),
                                  detected=any(v.detected for v in values)))
        return series, "mean VAF of baseline variants"
    return None, ""


def _response_events(draws: list[CtdnaDraw], series: list[Reading], measure: str,
                     settings: CtdnaSettings) -> list[CtdnaEvent]:
    base = series[0]
    if base.low <= 0:
        return []
    limit = (1 - settings.response_drop) * base.low
    for draw, value in zip(draws[1:], series[1:], strict=True):
        if value.high < limit:
            fall = 1 - value.high / base.low
            shown = f"< {value.high:g}" if not value.exact else f"{value.high:g}"
            return [CtdnaEvent(
                event="molecular-response", date=draw.date, measure=measure,
                value=value.shown, baseline=base.low,
                detail=f"{measure} fell from {base.low:g} ({draws[0].date}) to {shown} on "
                       f"{draw.date}: a fall of at least {floor_percent(fall)} "
                       f"(threshold {settings.response_drop:.0%})",
            )]
    return []


def floor_percent(fraction: float) -> str:
    """A fraction as a percentage for an "at least" statement: floored, never rounded up,
    to one decimal (shown only when needed). ``0.875`` -> ``"87.5%"``, ``0.8999`` -> ``"89.9%"``.
    """
    tenths = math.floor(fraction * 1000 + 1e-9)
    return f"{tenths // 10}%" if tenths % 10 == 0 else f"{tenths / 10:.1f}%"


def _rises(series: list[Reading], draws: list[CtdnaDraw], settings: CtdnaSettings,
           upto: int) -> tuple[bool, Reading, int]:
    """Does draw ``upto`` rise from the nadir of the draws before it?"""
    nadir_index = min(range(upto), key=lambda i: (series[i].high, i))
    nadir = series[nadir_index]
    value = series[upto]
    lod = lod_of(draws[upto], settings)
    floor = max(nadir.high, lod if not nadir.exact else 0.0)
    rises = value.exact and value.low >= lod and \
        value.low >= (1 + settings.rise_from_nadir) * floor and floor > 0
    return rises, nadir, nadir_index


def _rise_events(draws: list[CtdnaDraw], series: list[Reading], measure: str,
                 settings: CtdnaSettings) -> list[CtdnaEvent]:
    last = len(draws) - 1
    rises, nadir, nadir_index = _rises(series, draws, settings, last)
    if not rises:
        return []
    first = last
    while first - 1 > nadir_index and _rises(series, draws, settings, first - 1)[0]:
        first -= 1
    confirmed = first < last
    value = series[last]
    nadir_text = f"< {nadir.high:g}" if not nadir.exact else f"{nadir.high:g}"
    return [CtdnaEvent(
        event="rise-from-nadir", date=draws[last].date, first_date=draws[first].date,
        measure=measure, value=value.low, nadir=nadir.high, nadir_date=draws[nadir_index].date,
        confirmed=confirmed,
        detail=f"{measure} rose to {value.low:g} on {draws[last].date} from a nadir of "
               f"{nadir_text} ({draws[nadir_index].date}); threshold "
               f"+{settings.rise_from_nadir:.0%}; "
               + ("confirmed by the draw before" if confirmed
                  else "not yet confirmed by a second draw"),
    )]


def _clearance_events(draws: list[CtdnaDraw], readings: list[DrawReadings],
                      keys: list[tuple[str, str | None]],
                      settings: CtdnaSettings) -> list[CtdnaEvent]:
    events: list[CtdnaEvent] = []
    detected_before = False
    cleared_on: dt.date | None = None
    for draw, by_key in zip(draws, readings, strict=True):
        # a tracked variant the draw does not list is below detection in it
        values = [by_key.get((v.gene, v.change)) for v in draw.variants]
        tf = tumour_fraction_reading(draw, settings)
        if tf is not None:
            values.append(tf)
        if not values and not keys:
            continue
        anything = any(v.detected for v in values)
        if anything:
            if cleared_on is not None:
                events.append(CtdnaEvent(
                    event="reappearance", date=draw.date, first_date=draw.date,
                    detail=f"ctDNA detectable again on {draw.date} after clearance on "
                           f"{cleared_on} (molecular relapse)",
                ))
                cleared_on = None
            detected_before = True
        elif detected_before and cleared_on is None:
            cleared_on = draw.date
            events.append(CtdnaEvent(
                event="clearance", date=draw.date,
                detail=f"every tracked variant{' and the tumour fraction' if tf else ''} "
                       f"below detection on {draw.date}",
            ))
    return events
