"""Every performance figure of the project, in one command.

Run from the repository root:

    python benchmarks/run.py            # full
    python benchmarks/run.py --quick    # fewer repetitions, smaller batch

Prints: cold ``regimen evaluate`` CPU time and peak memory (with the knowledge
cache warm, and with it off), ``regimen --help`` CPU time, warm evaluation per
example and its median, a profile with 500 alterations, a profile with 200
ctDNA draws x 50 variants, batch profiles per second in one process, and the
engine scaling figures (knowledge base x16, CLIPS yardstick) from
``benchmarks/engine_scaling.py`` when that file is present. Times are CPU
seconds of the measured process (steadier than wall clock on a shared machine);
medians of several runs, and for the cold commands also the best run (other work on a
shared machine only ever adds time, so the best run is the closest to the command's own
cost).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))

from profiles import ProfileGenerator, long_ctdna, many_alterations  # noqa: E402

EXAMPLE = ROOT / "examples" / "crc-kras-g12c.yaml"


def _child(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """CPU seconds (user + system) and peak RSS (MiB) of one child process."""
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env,
                            cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode() if proc.stderr else ""
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed: {err}")
    return usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def _cold(args: list[str], runs: int, env: dict[str, str]) -> tuple[float, float, float]:
    """Best and median CPU seconds, and the largest peak RSS, over ``runs`` child processes.

    On a shared machine other work only ever adds time, so the best run is the closest to
    what the command itself costs; the median shows how much the machine added."""
    samples = [_child(args, env) for _ in range(runs)]
    cpu = [s[0] for s in samples]
    return min(cpu), statistics.median(cpu), max(s[1] for s in samples)


def _cpu(func: Callable[[], Any], runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.process_time()
        func()
        times.append(time.process_time() - start)
    return statistics.median(times)


def _row(what: str, value: str, target: str = "") -> None:
    print(f"{what:<52} {value:>16}   {target}")


def _engine_scaling(quick: bool) -> None:
    path = Path(__file__).resolve().parent / "engine_scaling.py"
    if not path.is_file():
        print("engine scaling: see benchmarks/engine_scaling.py (not present)")
        return
    spec = importlib.util.spec_from_file_location("engine_scaling", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    entry = getattr(module, "main", None)
    if not callable(entry):
        print("engine scaling: benchmarks/engine_scaling.py has no main()")
        return
    saved = sys.argv
    try:
        sys.argv = [str(path), "--runs", "5" if quick else "20"]
        entry()
    finally:
        sys.argv = saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    quick = args.quick
    runs = 5 if quick else 11

    from regimen import Recommender, __version__

    print(f"regimen {__version__}, python {platform.python_version()} on "
          f"{platform.machine()}, {os.cpu_count()} cores")
    _row("figure", "measured", "target")
    with tempfile.TemporaryDirectory() as cache, tempfile.TemporaryDirectory() as pycache:
        # As installed: pip byte-compiles a package, so the cold figures read
        # bytecode, even where the environment says not to write it.
        env = {**os.environ, "REGIMEN_CACHE_DIR": cache, "PYTHONPYCACHEPREFIX": pycache}
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        command = [sys.executable, "-m", "regimen", "evaluate", str(EXAMPLE)]
        _child(command, env)  # fills the cache
        best, median, rss = _cold(command, runs, env)
        _row("cold `regimen evaluate` CPU (cache warm), best", f"{best:.3f} s", "<= 0.3 s")
        _row("  median", f"{median:.3f} s")
        _row("cold `regimen evaluate` peak RSS (cache warm)", f"{rss:.1f} MiB", "<= 60 MiB")
        best, median, rss = _cold(command, max(1, runs // 2),
                                  {**env, "REGIMEN_CACHE_DIR": "off"})
        _row("cold `regimen evaluate` CPU (cache off), best", f"{best:.3f} s")
        _row("  median", f"{median:.3f} s")
        _row("cold `regimen evaluate` peak RSS (cache off)", f"{rss:.1f} MiB")
        best, median, _ = _cold([sys.executable, "-m", "regimen", "--help"], runs, env)
        _row("`regimen --help` CPU, best", f"{best:.3f} s", "<= 0.15 s")
        _row("  median", f"{median:.3f} s")

    rec = Recommender()
    examples = sorted((ROOT / "examples").glob("*.yaml"))
    per_example = []
    for path in examples:
        profile = rec.load(path)
        rec.evaluate(profile)
        ms = _cpu(lambda p=path: rec.evaluate(p).to_dict(), 5 if quick else 25) * 1000
        per_example.append(ms)
        _row(f"  warm evaluate {path.stem}", f"{ms:.1f} ms")
    _row("warm evaluate, median over the examples", f"{statistics.median(per_example):.1f} ms",
         "~10 ms (<= 1.5x CLIPS)")

    variants = iter(range(1, 100))  # new gene names each run: no look-up is remembered
    seconds = _cpu(lambda: rec.evaluate(many_alterations(500, next(variants))), 1 if quick else 3)
    _row("profile with 500 alterations (unknown genes)", f"{seconds:.3f} s", "<= 0.3 s")
    _row("  of which validation (load)",
         f"{_cpu(lambda: rec.load(many_alterations(500, next(variants))), 1):.3f} s")
    ctdna = long_ctdna(200, 50)
    _row("profile with 200 ctDNA draws x 50 variants",
         f"{_cpu(lambda: rec.evaluate(ctdna), 1 if quick else 3):.3f} s", "<= 0.5 s")

    generated = ProfileGenerator(rec.kb).profiles(100 if quick else 1000)
    start = time.process_time()
    for item in generated:
        rec.evaluate(item).to_dict()
    rate = len(generated) / (time.process_time() - start)
    _row(f"batch, {len(generated)} generated profiles, one process", f"{rate:.0f} /s",
         ">= 150 /s")
    _engine_scaling(quick)


if __name__ == "__main__":
    main()
