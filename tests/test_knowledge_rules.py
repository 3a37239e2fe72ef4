"""Every rule fires on a profile built from its own conditions."""

from __future__ import annotations

import pytest

from regimen import load_knowledge
from regimen.tools.witness import WitnessBuilder

KB = load_knowledge()
BUILDER = WitnessBuilder(KB)


@pytest.mark.parametrize("rule_id", sorted(KB.rules_by_id))
def test_rule_fires_on_its_fixture(recommender, rule_id: str) -> None:
    rule = KB.rules_by_id[rule_id]
    result = recommender.evaluate(BUILDER.for_rule(rule))
    assert rule_id in {t.rule for t in result.trace}
    if rule.stage == "option":
        listed = {r.id for r in result.recommendations} | {d.id for d in result.dropped}
        assert rule.option_id in listed
    if rule.stage == "mechanism":
        assert rule.then.mechanism in {m.id for m in result.mechanisms}
