"""A profile as it was known on a date (``--as-of`` and the timeline)."""

from __future__ import annotations

import datetime as dt

from ..profile import Profile, Therapy


def restrict_to(profile: Profile, as_of: dt.date) -> Profile:
    """The profile as it was known on ``as_of``.

    Therapies that had not started are removed; one still running then is made
    ongoing (its end and response are not yet known); ctDNA draws and dated
    organoid results after the date are removed. Tissue findings carry no
    date and are kept.
    """
    therapies: list[Therapy] = []
    for therapy in profile.therapies:
        if therapy.start is not None and therapy.start > as_of:
            continue
        outcome = therapy.outcome_date
        if (therapy.end is not None and therapy.end > as_of) or (outcome and outcome > as_of):
            therapy = therapy.model_copy(update={"end": None, "response": None,
                                                 "response_date": None})
        therapies.append(therapy)
    return profile.model_copy(update={
        "therapies": therapies,
        "ctdna": [d for d in profile.ctdna if d.date <= as_of],
        "drug_sensitivity": [s for s in profile.drug_sensitivity
                             if s.date is None or s.date <= as_of],
    })
