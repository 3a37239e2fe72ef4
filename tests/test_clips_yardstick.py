"""The CLIPS translation in ``benchmarks/engine_scaling.py`` fires what experta fires.

The benchmark compares experta's engine step with the same rules run by CLIPS; the
comparison means something only if CLIPS fires the same rules, as often, on the
same facts. Needs ``clipspy`` (installed by the ``dev`` extra).
"""

from __future__ import annotations

import collections
from pathlib import Path
from typing import Any

import pytest
from test_fastrete import BENCH, EXAMPLES, KB, RECS

from regimen.engine.base import FactRecord

clips = pytest.importorskip("clips")


@pytest.fixture(scope="module")
def clips_engine() -> Any:
    return BENCH.ClipsEngine(KB)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_clips_fires_what_experta_fires(path: Path, clips_engine: Any) -> None:
    facts = BENCH.facts_of(RECS["fast"], path)
    expected = BENCH.fired_counts(RECS["fast"].engine, facts)
    assert expected
    assert BENCH.mismatch(expected, clips_engine.fired_counts(facts)) is None


def test_slots_after_a_multislot_reach_clips(clips_engine: Any) -> None:
    """A tuple field (a CLIPS multislot) does not hide the fields asserted after it."""
    therapy = FactRecord.of("Therapy", agent="lenvatinib", classes=("vegfr-tki",),
                            response="PD", ongoing=False)
    clips_engine.run([therapy])
    asserted = [f for f in clips_engine.env.facts() if f.template.name == "Therapy"]
    assert len(asserted) == 1
    assert asserted[0]["response"] == "PD"
    assert asserted[0]["ongoing"] == clips.Symbol("FALSE")
    assert list(asserted[0]["classes"]) == ["vegfr-tki"]


def test_mismatch_names_the_rules() -> None:
    experta_fired = collections.Counter({"a.rule": 2, "b.rule": 1})
    assert BENCH.mismatch(experta_fired, collections.Counter(experta_fired)) is None
    problem = BENCH.mismatch(experta_fired, collections.Counter({"a.rule": 1, "c.rule": 1}))
    assert problem == ("experta fired 3, CLIPS 2; missing in CLIPS: [('a.rule', 1), "
                       "('b.rule', 1)]; extra in CLIPS: [('c.rule', 1)]")
