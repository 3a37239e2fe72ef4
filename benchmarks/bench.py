"""Measure knowledge compilation and per-profile evaluation time.

Run from the repository root:

    python benchmarks/bench.py            # all examples, 200 evaluations each
    python benchmarks/bench.py --runs 50

Prints the median and 95th percentile per example, and the compile time.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from pathlib import Path

from regimen import Recommender
from regimen.render import render

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="evaluations per example")
    args = parser.parse_args()

    start = time.perf_counter()
    rec = Recommender()
    compile_ms = (time.perf_counter() - start) * 1000
    print(f"python {platform.python_version()} on {platform.machine()}, "
          f"{len(rec.kb.rules)} rules; load + compile: {compile_ms:.0f} ms")
    examples = sorted((ROOT / "examples").glob("*.yaml"))
    profiles = [(path.name, rec.load(path)) for path in examples]
    for name, profile in profiles:
        rec.evaluate(profile)  # warm-up
        times = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            result = rec.evaluate(profile)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        p95 = times[int(0.95 * (len(times) - 1))]
        t0 = time.perf_counter()
        render(result, "html")
        html_ms = (time.perf_counter() - t0) * 1000
        print(f"{name:34} evaluate median {statistics.median(times):6.2f} ms  "
              f"p95 {p95:6.2f} ms  ({len(result.trace)} firings; html render {html_ms:.1f} ms)")


if __name__ == "__main__":
    main()
