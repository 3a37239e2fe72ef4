"""ctDNA output and memory grow linearly with the input (draws x variants).

Each draw lists its own variants (the worst case: every variant is new), so a
series or an event that copied a point per draw for every variant would grow
with draws x draws x variants. Sizes, not timings, are asserted.
"""

from __future__ import annotations

import datetime as dt
import json
import tracemalloc
from typing import Any

from regimen.render import render

GENES = ["TP53", "APC", "SMAD4", "PIK3CA", "FBXW7"]


def sparse_series(draws: int, variants: int) -> dict[str, Any]:
    series = []
    for i in range(draws):
        listed = [{"gene": GENES[j % len(GENES)], "change": f"R{i * variants + j + 1}W",
                   "vaf": 0.001 * (1 + (i + j) % 9)} for j in range(variants)]
        series.append({"date": (dt.date(2015, 1, 1) + dt.timedelta(days=7 * i)).isoformat(),
                       "tumour_fraction": 0.01 * (1 + i % 4), "variants": listed})
    return {"id": "scale", "tumour": {"type": "COADREAD"}, "ctdna": series,
            "therapies": [{"agents": ["oxaliplatin"], "start": "2015-01-01"}]}


def measure(recommender: Any, draws: int, variants: int) -> tuple[int, int, int]:
    profile = sparse_series(draws, variants)
    tracemalloc.start()
    try:
        result = recommender.evaluate(profile)
        size = len(json.dumps(result.to_dict()))
        text = len(render(result, "txt"))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return size, text, peak


def test_ctdna_output_and_memory_linear_in_draws_times_variants(recommender) -> None:
    small = measure(recommender, 20, 10)     # 200 readings
    large = measure(recommender, 80, 20)     # 1,600 readings: 8 times the input
    json_ratio, text_ratio, peak_ratio = (b / a for a, b in zip(small, large, strict=True))
    # linear growth gives about 8; a point per draw for every variant gives about 32
    assert json_ratio < 12, (small, large)
    assert text_ratio < 12, (small, large)
    assert peak_ratio < 14, (small, large)
