"""ctDNA trend events at and around their thresholds."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from regimen.evaluate.ctdna import derive_events
from regimen.profile import load_profile


def events(kb, draws: list[dict[str, Any]], therapies: list[dict[str, Any]] | None = None,
           settings: dict[str, Any] | None = None):
    data: dict[str, Any] = {"tumour": {"type": "COADREAD"}, "ctdna": draws,
                            "therapies": therapies or []}
    if settings:
        data["settings"] = {"ctdna": settings}
    profile = load_profile(data, kb.vocabulary)
    return derive_events(profile.ctdna, profile.therapies, profile.settings.ctdna)


def kinds(found) -> list[str]:
    return [e.event for e in found]


def tf_series(*values: float) -> list[dict[str, Any]]:
    start = dt.date(2025, 1, 1)
    return [{"date": (start + dt.timedelta(days=30 * i)).isoformat(), "tumour_fraction": v}
            for i, v in enumerate(values)]


def test_no_draws_no_events(kb) -> None:
    assert events(kb, []) == []


def test_single_draw_yields_no_trend(kb) -> None:
    found = events(kb, tf_series(0.1))
    assert kinds(found) == ["single-draw"]
    assert "no trend" in found[0].detail


@pytest.mark.parametrize(("later", "responds"), [(0.049, True), (0.05, False), (0.051, False)])
def test_molecular_response_threshold(kb, later: float, responds: bool) -> None:
    found = events(kb, tf_series(0.1, later))
    assert ("molecular-response" in kinds(found)) is responds


def test_response_threshold_is_a_setting(kb) -> None:
    found = events(kb, tf_series(0.1, 0.06), settings={"response_drop": 0.3})
    assert "molecular-response" in kinds(found)


def test_censored_value_counts_as_below_lod_not_zero(kb) -> None:
    # baseline 0.002, later below a LOD of 0.0015: the fall can only be said to exceed 25 %
    draws = [{"date": "2025-01-01", "tumour_fraction": 0.002, "lod": 0.0015},
             {"date": "2025-02-01", "tumour_fraction": 0.0001, "lod": 0.0015}]
    assert "molecular-response" not in kinds(events(kb, draws))
    draws[1]["lod"] = 0.0005
    assert "molecular-response" in kinds(events(kb, draws))


@pytest.mark.parametrize(("last", "rises"), [(0.0149, False), (0.015, True), (0.02, True)])
def test_rise_from_nadir_threshold(kb, last: float, rises: bool) -> None:
    found = events(kb, tf_series(0.1, 0.01, last))
    assert ("rise-from-nadir" in kinds(found)) is rises


def test_rise_must_be_above_lod(kb) -> None:
    # nadir below LOD (censored at 0.001): 0.0012 is not 50 % above the LOD
    draws = tf_series(0.1, 0.0005, 0.0012)
    assert "rise-from-nadir" not in kinds(events(kb, draws))
    draws = tf_series(0.1, 0.0005, 0.002)
    assert "rise-from-nadir" in kinds(events(kb, draws))


def test_rise_confirmed_by_a_second_draw(kb) -> None:
    single = [e for e in events(kb, tf_series(0.1, 0.01, 0.03)) if e.event == "rise-from-nadir"]
    assert single[0].confirmed is False
    double = [e for e in events(kb, tf_series(0.1, 0.01, 0.03, 0.05))
              if e.event == "rise-from-nadir"]
    assert double[0].confirmed is True
    assert double[0].first_date == dt.date(2025, 3, 2)
    assert double[0].nadir == 0.01


def test_rise_only_on_latest_draw(kb) -> None:
    assert "rise-from-nadir" not in kinds(events(kb, tf_series(0.1, 0.01, 0.05, 0.005)))


def test_unsorted_series_is_sorted_first(kb) -> None:
    draws = tf_series(0.1, 0.01, 0.05)
    found = events(kb, list(reversed(draws)))
    assert "rise-from-nadir" in kinds(found)


def variant_draws(*vafs: float | None, gene: str = "KRAS", change: str = "G12D"):
    start = dt.date(2025, 1, 1)
    draws = []
    for i, vaf in enumerate(vafs):
        draw: dict[str, Any] = {"date": (start + dt.timedelta(days=30 * i)).isoformat(),
                                "variants": []}
        if vaf is not None:
            draw["variants"].append({"gene": gene, "change": change, "vaf": vaf})
        draws.append(draw)
    return draws


def test_emergent_variant(kb) -> None:
    found = [e for e in events(kb, variant_draws(None, 0.0005, 0.02, 0.04))
             if e.event == "emergent-variant"]
    assert len(found) == 1
    event = found[0]
    assert (event.gene, event.change, event.first_date) == ("KRAS", "G12D", dt.date(2025, 3, 2))
    assert event.series == "KRAS G12D"
    assert event.value == 0.02


def test_variant_present_at_baseline_is_not_emergent(kb) -> None:
    assert "emergent-variant" not in kinds(events(kb, variant_draws(0.01, 0.02)))


def test_clearance_and_reappearance(kb) -> None:
    found = events(kb, variant_draws(0.05, None, 0.0002, 0.01))
    assert kinds(found) == ["clearance", "molecular-response", "reappearance", "rise-from-nadir"]
    by_kind = {e.event: e for e in found}
    assert by_kind["clearance"].date == dt.date(2025, 1, 31)
    assert by_kind["reappearance"].date == dt.date(2025, 4, 1)


def test_emergent_variant_carries_running_therapy_and_lead_time(kb) -> None:
    therapies = [{"agents": ["cetuximab"], "start": "2025-01-01", "end": "2025-06-30",
                  "response": "PD"}]
    found = [e for e in events(kb, variant_draws(None, None, 0.02), therapies)
             if e.event == "emergent-variant"]
    assert found[0].during_agents == ["cetuximab"]
    assert found[0].lead_time_days == (dt.date(2025, 6, 30) - dt.date(2025, 3, 2)).days
    assert found[0].progression_date == dt.date(2025, 6, 30)


def test_response_date_is_used_for_lead_time(kb) -> None:
    therapies = [{"agents": ["cetuximab"], "start": "2025-01-01", "end": "2025-07-30",
                  "response": "PD", "response_date": "2025-07-01"}]
    found = [e for e in events(kb, variant_draws(None, None, 0.02), therapies)
             if e.event == "emergent-variant"]
    assert found[0].lead_time_days == (dt.date(2025, 7, 1) - dt.date(2025, 3, 2)).days


def test_no_lead_time_without_progression(kb) -> None:
    therapies = [{"agents": ["cetuximab"], "start": "2025-01-01", "end": "2025-06-30",
                  "response": "SD"}]
    found = [e for e in events(kb, variant_draws(None, 0.02), therapies)
             if e.event == "emergent-variant"]
    assert found[0].lead_time_days is None


def test_mean_vaf_used_without_tumour_fraction(kb) -> None:
    found = events(kb, variant_draws(0.1, 0.02))
    response = next(e for e in found if e.event == "molecular-response")
    assert response.measure == "mean VAF of baseline variants"


def test_variant_listed_without_vaf_counts_as_detected_everywhere(kb, recommender) -> None:
    # regression: the trend events treated a listed variant with no VAF as undetected while
    # the rules' facts treated it as detected; one definition now serves both and the report
    draws = [{"date": "2025-01-01", "tumour_fraction": 0.05},
             {"date": "2025-03-01", "tumour_fraction": 0.05,
              "variants": [{"gene": "KRAS", "change": "G12D"}]}]
    found = [e for e in events(kb, draws) if e.event == "emergent-variant"]
    assert len(found) == 1
    assert found[0].value is None
    assert found[0].detail.endswith("(VAF not given)")
    result = recommender.evaluate({"tumour": {"type": "COADREAD"}, "ctdna": draws})
    kras = next(s for s in result.ctdna.series if s.name == "KRAS G12D")
    assert [(p.value, p.below_lod) for p in kras.points] == [(None, True), (None, False)]
    assert any(t.rule for t in result.trace if "alteration KRAS G12D [ctDNA]" in t.matched)
    from regimen.render import render

    assert "detected" in render(result, "txt")


@pytest.mark.parametrize(("fraction", "shown"), [
    (0.875, "87.5%"), (0.9, "90%"), (0.93, "93%"), (0.8999, "89.9%"), (0.5, "50%"),
    (0.99999, "99.9%"),
])
def test_floor_percent_never_rounds_up(fraction: float, shown: str) -> None:
    from regimen.evaluate.ctdna import floor_percent

    assert floor_percent(fraction) == shown
    assert float(shown.rstrip("%")) / 100 <= fraction


def test_response_fall_is_not_rounded_up(kb) -> None:
    # 0.08 -> 0.01 is a fall of exactly 87.5 %: "at least 88%" would overstate it
    found = events(kb, tf_series(0.08, 0.01))
    response = next(e for e in found if e.event == "molecular-response")
    assert "a fall of at least 87.5%" in response.detail
    assert "88%" not in response.detail
