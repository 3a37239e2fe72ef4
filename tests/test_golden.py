"""Golden reports for the shipped examples.

A change to the knowledge base or the ranking shows up here as a readable diff.
After reviewing it, regenerate with:

    REGIMEN_UPDATE_GOLDEN=1 pytest tests/test_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from regimen.render import render

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden"
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
UPDATE = os.environ.get("REGIMEN_UPDATE_GOLDEN") == "1"


def test_there_are_examples_for_five_tumour_types(recommender) -> None:
    lineages = [recommender.kb.vocabulary.lineage(recommender.load(p).tumour.type)
                for p in EXAMPLES]
    for wanted in ("COADREAD", "STAD", "PAAD", "HCC", "ESCC"):
        assert any(wanted in lineage for lineage in lineages), wanted


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
@pytest.mark.parametrize("fmt", ["json", "txt"])
def test_golden_report(recommender, example: Path, fmt: str) -> None:
    result = recommender.evaluate(example)
    # the knowledge digest changes with any edit of knowledge/, even a comment: keep it out
    # of the comparison so that the diff shows only what a reader of the report would see
    text = render(result, fmt).replace(result.knowledge.digest, "<digest>")
    golden = GOLDEN / f"{example.stem}.{fmt}"
    if UPDATE:
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"missing {golden}; run with REGIMEN_UPDATE_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8"), (
        f"{example.name} {fmt} report changed; review the diff and regenerate with "
        "REGIMEN_UPDATE_GOLDEN=1")


@pytest.mark.parametrize("example", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_examples_have_cited_ranked_options(recommender, example: Path) -> None:
    result = recommender.evaluate(example)
    # a profile with therapy history only has no ranked option, but tests that would unlock some
    assert result.recommendations or result.conditional_options, example.name
    for rec in result.recommendations:
        assert rec.citations
    for item in result.conditional_options:
        assert item.citations and item.option.citations
