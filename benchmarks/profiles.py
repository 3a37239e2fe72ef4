"""Deterministic generated profiles for the benchmarks and the differential tests.

Every profile is a plain dict drawn with :class:`random.Random` from the
vocabulary the knowledge base uses (tumour types, genes with the changes the
rules name, expression levels, TME and microbiome terms, therapy histories,
ctDNA series, drug sensitivity and clinical conditions), so the same seed gives
the same profiles on every machine.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from regimen.knowledge import KnowledgeBase, walk_conditions

ALT_TYPES = ["mutation", "amplification", "loss", "fusion", "promoter-methylation", "wild-type"]


class ProfileGenerator:
    """Varied valid profiles over the terms a knowledge base names."""

    def __init__(self, kb: KnowledgeBase) -> None:
        vocab = kb.vocabulary
        self.vocab = vocab
        self.tumours = sorted(c for c, t in vocab.tumours.items() if t.gi and t.parent)
        self.genes = sorted(kb.used_genes() | {"SMAD4", "ZNF217"})
        changes: dict[str, set[str]] = {}
        for rule in kb.rules:
            for cond in walk_conditions(rule.when):
                for spec in (cond.alteration, cond.ctdna):
                    if spec is not None and spec.gene and spec.change:
                        for gene in spec.gene:
                            changes.setdefault(gene, set()).update(spec.change)
        self.changes = {g: sorted(c) for g, c in sorted(changes.items())}
        self.agents = sorted(kb.agents)
        self.drugs = sorted(a.id for a in kb.agents.values() if a.kind == "drug")

    def profile(self, rnd: random.Random, index: int) -> dict[str, Any]:
        alterations: dict[str, dict[str, Any]] = {}
        for gene in rnd.sample(self.genes, rnd.randint(0, 6)):
            if gene in self.changes and rnd.random() < 0.6:
                entry: dict[str, Any] = {"gene": gene, "change": rnd.choice(self.changes[gene])}
            else:
                entry = {"gene": gene, "type": rnd.choice(ALT_TYPES)}
            if rnd.random() < 0.5:
                entry["vaf"] = round(rnd.random(), 3)
            alterations[gene] = entry
        biomarkers: dict[str, Any] = {
            "expression": {g: rnd.choice(self.vocab.levels)
                           for g in rnd.sample(self.genes, rnd.randint(0, 5))},
            "tme": rnd.sample(sorted(self.vocab.tme), rnd.randint(0, 3)),
            "microbiome": {t: rnd.choice(self.vocab.microbiome_levels)
                           for t in rnd.sample(sorted(self.vocab.microbiome), rnd.randint(0, 2))},
        }
        if rnd.random() < 0.7:
            biomarkers["msi"] = rnd.choice(self.vocab.msi_values)
        if rnd.random() < 0.5:
            biomarkers["tmb"] = round(rnd.uniform(0, 60), 1)
        if rnd.random() < 0.5:
            biomarkers["pdl1_cps"] = round(rnd.uniform(0, 60), 1)
        therapies = []
        for _ in range(rnd.randint(0, 3)):
            start = dt.date(2023, 1, 1) + dt.timedelta(days=rnd.randint(0, 900))
            line: dict[str, Any] = {"agents": rnd.sample(self.agents, rnd.randint(1, 3)),
                                    "start": start.isoformat()}
            if rnd.random() < 0.6:
                line["end"] = (start + dt.timedelta(days=rnd.randint(0, 400))).isoformat()
                line["response"] = rnd.choice(self.vocab.responses)
            therapies.append(line)
        draws = []
        dates = sorted(rnd.sample(range(0, 1200, 7), rnd.randint(0, 5)))
        for offset in dates:
            entry = {"date": (dt.date(2023, 1, 1) + dt.timedelta(days=offset)).isoformat()}
            if rnd.random() < 0.5:
                entry["tumour_fraction"] = round(rnd.uniform(0, 0.3), 4)
            variants = []
            for gene in rnd.sample(sorted(self.changes), rnd.randint(0, 3)):
                variants.append({"gene": gene, "change": rnd.choice(self.changes[gene]),
                                 "vaf": round(rnd.uniform(0, 0.2), 4)})
            entry["variants"] = variants
            draws.append(entry)
        return {
            "id": f"GEN-{index:05d}",
            "tumour": {"type": rnd.choice(self.tumours), "stage": "IV"},
            "alterations": list(alterations.values()),
            "biomarkers": biomarkers,
            "therapies": therapies,
            "ctdna": draws,
            "drug_sensitivity": [{"agent": a, "result": rnd.choice(self.vocab.sensitivity_results)}
                                 for a in rnd.sample(self.drugs, rnd.randint(0, 2))],
            "clinical": {"conditions": rnd.sample(sorted(self.vocab.conditions),
                                                  rnd.randint(0, 2))},
        }

    def profiles(self, count: int, seed: int = 12) -> list[dict[str, Any]]:
        rnd = random.Random(seed)
        return [self.profile(rnd, i) for i in range(count)]


def many_alterations(count: int = 500, variant: int = 0) -> dict[str, Any]:
    """A profile with ``count`` alterations, nearly all in genes no rule names.

    Each ``variant`` names other genes, so that repeated timings measure first look-ups."""
    letters = "BCDFGHJLMNPQRSTVWXZ"
    alterations = [{"gene": "KRAS", "change": "G12C"}]
    for i in range(count - 1):
        symbol = "Q" + letters[i % len(letters)] + letters[(i // len(letters)) % len(letters)] \
            + str(i) + ("" if not variant else f"V{variant}")
        alterations.append({"gene": symbol, "type": "mutation", "vaf": 0.1})
    return {"id": "MANY-ALTERATIONS", "tumour": {"type": "COADREAD"},
            "alterations": alterations}


def long_ctdna(draws: int = 200, variants: int = 50) -> dict[str, Any]:
    """``draws`` ctDNA draws, each listing up to ``variants`` variants that come and go."""
    rnd = random.Random(7)
    genes = [f"QV{i}" for i in range(variants - 2)] + ["KRAS", "EGFR"]
    changes = {g: f"A{i + 10}T" for i, g in enumerate(genes)}
    changes["KRAS"], changes["EGFR"] = "G12D", "S492R"
    series = []
    for i in range(draws):
        date = dt.date(2020, 1, 1) + dt.timedelta(days=7 * i)
        listed = [g for g in genes if rnd.random() < 0.8]
        series.append({
            "date": date.isoformat(),
            "tumour_fraction": round(rnd.uniform(0, 0.2), 4) if i % 3 else None,
            "variants": [{"gene": g, "change": changes[g], "vaf": round(rnd.uniform(0, 0.1), 4)}
                         for g in listed],
        })
    for draw in series:
        if draw["tumour_fraction"] is None:
            del draw["tumour_fraction"]
    return {"id": "LONG-CTDNA", "tumour": {"type": "COADREAD"},
            "therapies": [{"agents": ["cetuximab"], "start": "2020-01-01", "end": "2023-10-01",
                           "response": "PD"}],
            "ctdna": series}
