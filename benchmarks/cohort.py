"""Cohort throughput: profiles per second and peak memory of ``regimen batch``.

Generates N synthetic, seeded GI-cancer profiles (tumour-type mix, mutation and
biomarker frequencies per tumour type, one to three therapy lines, ctDNA series
for about a third of patients) as one JSON Lines file, then runs the batch
pipeline (input expansion, evaluation, results.jsonl, errors.jsonl, manifest)
on it in a fresh process per configuration:

    python benchmarks/cohort.py                      # 1,000 and 10,000 profiles
    python benchmarks/cohort.py --sizes 1000 --modes local jobs2
    python benchmarks/cohort.py --write cohort.jsonl --sizes 500   # just the profiles

Modes: ``local`` (one process), ``jobs2`` (``--jobs 2``), ``dask`` (a
LocalCluster with two single-threaded worker processes; needs the dask extra).
Peak RSS is that of the process writing the outputs (workers are separate
processes with their own knowledge base).

The frequencies below are rounded, approximate values chosen to give a
plausible workload; they are synthetic test data, not a clinical reference.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

# tumour code -> share of the cohort
TUMOURS = {"COAD": 0.35, "READ": 0.1, "PAAD": 0.2, "STAD": 0.15, "HCC": 0.1, "ESCC": 0.1}

# per tumour type: (gene, alteration, probability); alteration is a protein change or a type
ALTERATIONS: dict[str, list[tuple[str, str, float]]] = {
    "COAD": [("APC", "R1450*", 0.7), ("TP53", "R175H", 0.3), ("TP53", "R273H", 0.25),
             ("KRAS", "G12D", 0.15), ("KRAS", "G12V", 0.1), ("KRAS", "G12C", 0.04),
             ("KRAS", "G13D", 0.07), ("NRAS", "Q61K", 0.04), ("BRAF", "V600E", 0.09),
             ("PIK3CA", "E545K", 0.15), ("ERBB2", "amplification", 0.03),
             ("TYMS", "amplification", 0.05), ("MLH1", "promoter-methylation", 0.08)],
    "PAAD": [("KRAS", "G12D", 0.4), ("KRAS", "G12V", 0.3), ("KRAS", "G12R", 0.15),
             ("TP53", "R248Q", 0.35), ("TP53", "R273H", 0.3), ("SMAD4", "loss", 0.2),
             ("CDKN2A", "loss", 0.3), ("BRCA2", "K3326*", 0.05)],
    "STAD": [("TP53", "R273H", 0.25), ("TP53", "R175H", 0.2), ("ERBB2", "amplification", 0.15),
             ("CDH1", "loss", 0.1), ("PIK3CA", "H1047R", 0.1),
             ("MLH1", "promoter-methylation", 0.15), ("KRAS", "G12D", 0.05)],
    "HCC": [("TP53", "R249S", 0.3), ("CTNNB1", "S45P", 0.25), ("AXIN1", "loss", 0.08)],
    "ESCC": [("TP53", "R175H", 0.4), ("TP53", "R248Q", 0.35), ("PIK3CA", "E545K", 0.1),
             ("NFE2L2", "R34G", 0.1), ("CDKN2A", "loss", 0.25)],
}
ALTERATIONS["READ"] = ALTERATIONS["COAD"]
TYPES = {"amplification", "loss", "promoter-methylation"}

MSI_HIGH = {"COAD": 0.12, "READ": 0.05, "PAAD": 0.01, "STAD": 0.15, "HCC": 0.01, "ESCC": 0.01}
EXPRESSION = {"GPX4": 0.3, "SLC7A11": 0.15, "ABCB1": 0.15, "BIRC5": 0.15, "XIAP": 0.1,
              "BCL2": 0.1, "BCL2L1": 0.1, "HDAC1": 0.1, "NFE2L2": 0.1, "GCLC": 0.05}
TME = {"caf-rich": 0.2, "immune-cold": 0.25, "hypoxic": 0.15, "dense-stroma": 0.1,
       "treg-high": 0.1, "m2-tam-high": 0.1}
THERAPY_LINES: dict[str, list[list[str]]] = {
    "COAD": [["oxaliplatin", "fluorouracil", "leucovorin"],
             ["irinotecan", "fluorouracil", "leucovorin", "bevacizumab"],
             ["irinotecan", "fluorouracil", "leucovorin", "cetuximab"],
             ["trifluridine-tipiracil", "bevacizumab"], ["regorafenib"]],
    "PAAD": [["gemcitabine", "nab-paclitaxel"], ["oxaliplatin", "irinotecan", "fluorouracil",
                                                  "leucovorin"]],
    "STAD": [["oxaliplatin", "capecitabine"], ["paclitaxel", "ramucirumab"], ["nivolumab"]],
    "HCC": [["atezolizumab", "bevacizumab"], ["sorafenib"], ["lenvatinib"], ["regorafenib"]],
    "ESCC": [["cisplatin", "fluorouracil"], ["nivolumab"], ["paclitaxel"]],
}
THERAPY_LINES["READ"] = THERAPY_LINES["COAD"]
CTDNA_SHARE = 0.35


def _pick(rng: random.Random, weights: dict[str, float]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def generate_profile(rng: random.Random, index: int) -> dict[str, Any]:
    tumour = _pick(rng, TUMOURS)
    alterations: list[dict[str, Any]] = []
    genes: set[str] = set()
    for gene, change, p in ALTERATIONS[tumour]:
        if gene in genes or rng.random() >= p:
            continue
        genes.add(gene)
        if change in TYPES:
            alterations.append({"gene": gene, "type": change})
        else:
            alterations.append({"gene": gene, "change": change,
                                "vaf": round(rng.uniform(0.05, 0.5), 3)})
    msi = "MSI-H" if rng.random() < MSI_HIGH[tumour] else "MSS"
    biomarkers: dict[str, Any] = {"msi": msi}
    if rng.random() < 0.5:
        biomarkers["tmb"] = round(rng.uniform(20, 60) if msi == "MSI-H" else
                                  rng.uniform(0.5, 9), 1)
    if tumour in ("STAD", "ESCC") and rng.random() < 0.7:
        biomarkers["pdl1_cps"] = rng.choice([0, 1, 5, 10, 20])
    expression = {g: "high" for g, p in EXPRESSION.items() if rng.random() < p}
    if expression:
        biomarkers["expression"] = expression
    tme = [t for t, p in TME.items() if rng.random() < p]
    if tme:
        biomarkers["tme"] = tme
    start = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(700))
    therapies = []
    lines = THERAPY_LINES[tumour]
    for number in range(rng.choice([1, 1, 2, 2, 3])):
        length = rng.randrange(60, 300)
        last = number == 0 or rng.random() < 0.5
        therapy: dict[str, Any] = {"agents": lines[min(number, len(lines) - 1)] if last else
                                   rng.choice(lines), "start": start.isoformat(),
                                   "end": (start + dt.timedelta(days=length)).isoformat(),
                                   "response": rng.choice(["PD", "PD", "PD", "SD", "PR"])}
        therapies.append(therapy)
        start += dt.timedelta(days=length + rng.randrange(7, 40))
    profile: dict[str, Any] = {"id": f"SYN-{index:06d}",
                               "tumour": {"type": tumour, "stage": "IV"},
                               "alterations": alterations, "biomarkers": biomarkers,
                               "therapies": therapies}
    tracked = [a for a in alterations if "change" in a]
    if tracked and rng.random() < CTDNA_SHARE:
        draws = []
        day = dt.date.fromisoformat(therapies[0]["start"])
        fraction = rng.uniform(0.02, 0.15)
        for _ in range(rng.randrange(2, 6)):
            fraction = min(0.9, fraction * rng.uniform(0.3, 1.8))
            draws.append({"date": day.isoformat(), "tumour_fraction": round(fraction, 4),
                          "variants": [{"gene": a["gene"], "change": a["change"],
                                        "vaf": round(fraction * rng.uniform(0.4, 1.0), 4)}
                                       for a in tracked[:3]]})
            day += dt.timedelta(days=rng.randrange(45, 120))
        profile["ctdna"] = draws
    return profile


def generate(n: int, seed: int = 14) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    for index in range(1, n + 1):
        yield generate_profile(rng, index)


def write_jsonl(path: Path, n: int, seed: int = 14) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for profile in generate(n, seed):
            handle.write(json.dumps(profile) + "\n")


def child(source: Path, out: Path, mode: str) -> dict[str, Any]:
    """One measured run (in a fresh process): returns the counts, time and peak RSS."""
    from regimen import Recommender
    from regimen.cohort.batch import OutputDir, RenderTask, expand_inputs, local_mapper, run_batch

    rec = Recommender()
    cluster = None
    if mode == "dask":
        from distributed import LocalCluster

        from regimen.cohort.dask_backend import dask_mapper

        cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        mapper = dask_mapper(cluster.scheduler_address)
    else:
        mapper = local_mapper(2 if mode == "jobs2" else 1)
    start = time.perf_counter()
    counts = run_batch(expand_inputs([source]), rec, RenderTask(()),
                       OutputDir(out, (), rec.kb.digest), mapper)
    seconds = time.perf_counter() - start
    if cluster is not None:
        cluster.close()
    rss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"evaluated": counts.evaluated, "refused": counts.refused, "seconds": seconds,
            "rss_mb": rss_kb / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--modes", nargs="+", default=["local", "jobs2", "dask"],
                        choices=["local", "jobs2", "dask"])
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument("--write", type=Path, default=None,
                        help="only write the generated profiles to this .jsonl file")
    parser.add_argument("--child", nargs=3, metavar=("SOURCE", "OUT", "MODE"),
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(Path(args.child[0]), Path(args.child[1]), args.child[2])))
        return
    if args.write:
        write_jsonl(args.write, args.sizes[0], args.seed)
        print(f"wrote {args.sizes[0]} profiles to {args.write}")
        return
    print(f"python {platform.python_version()} on {platform.machine()}, "
          f"{os.cpu_count()} CPUs; seed {args.seed}")
    with tempfile.TemporaryDirectory() as tmp:
        for n in args.sizes:
            source = Path(tmp) / f"cohort-{n}.jsonl"
            write_jsonl(source, n, args.seed)
            for mode in args.modes:
                out = Path(tmp) / f"out-{n}-{mode}"
                done = subprocess.run([sys.executable, __file__, "--child", str(source),
                                       str(out), mode], capture_output=True, text=True,
                                      check=True)
                row = json.loads(done.stdout.strip().splitlines()[-1])
                print(f"{n:>6} profiles  {mode:<6} {row['evaluated'] / row['seconds']:7.1f} "
                      f"profiles/s  ({row['seconds']:.1f} s, {row['refused']} refused)  "
                      f"peak RSS {row['rss_mb']:.0f} MB", flush=True)


if __name__ == "__main__":
    main()
