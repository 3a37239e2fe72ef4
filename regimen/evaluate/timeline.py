"""Re-evaluate a patient as of each ctDNA draw and therapy change.

Each point uses only what was known on that date (see
:func:`regimen.evaluate.asof.restrict_to`) and is compared with the point before it:
mechanisms that appeared or resolved, options that entered or left the ranked
list, agents newly to avoid, and the alerts (cautions, ctDNA events) that fired.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from ..models import Model
from ..profile import Profile
from ..result import DISCLAIMER, Result, to_json


class TimelinePoint(Model):
    date: dt.date
    triggers: list[str]
    mechanisms: list[str]
    mechanisms_added: list[str]
    mechanisms_resolved: list[str]
    recommendations: list[str]
    recommendations_added: list[str]
    recommendations_removed: list[str]
    avoid_added: list[str]
    avoid_removed: list[str]
    alerts: list[str]
    top: list[str]


class Timeline(Model):
    schema_version: int = 1
    profile_id: str | None
    points: list[TimelinePoint]
    disclaimer: str = DISCLAIMER

    def to_json(self) -> str:
        return to_json(self)


def change_dates(profile: Profile) -> dict[dt.date, list[str]]:
    """Dates on which something new became known, with what it was."""
    dates: dict[dt.date, list[str]] = {}
    for draw in profile.ctdna:
        dates.setdefault(draw.date, []).append("ctDNA draw")
    for therapy in profile.therapies:
        agents = "+".join(therapy.agents)
        if therapy.start:
            dates.setdefault(therapy.start, []).append(f"start {agents}")
        outcome = therapy.outcome_date
        if outcome:
            text = f"end {agents}" + (f" ({therapy.response})" if therapy.response else "")
            dates.setdefault(outcome, []).append(text)
    for result in profile.drug_sensitivity:
        if result.date:
            dates.setdefault(result.date, []).append(f"organoid {result.agent} {result.result}")
    return {d: sorted(set(v)) for d, v in sorted(dates.items())}


def build_timeline(profile: Profile, evaluate: Callable[[Profile, dt.date], Result],
                   progress: Callable[[int, int], None] | None = None) -> Timeline:
    dates = change_dates(profile)
    points: list[TimelinePoint] = []
    prev: Result | None = None
    for index, (date, triggers) in enumerate(dates.items(), start=1):
        result = evaluate(profile, date)
        mech = [m.id for m in result.mechanisms]
        recs = [r.id for r in result.recommendations]
        avoid = sorted({a for item in result.avoid for a in item.agents})
        prev_mech = [m.id for m in prev.mechanisms] if prev else []
        prev_recs = [r.id for r in prev.recommendations] if prev else []
        prev_avoid = sorted({a for item in prev.avoid for a in item.agents}) if prev else []
        prev_cautions = {c.id for c in prev.cautions} if prev else set()
        alerts = [f"caution: {c.text}" for c in result.cautions if c.id not in prev_cautions]
        alerts += [f"ctDNA {e.event}: {e.detail}" for e in result.ctdna.events
                   if e.date == date and e.event != "single-draw"]
        points.append(TimelinePoint(
            date=date, triggers=triggers, mechanisms=mech,
            mechanisms_added=[m for m in mech if m not in prev_mech],
            mechanisms_resolved=[m for m in prev_mech if m not in mech],
            recommendations=recs,
            recommendations_added=[r for r in recs if r not in prev_recs],
            recommendations_removed=[r for r in prev_recs if r not in recs],
            avoid_added=[a for a in avoid if a not in prev_avoid],
            avoid_removed=[a for a in prev_avoid if a not in avoid],
            alerts=alerts,
            top=[f"{r.rank}. {r.label} ({r.score:g})" for r in result.recommendations[:3]],
        ))
        prev = result
        if progress is not None:
            progress(index, len(dates))
    return Timeline(profile_id=profile.id, points=points)
