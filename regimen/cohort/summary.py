"""Cohort evidence summaries: what a batch of evaluations has in common.

Aggregates the result JSON of many evaluations (the lines of
``results.jsonl``), so that a summary can be built while a batch runs or later
from an existing output directory. For the whole cohort and for each tumour
type it counts the patients with each mechanism, each option (by tier), each
avoid flag, caution, suggested test and conditional option, the most frequent
combinations of the top three options, and the patients with no option.

Counts are patients, not occurrences: a patient counts once per item however
often the item appears in their result.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..models import Model
from ..result import DISCLAIMER

TOP_COMBINATIONS = 10
COMBINATION_SIZE = 3
DEFAULT_TIER = "review"
BAR_WIDTH = 360


class Count(Model):
    id: str
    label: str
    patients: int
    percent: float


class OptionCount(Model):
    id: str
    label: str
    patients: int
    percent: float
    tiers: dict[str, int]


class Combination(Model):
    options: list[str]
    labels: list[str]
    patients: int
    percent: float


class Group(Model):
    """The counts for the cohort (``key`` ``all``) or one tumour type (its OncoTree code)."""

    key: str
    name: str
    patients: int
    mechanisms: list[Count]
    options: list[OptionCount]
    avoid: list[Count]
    cautions: list[Count]
    tests: list[Count]
    conditional_options: list[Count]
    combinations: list[Combination]
    no_option: list[str]


class CohortSummary(Model):
    schema_version: int = 1
    patients: int
    refused: int
    knowledge: list[str]
    tiers: list[str]
    groups: list[Group]
    disclaimer: str = DISCLAIMER


class _Tally:
    """Mutable counters of one group while results are added."""

    def __init__(self, key: str, name: str) -> None:
        self.key = key
        self.name = name
        self.patients = 0
        self.counters: dict[str, Counter[str]] = {
            k: Counter() for k in ("mechanisms", "options", "avoid", "cautions", "tests",
                                   "conditional_options")}
        self.tiers: dict[str, Counter[str]] = {}
        self.combinations: Counter[tuple[str, ...]] = Counter()
        self.no_option: list[str] = []


def _label(item: dict[str, Any], *fields: str) -> str:
    for name in fields:
        value = item.get(name)
        if isinstance(value, list) and value:
            return " + ".join(str(v) for v in value)
        if isinstance(value, str) and value:
            return value
    return str(item.get("id", ""))


class CohortAggregator:
    """Adds evaluation results one at a time; memory grows with distinct items, not patients
    (apart from the ids of patients with no option)."""

    def __init__(self) -> None:
        self.groups: dict[str, _Tally] = {"all": _Tally("all", "all tumour types")}
        self.labels: dict[str, dict[str, str]] = {}
        self.refused = 0
        self.knowledge: set[str] = set()
        self.tiers: set[str] = set()

    def add_refused(self) -> None:
        self.refused += 1

    def add_line(self, line: str) -> None:
        self.add(json.loads(line))

    def add(self, result: dict[str, Any]) -> None:
        """Count one result (the JSON of ``evaluate --format json`` as a dict)."""
        patient = result["patient"]
        code, name = patient["tumour"], patient["tumour_name"]
        if code not in self.groups:
            self.groups[code] = _Tally(code, name)
        self.knowledge.add(result["knowledge"]["digest"])
        items = {
            "mechanisms": [(m["id"], _label(m, "label")) for m in result["mechanisms"]],
            "options": [(r["id"], _label(r, "label")) for r in result["recommendations"]],
            "avoid": [(a["id"], _label(a, "agents")) for a in result["avoid"]],
            "cautions": [(c["id"], _label(c, "text")) for c in result["cautions"]],
            "tests": [(t["id"], _label(t, "test")) for t in result["suggested_tests"]],
            "conditional_options": [
                (c["id"], _label(c, "label")) for c in result.get("conditional_options", [])],
        }
        tiers = {r["id"]: r.get("tier") or DEFAULT_TIER for r in result["recommendations"]}
        self.tiers.update(tiers.values())
        top = tuple(sorted({r["id"] for r in result["recommendations"][:COMBINATION_SIZE]}))
        who = result.get("profile_id") or f"patient {self.groups['all'].patients + 1}"
        for kind, pairs in items.items():
            labels = self.labels.setdefault(kind, {})
            for item_id, label in pairs:
                labels.setdefault(item_id, label)
        for tally in (self.groups["all"], self.groups[code]):
            tally.patients += 1
            for kind, pairs in items.items():
                tally.counters[kind].update({item_id for item_id, _ in pairs})
            for option_id, tier in tiers.items():
                tally.tiers.setdefault(option_id, Counter())[tier] += 1
            if top:
                tally.combinations[top] += 1
            else:
                tally.no_option.append(who)

    def summary(self) -> CohortSummary:
        groups = [self.groups["all"]]
        groups += sorted((g for k, g in self.groups.items() if k != "all"),
                         key=lambda g: (-g.patients, g.key))
        return CohortSummary(patients=self.groups["all"].patients, refused=self.refused,
                             knowledge=sorted(self.knowledge), tiers=sorted(self.tiers),
                             groups=[self._group(g) for g in groups])

    def _counts(self, tally: _Tally, kind: str) -> list[Count]:
        labels = self.labels.get(kind, {})
        return [Count(id=item_id, label=labels[item_id], patients=n,
                      percent=_percent(n, tally.patients))
                for item_id, n in sorted(tally.counters[kind].items(),
                                         key=lambda kv: (-kv[1], kv[0]))]

    def _group(self, tally: _Tally) -> Group:
        labels = self.labels.get("options", {})
        options = [OptionCount(id=c.id, label=c.label, patients=c.patients, percent=c.percent,
                               tiers=dict(sorted(tally.tiers[c.id].items())))
                   for c in self._counts(tally, "options")]
        combinations = [
            Combination(options=list(ids), labels=[labels[i] for i in ids], patients=n,
                        percent=_percent(n, tally.patients))
            for ids, n in sorted(tally.combinations.items(),
                                 key=lambda kv: (-kv[1], kv[0]))[:TOP_COMBINATIONS]]
        return Group(key=tally.key, name=tally.name, patients=tally.patients,
                     mechanisms=self._counts(tally, "mechanisms"), options=options,
                     avoid=self._counts(tally, "avoid"), cautions=self._counts(tally, "cautions"),
                     tests=self._counts(tally, "tests"),
                     conditional_options=self._counts(tally, "conditional_options"),
                     combinations=combinations, no_option=list(tally.no_option))


def _percent(n: int, total: int) -> float:
    return round(100.0 * n / total, 1) if total else 0.0


def summarise_results(lines: Iterable[str], refused: int = 0) -> CohortSummary:
    aggregator = CohortAggregator()
    for line in lines:
        if line.strip():
            aggregator.add_line(line)
    aggregator.refused = refused
    return aggregator.summary()


def summarise_directory(out: Path) -> CohortSummary:
    """The summary of an existing batch output directory (its results and errors)."""
    results = out / "results.jsonl"
    if not results.is_file():
        raise InputError("no results.jsonl here", source=str(out),
                         hint="give the --out directory of a batch run")
    refused = 0
    errors = out / "errors.jsonl"
    if errors.is_file():
        with errors.open(encoding="utf-8") as handle:
            refused = sum(1 for line in handle if line.strip())
    with results.open(encoding="utf-8") as handle:
        try:
            return summarise_results(handle, refused)
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(f"results.jsonl is not the output of regimen batch ({exc})",
                             source=str(results)) from None


# ----------------------------------------------------------------------------- rendering
SUMMARY_FORMATS = {".html": "html", ".htm": "html", ".md": "md", ".json": "json"}


def summary_format(path: Path, fmt: str | None) -> str:
    if fmt is not None:
        return fmt
    chosen = SUMMARY_FORMATS.get(path.suffix.lower())
    if chosen is None:
        raise InputError(f"cannot tell the summary format from {path.name!r}",
                         field="--summary", hint="end the name in .html, .md or .json, "
                                                 "or give --summary-format")
    return chosen


def bars(counts: list[dict[str, Any]], total: int, limit: int = 25) -> dict[str, Any]:
    """Geometry of a horizontal bar chart (one bar per item, length = share of patients)."""
    rows = []
    for i, item in enumerate(counts[:limit]):
        width = round(BAR_WIDTH * item["patients"] / total, 1) if total else 0.0
        rows.append({"y": 4 + 18 * i, "width": max(width, 1.0), "label": item["label"],
                     "id": item["id"], "patients": item["patients"],
                     "percent": item["percent"]})
    return {"rows": rows, "height": 8 + 18 * len(rows), "bar_left": 300,
            "width": 300 + BAR_WIDTH + 90, "more": max(len(counts) - limit, 0)}


def render_summary(summary: CohortSummary, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(summary.model_dump(mode="json"), indent=2, ensure_ascii=False) + "\n"
    from ..render.jinja import environment

    env = environment(fmt)
    return env.get_template(f"cohort.{fmt}.j2").render(s=summary.model_dump(mode="json"),
                                                       bars=bars, cell=markdown_cell)


def markdown_cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")
