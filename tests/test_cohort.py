from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import html5lib
import pytest
from click.testing import CliRunner

from regimen import Recommender
from regimen.cli import cli
from regimen.cohort.summary import CohortAggregator, render_summary

ROOT = Path(__file__).resolve().parent.parent


def result(pid: str, tumour: str, mechanisms: list[str], options: list[tuple[str, str | None]],
           avoid: list[str] = (), cautions: list[str] = (), tests: list[str] = (),
           **extra: Any) -> dict[str, Any]:
    """The parts of an evaluation's JSON that a cohort summary reads."""
    recs = []
    for rank, (oid, tier) in enumerate(options, start=1):
        rec: dict[str, Any] = {"rank": rank, "id": oid, "label": f"Option {oid}"}
        if tier is not None:
            rec["tier"] = tier
        recs.append(rec)
    return {
        "profile_id": pid,
        "knowledge": {"digest": "abc"},
        "patient": {"tumour": tumour, "tumour_name": f"{tumour} name"},
        "mechanisms": [{"id": m, "label": f"Mechanism {m}"} for m in mechanisms],
        "recommendations": recs,
        "avoid": [{"id": a, "agents": ["cetuximab"]} for a in avoid],
        "cautions": [{"id": c, "text": f"Caution {c}"} for c in cautions],
        "suggested_tests": [{"id": t, "test": f"Test {t}"} for t in tests],
        **extra,
    }


COHORT = [
    result("P1", "COAD", ["m1", "m2"],
           [("o1", "standard"), ("o2", None), ("o3", None), ("o4", None)],
           avoid=["a1"], cautions=["c1", "c1"], tests=["t1"],
           conditional_options=[{"id": "k1", "label": "Conditional k1"}]),
    result("P2", "COAD", ["m1"], [("o2", None), ("o1", None), ("o3", None)], cautions=["c1"]),
    result("P3", "LIHC", ["m2"], [], avoid=["a1"], tests=["t1"]),
    result("P4", "LIHC", [], [("o5", "trial")]),
]


def counts(items: list[dict[str, Any]]) -> dict[str, int]:
    return {i["id"]: i["patients"] for i in items}


@pytest.fixture
def summary() -> dict[str, Any]:
    aggregator = CohortAggregator()
    for item in COHORT:
        aggregator.add(item)
    aggregator.add_refused()
    return aggregator.summary().model_dump(mode="json")


def test_counts_computed_by_hand(summary: dict[str, Any]) -> None:
    assert summary["patients"] == 4 and summary["refused"] == 1
    assert summary["tiers"] == ["review", "standard", "trial"]
    assert [g["key"] for g in summary["groups"]] == ["all", "COAD", "LIHC"]
    whole, coad, lihc = summary["groups"]
    assert whole["patients"] == 4
    assert counts(whole["mechanisms"]) == {"m1": 2, "m2": 2}
    assert counts(whole["options"]) == {"o1": 2, "o2": 2, "o3": 2, "o4": 1, "o5": 1}
    tiers = {o["id"]: o["tiers"] for o in whole["options"]}
    assert tiers == {"o1": {"review": 1, "standard": 1}, "o2": {"review": 2},
                     "o3": {"review": 2}, "o4": {"review": 1}, "o5": {"trial": 1}}
    assert counts(whole["avoid"]) == {"a1": 2}
    assert counts(whole["cautions"]) == {"c1": 2}  # P1 lists it twice: one patient
    assert counts(whole["tests"]) == {"t1": 2}
    assert counts(whole["conditional_options"]) == {"k1": 1}
    # P1 and P2 share the top three {o1, o2, o3} in different order; P4 has o5 alone
    assert [(c["options"], c["patients"]) for c in whole["combinations"]] == \
        [(["o1", "o2", "o3"], 2), (["o5"], 1)]
    assert whole["no_option"] == ["P3"]
    assert whole["mechanisms"][0]["percent"] == 50.0
    assert [m["label"] for m in whole["mechanisms"]] == ["Mechanism m1", "Mechanism m2"]
    assert whole["avoid"][0]["label"] == "cetuximab"

    assert coad["patients"] == 2 and coad["name"] == "COAD name"
    assert counts(coad["mechanisms"]) == {"m1": 2, "m2": 1}
    assert {o["id"]: o["tiers"] for o in coad["options"]}["o1"] == {"review": 1, "standard": 1}
    assert coad["no_option"] == [] and counts(coad["avoid"]) == {"a1": 1}
    assert [(c["options"], c["patients"]) for c in coad["combinations"]] == \
        [(["o1", "o2", "o3"], 2)]
    assert lihc["no_option"] == ["P3"]
    assert counts(lihc["options"]) == {"o5": 1} and counts(lihc["tests"]) == {"t1": 1}
    assert lihc["conditional_options"] == []


