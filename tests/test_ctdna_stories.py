"""The two anti-EGFR ctDNA stories: the right avoid, alert and lead time."""

from __future__ import annotations

from pathlib import Path

from regimen.render import render

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def story(agent: str, gene: str, change: str) -> dict:
    return {
        "id": f"{agent}-{gene}",
        "tumour": {"type": "COADREAD"},
        "alterations": [{"gene": "KRAS", "type": "wild-type"},
                        {"gene": "NRAS", "type": "wild-type"}],
        "therapies": [{"agents": [agent, "irinotecan"], "start": "2025-01-15",
                       "end": "2025-09-30", "response": "PD"}],
        "ctdna": [
            {"date": "2025-01-10", "tumour_fraction": 0.08},
            {"date": "2025-03-20", "tumour_fraction": 0.01},
            {"date": "2025-06-05", "tumour_fraction": 0.03,
             "variants": [{"gene": gene, "change": change, "vaf": 0.006}]},
        ],
    }


def test_emergent_s492r_on_cetuximab(recommender) -> None:
    result = recommender.evaluate(story("cetuximab", "EGFR", "S492R"))
    avoided = {a for item in result.avoid for a in item.agents}
    assert "cetuximab" in avoided
    assert "ctdna-egfr-ectodomain-emergence" in {c.id for c in result.cautions}
    emergent = next(e for e in result.ctdna.events if e.event == "emergent-variant")
    assert (emergent.gene, emergent.change) == ("EGFR", "S492R")
    assert emergent.during_agents == ["cetuximab", "irinotecan"]
    assert emergent.lead_time_days == 117          # 2025-06-05 -> 2025-09-30
    assert "egfr-ectodomain" in {m.id for m in result.mechanisms}
    assert not any("cetuximab" in r.agents for r in result.recommendations)
    text = render(result, "txt")
    assert ("lead time 117 days, from the ctDNA signal on 2025-06-05 to the progression on "
            "2025-09-30") in text


def test_lead_time_names_the_signal_it_is_counted_from(recommender) -> None:
    # the confirmed rise is dated 2025-08-01 but its lead time counts from the first rising
    # draw (2025-06-05): every format says from what and to what
    result = recommender.evaluate(EXAMPLES / "crc-anti-egfr-ctdna.yaml")
    rise = next(e for e in result.ctdna.events if e.event == "rise-from-nadir")
    assert (rise.date.isoformat(), rise.first_date.isoformat()) == ("2025-08-01", "2025-06-05")
    assert rise.lead_time_days == 117
    wording = ("lead time 117 days, from the ctDNA signal on 2025-06-05 to the progression on "
               "2025-09-30")
    for fmt in ("txt", "md", "html"):
        text = render(result, fmt)
        assert isinstance(text, str)
        line = next(x for x in text.splitlines() if "rise-from-nadir" in x and "lead time" in x)
        assert wording in line, fmt


def test_emergent_kras_on_panitumumab(recommender) -> None:
    result = recommender.evaluate(story("panitumumab", "KRAS", "G12D"))
    avoid_rules = {item.id for item in result.avoid}
    assert "ctdna.avoid-continuing-anti-egfr" in avoid_rules
    assert "ctdna-ras-emergence" in {c.id for c in result.cautions}
    assert "egfr-bypass" in {m.id for m in result.mechanisms}
    emergent = next(e for e in result.ctdna.events if e.event == "emergent-variant")
    assert emergent.lead_time_days == 117
    for rec in result.recommendations:
        assert not {"panitumumab", "cetuximab", "anti-egfr-antibody"} & set(rec.agents)
    assert "rise-from-nadir" in {e.event for e in result.ctdna.events}
    assert "ctdna-rising" in {c.id for c in result.cautions}


def test_timeline_of_shipped_example_changes_over_time(recommender) -> None:
    timeline = recommender.timeline(EXAMPLES / "crc-anti-egfr-ctdna.yaml")
    dates = [p.date.isoformat() for p in timeline.points]
    assert dates == sorted(dates)
    assert "2025-06-05" in dates and "2025-08-01" in dates
    by_date = {p.date.isoformat(): p for p in timeline.points}
    # before the ectodomain mutation appears, nothing says to avoid cetuximab
    assert all("cetuximab" not in a for p in timeline.points[:2] for a in p.avoid_added)
    assert "cetuximab" in by_date["2025-06-05"].avoid_added
    assert any("emergent-variant" in a for a in by_date["2025-06-05"].alerts)
    assert "anti-egfr-antibody" in by_date["2025-08-01"].avoid_added
    changed = [p for p in timeline.points
               if p.recommendations_added or p.recommendations_removed]
    assert len(changed) >= 2, "recommendations should change over time"


def test_as_of_before_emergence_has_no_avoid(recommender) -> None:
    import datetime as dt

    result = recommender.evaluate(EXAMPLES / "crc-anti-egfr-ctdna.yaml",
                                  as_of=dt.date(2025, 4, 1))
    assert not result.avoid
    assert all(e.date <= dt.date(2025, 4, 1) for e in result.ctdna.events)
