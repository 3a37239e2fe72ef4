from __future__ import annotations

from pathlib import Path

import pytest

from regimen.errors import InputError

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


def test_chain_runs_from_facts_through_mechanism_to_option(recommender) -> None:
    profile = {"tumour": {"type": "STAD"}, "biomarkers": {"expression": {"ABCB1": "high"}}}
    result = recommender.evaluate(profile)
    rec = next(r for r in result.recommendations if r.addresses)
    [explanation] = recommender.explain(profile, rec.id)
    stages = [s.stage for s in explanation.steps]
    assert stages.index("mechanism") < stages.index("option")
    first = explanation.steps[0]
    assert "expression ABCB1 high" in first.because
    assert first.sources, "every step shows its citation"
    assert explanation.steps[-1].derived == f"option:{rec.id}"


def test_explain_all_covers_recommendations_avoid_and_cautions(recommender) -> None:
    path = EXAMPLES / "crc-anti-egfr-ctdna.yaml"
    result = recommender.evaluate(path)
    everything = recommender.explain(path)
    ids = {e.id for e in everything}
    assert {r.id for r in result.recommendations} <= ids
    assert {a.id for a in result.avoid} <= ids
    assert {c.id for c in result.cautions} <= ids


def test_dropped_option_says_why(recommender) -> None:
    path = EXAMPLES / "crc-anti-egfr-ctdna.yaml"
    result = recommender.evaluate(path)
    assert result.dropped, "the example drops the anti-EGFR options"
    [explanation] = recommender.explain(path, result.dropped[0].id)
    assert explanation.kind == "dropped"
    assert explanation.outcome.startswith("considered and dropped:")


def test_unknown_id_gives_a_short_hint_not_every_id(recommender) -> None:
    with pytest.raises(InputError, match="nothing called 'nope'") as caught:
        recommender.explain({"tumour": {"type": "HCC"}}, "nope")
    assert "known ids" not in str(caught.value)


def test_preferred_option_explains_its_order(recommender) -> None:
    example = Path(__file__).resolve().parent.parent / "examples" / "crc-msi-high.yaml"
    result = recommender.evaluate(example)
    first = result.recommendations[0]
    assert first.preferred == ["msi-h-crc-checkpoint-blockade-first"]
    [explanation] = recommender.explain(example, first.id)
    assert "first among the standard options by msi-h-crc-checkpoint-blockade-first" \
        in explanation.outcome
    stages = [s.stage for s in explanation.steps]
    assert stages[-1] == "preference" and "option" in stages
    assert explanation.steps[-1].rule == "soc-crc.msi-h-checkpoint-blockade-first"
    [pref] = recommender.explain(example, "msi-h-crc-checkpoint-blockade-first")
    assert pref.kind == "preference" and pref.outcome.endswith("rank first")
