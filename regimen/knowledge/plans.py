"""Assessment plans: the order in which a rule's conditions are assessed for a profile.

A conditional option (:mod:`regimen.evaluate.conditional`) is found by assessing
rules that did not fire, condition by condition, until one is contradicted. The
order changes nothing but the time, so it is fixed per rule: conditions on the
patient's history first (a profile always settles them, so they are the ones that
most often contradict), then the other conditions on facts, then those on derived
mechanisms or options (directly or inside ``not``/``any``), in rule order within each
group. Equal conditions of different rules share a key, so a profile assesses each
once.

A pure function of the rules, computed once per knowledge base and kept with it in the
knowledge-base cache (:meth:`regimen.knowledge.base.KnowledgeBase.plans`).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from .conditions import Condition, ConditionKind, walk_conditions
from .language import Rule

Plan = tuple[tuple[int, int, ConditionKind], ...]
"""A rule's conditions as (position in ``when``, condition key, kind), in the order they
are assessed."""

HISTORY = ("tumour", "therapy", "ctdna", "condition")
"""Condition kinds a profile always settles (see ConditionKind.assess)."""


def assessment_plans(rules: Iterable[Rule],
                     as_json: Callable[[str, int, Condition], dict[str, Any]],
                     ) -> dict[str, Plan]:
    """Rule id -> its assessment plan. ``as_json`` gives condition ``i`` of a rule as JSON
    data: equal data, equal key."""
    keys: dict[str, int] = {}
    plans: dict[str, Plan] = {}
    for rule in rules:
        steps = sorted(
            ((_cost(c), i,
              keys.setdefault(json.dumps(as_json(rule.id, i, c), sort_keys=True), len(keys)),
              c.spec)
             for i, c in enumerate(rule.when)), key=lambda step: step[:2])
        plans[rule.id] = tuple((i, key, spec) for _, i, key, spec in steps)
    return plans


def on_derived(cond: Condition) -> bool:
    """Whether ``cond`` is on a derived mechanism or option, directly or inside
    ``not``/``any``."""
    return any(c.kind in ("mechanism", "option") for c in walk_conditions([cond]))


def _cost(cond: Condition) -> int:
    if on_derived(cond):
        return 2
    return 0 if cond.kind in HISTORY else 1
