"""Derivation chains: facts -> rule (citation) -> mechanism -> rule -> option.

Built from a :class:`~regimen.result.Result` alone, so an explanation always
matches the report it explains.
"""

from __future__ import annotations

from ..errors import InputError
from ..models import Model
from ..result import Result


class Step(Model):
    rule: str
    stage: str
    because: list[str]
    derived: str
    sources: list[str]


class Explanation(Model):
    id: str
    kind: str  # recommendation, dropped, avoid, caution, test, mechanism
    title: str
    outcome: str
    steps: list[Step]


def _rule_steps(result: Result, derived: str,
                citations: dict[str, list[str]]) -> list[Step]:
    steps = []
    for entry in result.trace:
        if entry.derived == derived:
            steps.append(Step(rule=entry.rule, stage=entry.stage, because=entry.matched,
                              derived=derived, sources=citations.get(entry.rule, [])))
    merged: dict[str, Step] = {}
    for step in steps:
        if step.rule in merged:
            old = merged[step.rule]
            merged[step.rule] = old.model_copy(
                update={"because": sorted(set(old.because) | set(step.because))})
        else:
            merged[step.rule] = step
    return [merged[k] for k in sorted(merged)]


def _mechanism_steps(result: Result, because: list[str],
                     citations: dict[str, list[str]]) -> list[Step]:
    steps: list[Step] = []
    for line in because:
        if line.startswith("mechanism "):
            mid = line.split()[1]
            steps += _rule_steps(result, f"mechanism:{mid}", citations)
    return steps


def explain(result: Result, item_id: str | None,
            citations: dict[str, list[str]]) -> list[Explanation]:
    """Explanations for one id (recommendation, dropped option, avoid, caution, test,
    mechanism) or, with no id, for every recommendation, avoid and caution.

    ``citations`` maps each rule id to its citations as text."""

    def chain(derived: str) -> list[Step]:
        steps = _rule_steps(result, derived, citations)
        return [s for step in steps for s in _mechanism_steps(result, step.because, citations)
                ] + steps

    out: list[Explanation] = []
    for rec in result.recommendations:
        if item_id in (None, rec.id):
            out.append(Explanation(
                id=rec.id, kind="recommendation", title=rec.label,
                outcome=f"ranked {rec.rank} with score {rec.score:g}",
                steps=chain(f"option:{rec.id}")))
    for dropped in result.dropped:
        if item_id == dropped.id:
            out.append(Explanation(id=dropped.id, kind="dropped", title=dropped.label,
                                   outcome=f"considered and dropped: {dropped.reason}",
                                   steps=chain(f"option:{dropped.id}")))
    for avoid in result.avoid:
        if item_id in (None, avoid.id):
            out.append(Explanation(id=avoid.id, kind="avoid",
                                   title=f"avoid {', '.join(avoid.agents)}",
                                   outcome=avoid.reason, steps=chain(f"avoid:{avoid.id}")))
    for caution in result.cautions:
        if item_id in (None, caution.id):
            out.append(Explanation(id=caution.id, kind="caution", title=caution.text,
                                   outcome="caution shown", steps=chain(f"caution:{caution.id}")))
    if item_id is not None:
        for test in result.suggested_tests:
            if item_id == test.id:
                out.append(Explanation(id=test.id, kind="test", title=test.test, outcome=test.why,
                                       steps=_rule_steps(result, f"test:{test.id}",
                                                         citations)))
        for mech in result.mechanisms:
            if item_id == mech.id:
                out.append(Explanation(id=mech.id, kind="mechanism", title=mech.label,
                                       outcome=f"active, confidence {mech.confidence}",
                                       steps=_rule_steps(result, f"mechanism:{mech.id}",
                                                         citations)))
        if not out:
            known = sorted({r.id for r in result.recommendations} | {d.id for d in result.dropped}
                           | {a.id for a in result.avoid} | {c.id for c in result.cautions}
                           | {t.id for t in result.suggested_tests}
                           | {m.id for m in result.mechanisms})
            raise InputError(f"nothing called {item_id!r} in this evaluation", field="ID",
                             hint=f"known ids: {', '.join(known) or 'none'}")
    return out