def test_html_summary_is_static_and_has_the_report_csp(summary: dict[str, Any]) -> None:
    from regimen.cohort.summary import CohortSummary

    html = render_summary(CohortSummary.model_validate(summary), "html")
    report = (ROOT / "templates" / "report.html.j2").read_text()
    csp = re.search(r'<meta http-equiv="Content-Security-Policy"[^>]*>', report)
    assert csp is not None and csp.group(0) in html
    assert "<script" not in html.lower()
    assert not re.search(r"\son[a-z]+=", html)
    html5lib.HTMLParser(strict=True).parse(html)
    assert html.count("<svg") >= 3  # mechanisms, options, avoid, tests per group with items
    assert "Option o1" in html and "P3" in html


def test_markdown_and_json_summaries(summary: dict[str, Any]) -> None:
    from regimen.cohort.summary import CohortSummary

    model = CohortSummary.model_validate(summary)
    md = render_summary(model, "md")
    assert "| Mechanism m1 | `m1` | 2 | 50.0 |" in md
    assert "| Option o1 | `o1` | 2 | 50.0 | 1 | 1 | 0 |" in md
    assert json.loads(render_summary(model, "json")) == summary


def test_batch_summary_and_rebuild_from_out_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                recommender: Recommender) -> None:
    monkeypatch.setattr("regimen.cohort.command._recommender", lambda knowledge_dir: recommender)
    out = tmp_path / "out"
    bad = tmp_path / "bad.yaml"
    bad.write_text("tumour: {type: nowhere}\n")
    runner = CliRunner()
    done = runner.invoke(cli, ["batch", str(ROOT / "examples" / "*.yaml"), str(bad),
                                  "--out", str(out),
                               "--summary", str(tmp_path / "summary.json"), "--quiet"])
    assert done.exit_code == 2, done.output
    live = json.loads((tmp_path / "summary.json").read_text())
    assert live["patients"] == 7 and live["refused"] == 1
    results = [json.loads(line) for line in (out / "results.jsonl").read_text().splitlines()]
    mechanism_counts: dict[str, int] = {}
    for r in results:
        for m in {m["id"] for m in r["mechanisms"]}:
            mechanism_counts[m] = mechanism_counts.get(m, 0) + 1
    assert counts(live["groups"][0]["mechanisms"]) == mechanism_counts
    by_tumour = sorted({r["patient"]["tumour"] for r in results})
    assert sorted(g["key"] for g in live["groups"][1:]) == by_tumour
    rebuilt = runner.invoke(cli, ["batch", "--summary-only", "--out", str(out), "--summary",
                                  str(tmp_path / "again.json"), "--quiet"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert (tmp_path / "again.json").read_bytes() == (tmp_path / "summary.json").read_bytes()
    # a resumed run (everything skipped) summarises the same cohort
    again = runner.invoke(cli, ["batch", str(ROOT / "examples" / "*.yaml"), str(bad),
                                  "--out", str(out),
                                "--summary", str(tmp_path / "third.json"), "--quiet"])
    assert again.exit_code == 2
    assert (tmp_path / "third.json").read_bytes() == (tmp_path / "summary.json").read_bytes()
