"""Measure the loading of the reference data (HGNC, OncoTree, NCIt) and look-up times.

Run from the repository root:

    python benchmarks/bench_reference.py            # best of 7 loads each
    python benchmarks/bench_reference.py --runs 3

Each index is built on first use; the alias and synonym tiers only when an approved symbol or
preferred name misses, and the suggestion indexes only when a string is not found at all.
"""

from __future__ import annotations

import argparse
import platform
import time
from collections.abc import Callable

from regimen.knowledge import reference


def _clear() -> None:
    for loader in (reference._genes, reference._gene_aliases, reference._oncotree,
                   reference._agents, reference._agent_synonyms):
        loader.cache_clear()


def _best(runs: int, prepare: Callable[[], object],
          measure: Callable[[], object]) -> tuple[float, float]:
    """Best wall-clock and best CPU time (ms); CPU time is the steadier of the two on a
    shared machine."""
    wall = cpu = float("inf")
    for _ in range(runs):
        _clear()
        prepare()
        start, start_cpu = time.perf_counter(), time.process_time()
        measure()
        cpu = min(cpu, time.process_time() - start_cpu)
        wall = min(wall, time.perf_counter() - start)
    return wall * 1000, cpu * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="loads per measurement")
    args = parser.parse_args()
    runs = args.runs
    print(f"Python {platform.python_version()} on {platform.machine()}; best of {runs}")

    def nothing() -> None:
        return None

    rows = [
        ("hgnc.tsv: approved symbols", nothing, reference._genes),
        ("hgnc.tsv: alias/previous tier", reference._genes, reference._gene_aliases),
        ("oncotree.tsv", nothing, reference._oncotree),
        ("ncit_agents.tsv: preferred names", nothing, reference._agents),
        ("ncit_agents.tsv: synonym tier", reference._agents, reference._agent_synonyms),
        ("gene suggestion index (first typo)", reference._gene_aliases,
         lambda: reference.suggest_gene("KRSA")),
        ("agent suggestion index (first typo)", reference._agent_synonyms,
         lambda: reference.suggest_agent("sorafenibb")),
    ]
    print(f"{'':40s} {'wall':>8s}    {'CPU':>8s}")
    for label, prepare, measure in rows:
        wall, cpu = _best(runs, prepare, measure)
        print(f"{label:40s} {wall:8.1f} ms {cpu:8.1f} ms")

    _clear()
    reference.resolve_gene("KRAS")
    reference.resolve_agent("Keytruda")
    start = time.perf_counter()
    for _ in range(10_000):
        reference.resolve_gene("KRAS")
        reference.resolve_agent("oxaliplatin")
    per = (time.perf_counter() - start) / 20_000 * 1e6
    print(f"{'look-up once loaded':40s} {per:8.1f} us")


if __name__ == "__main__":
    main()
