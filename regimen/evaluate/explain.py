"""Derivation chains: facts -> rule (citation) -> mechanism -> rule -> option.

Built from a :class:`~regimen.result.Result` alone, so an explanation always
matches the report it explains.
"""

from __future__ import annotations

import difflib

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
    kind: str  # recommendation, dropped, avoid, caution, test, mechanism, preference
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

    ``citations`` maps each rule id to its citations as text. Ids match case-insensitively;
    an unknown id is an :class:`InputError` naming the closest known ids."""
    wanted = item_id.strip().casefold() if item_id is not None else None

    def chosen(candidate: str, everything: bool = True) -> bool:
        if wanted is None:
            return everything
        return candidate.casefold() == wanted

    def chain(derived: str) -> list[Step]:
        steps = _rule_steps(result, derived, citations)
        return [s for step in steps for s in _mechanism_steps(result, step.because, citations)
                ] + steps

    out: list[Explanation] = []
    for rec in result.recommendations:
        if chosen(rec.id):
            outcome = f"ranked {rec.rank} with score {rec.score:g}"
            steps = chain(f"option:{rec.id}")
            if rec.preferred:
                outcome += (f", first among the standard options by {', '.join(rec.preferred)}"
                            " (the order is the preference's, not the score's)")
                steps += [s for pid in rec.preferred
                          for s in _rule_steps(result, f"preference:{pid}", citations)]
            out.append(Explanation(id=rec.id, kind="recommendation", title=rec.label,
                                   outcome=outcome, steps=steps))
    for dropped in result.dropped:
        if chosen(dropped.id, everything=False):
            out.append(Explanation(id=dropped.id, kind="dropped", title=dropped.label,
                                   outcome=f"considered and dropped: {dropped.reason}",
                                   steps=chain(f"option:{dropped.id}")))
    for avoid in result.avoid:
        if chosen(avoid.id):
            out.append(Explanation(id=avoid.id, kind="avoid",
                                   title=f"avoid {', '.join(avoid.agents)}",
                                   outcome=avoid.reason, steps=chain(f"avoid:{avoid.id}")))
    for caution in result.cautions:
        if chosen(caution.id):
            out.append(Explanation(id=caution.id, kind="caution", title=caution.text,
                                   outcome="caution shown", steps=chain(f"caution:{caution.id}")))
    if item_id is not None:
        for pref in result.preferences:
            if chosen(pref.id):
                out.append(Explanation(id=pref.id, kind="preference", title=pref.text,
                                       outcome="standard options holding "
                                               f"{', '.join(pref.agent_names)} rank first",
                                       steps=_rule_steps(result, f"preference:{pref.id}",
                                                         citations)))
        for test in result.suggested_tests:
            if chosen(test.id):
                out.append(Explanation(id=test.id, kind="test", title=test.test, outcome=test.why,
                                       steps=_rule_steps(result, f"test:{test.id}",
                                                         citations)))
        for mech in result.mechanisms:
            if chosen(mech.id):
                out.append(Explanation(id=mech.id, kind="mechanism", title=mech.label,
                                       outcome=f"active, confidence {mech.confidence}",
                                       steps=_rule_steps(result, f"mechanism:{mech.id}",
                                                         citations)))
        if not out:
            known = sorted({r.id for r in result.recommendations} | {d.id for d in result.dropped}
                           | {a.id for a in result.avoid} | {c.id for c in result.cautions}
                           | {t.id for t in result.suggested_tests}
                           | {p.id for p in result.preferences}
                           | {m.id for m in result.mechanisms})
            raise InputError(f"nothing called {item_id!r} in this evaluation", field="ID",
                             hint=_closest_hint(item_id, known))
    return out


def _closest_hint(item_id: str, known: list[str]) -> str:
    """The few known ids closest to a mistyped one, never the whole list."""
    by_key = {k.casefold(): k for k in known}
    close = difflib.get_close_matches(item_id.strip().casefold(), list(by_key), n=5, cutoff=0.5)
    where = "the txt report prints each option's id; with no ID every item is explained"
    if close:
        return f"closest: {', '.join(by_key[c] for c in close)}; {where}"
    return where if known else "this evaluation has no recommendation, avoid, caution or test"
