"""Derivation chains: facts -> rule (citation) -> mechanism -> rule -> option.

Built from a :class:`~regimen.result.Result` alone, so an explanation always
matches the report it explains.
"""

from __future__ import annotations

from .errors import InputError
from .models import Model
from .report import cite_text
from .result import Result


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


def _rule_steps(result: Result, derived: str) -> list[Step]:
    steps = []
    citations = _citations_by_rule(result)
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


def _citations_by_rule(result: Result) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for m in result.mechanisms:
        if len(m.rules) == 1:
            out[m.rules[0]] = [cite_text(c.model_dump()) for c in m.citations]
    for r in result.recommendations:
        if len(r.rules) == 1:
            out[r.rules[0]] = [cite_text(c.model_dump()) for c in r.citations]
    for a in result.avoid:
        out[a.id] = [cite_text(c.model_dump()) for c in a.citations]
    for t in result.suggested_tests:
        out[t.id] = [cite_text(c.model_dump()) for c in t.citations]
    return out


def _mechanism_steps(result: Result, because: list[str]) -> list[Step]:
    steps: list[Step] = []
    for line in because:
        if line.startswith("mechanism "):
            mid = line.split()[1]
            steps += _rule_steps(result, f"mechanism:{mid}")
    return steps


def explain(result: Result, item_id: str | None = None, *,
            citations: dict[str, list[str]] | None = None) -> list[Explanation]:
    """Explanations for one id (recommendation, dropped option, avoid, caution, test,
    mechanism) or, with no id, for every recommendation, avoid and caution."""
    out: list[Explanation] = []
    for rec in result.recommendations:
        if item_id in (None, rec.id):
            steps = _rule_steps(result, f"option:{rec.id}")
            chain = [s for step in steps for s in _mechanism_steps(result, step.because)]
            out.append(Explanation(
                id=rec.id, kind="recommendation", title=rec.label,
                outcome=f"ranked {rec.rank} with score {rec.score:g}",
                steps=_fill(chain + steps, citations)))
    for dropped in result.dropped:
        if item_id == dropped.id:
            steps = _rule_steps(result, f"option:{dropped.id}")
            chain = [s for step in steps for s in _mechanism_steps(result, step.because)]
            out.append(Explanation(id=dropped.id, kind="dropped", title=dropped.label,
                                   outcome=f"considered and dropped: {dropped.reason}",
                                   steps=_fill(chain + steps, citations)))
    for avoid in result.avoid:
        if item_id in (None, avoid.id):
            steps = _rule_steps(result, f"avoid:{avoid.id}")
            chain = [s for step in steps for s in _mechanism_steps(result, step.because)]
            out.append(Explanation(id=avoid.id, kind="avoid",
                                   title=f"avoid {', '.join(avoid.agents)}",
                                   outcome=avoid.reason, steps=_fill(chain + steps, citations)))
    for caution in result.cautions:
        if item_id in (None, caution.id):
            steps = _rule_steps(result, f"caution:{caution.id}")
            chain = [s for step in steps for s in _mechanism_steps(result, step.because)]
            out.append(Explanation(id=caution.id, kind="caution", title=caution.text,
                                   outcome="caution shown", steps=_fill(chain + steps, citations)))
    if item_id is not None:
        for test in result.suggested_tests:
            if item_id == test.id:
                out.append(Explanation(id=test.id, kind="test", title=test.test, outcome=test.why,
                                       steps=_fill(_rule_steps(result, f"test:{test.id}"),
                                                   citations)))
        for mech in result.mechanisms:
            if item_id == mech.id:
                out.append(Explanation(id=mech.id, kind="mechanism", title=mech.label,
                                       outcome=f"active, confidence {mech.confidence}",
                                       steps=_fill(_rule_steps(result, f"mechanism:{mech.id}"),
                                                   citations)))
        if not out:
            known = sorted({r.id for r in result.recommendations} | {d.id for d in result.dropped}
                           | {a.id for a in result.avoid} | {c.id for c in result.cautions}
                           | {t.id for t in result.suggested_tests}
                           | {m.id for m in result.mechanisms})
            raise InputError(f"nothing called {item_id!r} in this evaluation", field="ID",
                             hint=f"known ids: {', '.join(known) or 'none'}")
    return out


def _fill(steps: list[Step], citations: dict[str, list[str]] | None) -> list[Step]:
    if not citations:
        return steps
    return [s if s.sources else s.model_copy(update={"sources": citations.get(s.rule, [])})
            for s in steps]
