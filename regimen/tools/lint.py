"""Cross-reference checks of a knowledge base (``regimen knowledge lint``).

Schema problems are caught when the files load; this module checks what one
file cannot see on its own: citations against the sources' reference lists
and sections, every name against the vocabularies, mechanisms that nothing
derives or addresses, options that can never fire, and rules that recommend
what another rule avoids under the same conditions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from ..knowledge.base import KnowledgeBase
from ..knowledge.conditions import Condition, walk_conditions
from ..knowledge.language import APPROVAL_REGIONS, Citation, Rule
from ..models import Model


def _unknown(values: list[str] | None, allowed: set[str] | tuple[str, ...]) -> list[str]:
    return sorted(v for v in (values or []) if v not in allowed)


class Problem(Model):
    level: str  # "error" or "warning"
    file: str
    rule: str | None
    message: str

    def render(self) -> str:
        where = f"{self.file}" + (f": {self.rule}" if self.rule else "")
        return f"{self.level}: {where}: {self.message}"


@dataclass
class _Ctx:
    kb: KnowledgeBase

    def file_of(self, rule: Rule) -> str:
        name = self.kb.rule_files[rule.id]
        return name if "/" in name else f"rules/{name}"


def cross_references(kb: KnowledgeBase) -> list[Problem]:
    """The name and cross-reference errors only (fast; run when a directory is loaded).

    Sources, agents, citations, and every gene, agent, mechanism, tumour code and
    term a rule names; not completeness (unused mechanisms) or rule firing.
    """
    ctx = _Ctx(kb)
    citations, names = _rule_checks(ctx)
    problems = [*_check_sources(kb), *_check_agents(kb), *citations, *names]
    errors = [p for p in problems if p.level == "error"]
    return sorted(errors, key=lambda p: (p.file, p.rule or "", p.message))


def _rule_checks(ctx: _Ctx) -> tuple[list[Problem], list[Problem]]:
    """Every rule's citation problems, and the names its conditions and outcome give that do
    not resolve."""
    citations: list[Problem] = []
    names: list[Problem] = []
    for rule in ctx.kb.rules:
        for cite in rule.cite:
            citations += _check_citation(ctx, rule, cite)
        for cond in walk_conditions(rule.when):
            names += _check_condition(ctx, rule, cond)
        names += _check_then(ctx, rule)
    return citations, names


def lint(kb: KnowledgeBase, *, fire: bool = True,
         progress: Callable[[int, int], None] | None = None) -> list[Problem]:
    """All problems, errors first; ``fire=False`` skips the engine-based checks.

    ``progress(done, total)`` is called as rules are fired on their fixtures.
    """
    ctx = _Ctx(kb)
    citations, names = _rule_checks(ctx)  # unresolved names: fixtures cannot be built
    problems: list[Problem] = [*_check_sources(kb), *_check_agents(kb), *citations]
    problems += names
    problems += _check_mechanisms(kb)
    problems += _check_option_consistency(ctx)
    if fire and not any(p.level == "error" for p in names):
        problems += _check_firing(ctx, progress)
    return sorted(problems, key=lambda p: (p.level != "error", p.file, p.rule or "", p.message))


IDENTIFIER_FORMATS = {
    "nct": (re.compile(r"^NCT\d{8}$"), "NCT followed by 8 digits"),
    "doi": (re.compile(r"^10\.\d{4,9}/\S+$"), "10.<registrant>/<suffix>"),
    "pmid": (re.compile(r"^[1-9]\d{0,8}$"), "digits only"),
}
"""Identifier -> (pattern, what it should look like)."""


def _check_sources(kb: KnowledgeBase) -> Iterator[Problem]:
    for source in kb.sources.values():
        file = "sources.yaml" if source.is_review else "standard/sources.yaml"
        for field, (pattern, shape) in IDENTIFIER_FORMATS.items():
            value = getattr(source, field)
            if value is not None and not pattern.match(value):
                yield Problem(level="error", file=file, rule=None,
                              message=f"{source.key}: {field} {value!r} is malformed "
                                      f"(expected {shape})")
        if not source.is_review and not source.verified:
            yield Problem(level="error", file=file, rule=None,
                          message=f"{source.key}: a {source.kind} source needs 'verified' "
                                  "(what was checked and where)")
        if source.has_reference_list and source.max_ref is not None:
            missing = [n for n in range(1, source.max_ref + 1) if n not in source.references]
            if missing:
                yield Problem(level="error", file="sources.yaml", rule=None,
                              message=f"{source.key}: reference list lacks {missing[:10]}")


def _check_agents(kb: KnowledgeBase) -> Iterator[Problem]:
    for agent in kb.agents.values():
        for klass in agent.classes:
            if klass not in kb.agents:
                yield Problem(level="error", file="agents.yaml", rule=None,
                              message=f"agent {agent.id!r} names unknown class {klass!r}")
            elif kb.agents[klass].kind not in ("class", "target"):
                yield Problem(level="error", file="agents.yaml", rule=None,
                              message=f"agent {agent.id!r}: {klass!r} is not a class")
        if agent.formulation_of is not None and agent.formulation_of not in kb.agents:
            yield Problem(level="error", file="agents.yaml", rule=None,
                          message=f"agent {agent.id!r} is a formulation of unknown agent "
                                  f"{agent.formulation_of!r}")
        for gene in agent.targets:
            if gene not in kb.vocabulary.genes and gene not in kb.vocabulary.other_genes:
                yield Problem(level="warning", file="agents.yaml", rule=None,
                              message=f"agent {agent.id!r} targets {gene!r}, not in vocabulary")


def _check_citation(ctx: _Ctx, rule: Rule, cite: Citation) -> Iterator[Problem]:
    kb = ctx.kb
    file = ctx.file_of(rule)
    source = kb.sources.get(cite.source)
    if source is None:
        yield Problem(level="error", file=file, rule=rule.id,
                      message=f"cites unknown source {cite.source!r} "
                              f"(known: {', '.join(sorted(kb.sources))})")
        return
    if not source.is_review:
        # Trials, approvals and guidelines are cited by name: no reference numbers, free `where`.
        if cite.refs:
            yield Problem(level="error", file=file, rule=rule.id,
                          message=f"cites {cite.source} with reference numbers; a "
                                  f"{source.kind} source has none")
        return
    assert source.max_ref is not None
    for ref in cite.refs:
        if ref < 1 or ref > source.max_ref or (
                source.has_reference_list and ref not in source.references):
            yield Problem(level="error", file=file, rule=rule.id,
                          message=f"cites reference {ref}, which {cite.source} does not have "
                                  f"(1-{source.max_ref})")
    known = source.locator_ids()
    for locator in cite.locators:
        if locator not in known:
            yield Problem(level="error", file=file, rule=rule.id,
                          message=f"cites {cite.source} at {locator!r}, which is not a section "
                                  "or table row of that source (see sources.yaml)")
    if not cite.refs:
        yield Problem(level="warning", file=file, rule=rule.id,
                      message=f"cites {cite.source} {cite.where} without reference numbers "
                              "(the review cites none for this statement)")


def _check_condition(ctx: _Ctx, rule: Rule, cond: Condition) -> Iterator[Problem]:
    """The condition kind's own checks: where it may be used, and every name it uses."""
    file = ctx.file_of(rule)
    errors, checks = cond.spec.check(ctx.kb, rule.stage)
    for message in errors:
        yield Problem(level="error", file=file, rule=rule.id, message=message)
    for what, bad in checks:
        if bad:
            yield Problem(level="error", file=file, rule=rule.id,
                          message=f"unknown {what}: {', '.join(bad)} "
                                  "(add it to the vocabulary or fix it)")


def _check_then(ctx: _Ctx, rule: Rule) -> Iterator[Problem]:
    kb = ctx.kb
    file = ctx.file_of(rule)
    then = rule.then
    agents = set(kb.agents)

    def err(message: str) -> Problem:
        return Problem(level="error", file=file, rule=rule.id, message=message)

    cites_standard = any(c.source in kb.sources and not kb.sources[c.source].is_review
                         for c in rule.cite)
    if (cites_standard or ctx.file_of(rule).startswith("standard/")) and not rule.verified:
        yield err("a rule citing a trial, approval or guideline needs 'verified' (what was "
                  "checked and where)")
    if then.mechanism is not None and then.mechanism not in kb.mechanisms:
        yield err(f"derives unknown mechanism {then.mechanism!r} (add it to mechanisms.yaml)")
    bad = _unknown(then.blunts, agents)
    if bad:
        yield err(f"mechanism rule blunts unknown agents: {', '.join(bad)}")
    if then.option is not None:
        spec = then.option
        for what, values in (("agent", spec.agents), ("backbone agent", spec.backbone),
                             ("rechallenge agent", spec.rechallenge),
                             ("not_after agent or class", spec.not_after)):
            bad = _unknown(values, agents)
            if bad:
                yield err(f"option names unknown {what}: {', '.join(bad)}")
        if not set(spec.backbone) <= set(spec.agents):
            yield err("option backbone agents must also be listed in agents")
        if not set(spec.rechallenge) <= set(spec.agents):
            yield err("option rechallenge agents must also be listed in agents")
        bad = [c for c in spec.studied_in if not kb.vocabulary.is_tumour_code(c)]
        if bad:
            yield err(f"option studied_in has unknown tumour codes: {', '.join(bad)}")
        bad = _unknown([a.region for a in spec.approvals], APPROVAL_REGIONS)
        if bad:
            yield err(f"approval region {', '.join(bad)} is not one of "
                      f"{', '.join(APPROVAL_REGIONS)}")
        if cites_standard and spec.tier is None:
            yield err("a standard-of-care option needs 'tier' (standard or trial)")
        if not cites_standard and (spec.tier or spec.approvals or spec.setting
                                   or spec.not_after):
            yield err("only options citing a trial, approval or guideline give tier, setting "
                      "approvals or not_after (review options take their tier from their evidence)")
    if then.avoid is not None:
        bad = _unknown(then.avoid.agents, agents)
        if bad:
            yield err(f"avoid names unknown agents: {', '.join(bad)}")
        bad = _unknown(then.avoid.except_with, agents)
        if bad:
            yield err(f"avoid except_with names unknown agents: {', '.join(bad)}")
    if then.caution is not None:
        bad = _unknown(then.caution.applies_to, agents)
        bad += _unknown([a for g in then.caution.applies_when_all for a in g], agents)
        if bad:
            yield err(f"caution applies to unknown agents: {', '.join(bad)}")
    if then.preference is not None:
        bad = _unknown(then.preference.agents, agents)
        if bad:
            yield err(f"preference names unknown agents: {', '.join(bad)}")
        if not cites_standard:
            yield err("a preference orders standard options: it must cite a trial, approval or "
                      "guideline (standard/sources.yaml)")


def _check_mechanisms(kb: KnowledgeBase) -> Iterator[Problem]:
    derived = {r.then.mechanism for r in kb.rules if r.stage == "mechanism"}
    addressed: set[str] = set()
    for rule in kb.rules:
        if rule.stage == "option":
            for cond in walk_conditions(rule.when):
                if cond.mechanism is not None:
                    addressed.update(cond.mechanism.any_of)
    for mechanism in kb.mechanisms.values():
        bad = _unknown(mechanism.blunts, set(kb.agents))
        if bad:
            yield Problem(level="error", file="mechanisms.yaml", rule=None,
                          message=f"mechanism {mechanism.id!r} blunts unknown agents: "
                                  f"{', '.join(bad)}")
        if mechanism.id not in derived and mechanism.id not in addressed:
            yield Problem(level="error", file="mechanisms.yaml", rule=None,
                          message=f"mechanism {mechanism.id!r} is neither derived by a rule nor "
                                  "addressed by an option (remove it or add the rule)")
        elif mechanism.id not in derived:
            yield Problem(level="error", file="mechanisms.yaml", rule=None,
                          message=f"mechanism {mechanism.id!r} is addressed by an option but no "
                                  "rule derives it, so that option can never fire")
        elif mechanism.id not in addressed:
            yield Problem(level="warning", file="mechanisms.yaml", rule=None,
                          message=f"mechanism {mechanism.id!r} has no mechanism-targeted option "
                                  "(the sources name none)")


def _check_option_consistency(ctx: _Ctx) -> Iterator[Problem]:
    by_id: dict[str, list[Rule]] = {}
    for rule in ctx.kb.rules:
        if rule.stage == "option":
            by_id.setdefault(rule.option_id, []).append(rule)
    for option_id, rules in sorted(by_id.items()):
        specs = {(r.then.option.label, tuple(r.then.option.agents),  # type: ignore[union-attr]
                  r.then.option.evidence, tuple(r.then.option.studied_in))  # type: ignore[union-attr]
                 for r in rules}
        if len(specs) > 1:
            yield Problem(level="error", file=ctx.file_of(rules[0]), rule=rules[0].id,
                          message=f"option id {option_id!r} is proposed by "
                                  f"{', '.join(r.id for r in rules)} with different label, "
                                  "agents, evidence or studied_in; give them one definition")


def _check_firing(ctx: _Ctx,
                  progress: Callable[[int, int], None] | None = None) -> Iterator[Problem]:
    """Build each rule's fixture profile and check that the rule fires on it."""
    from ..api import Recommender
    from ..errors import InputError
    from .witness import WitnessBuilder

    kb = ctx.kb
    recommender = Recommender(kb)
    builder = WitnessBuilder(kb)
    ordered = sorted(kb.rules, key=lambda r: r.id)
    for done, rule in enumerate(ordered, start=1):
        if progress is not None:
            progress(done, len(ordered))
        fixture = builder.for_rule(rule)
        try:
            result = recommender.evaluate(fixture)
        except InputError as exc:
            yield Problem(level="error", file=ctx.file_of(rule), rule=rule.id,
                          message=f"cannot build a profile that satisfies this rule: {exc}")
            continue
        if not any(t.rule == rule.id for t in result.trace):
            yield Problem(level="error", file=ctx.file_of(rule), rule=rule.id,
                          message="never fires on a profile built from its own conditions "
                                  "(contradictory conditions, or a derived fact no rule makes)")
            continue
        if rule.stage == "option":
            dropped = [d for d in result.dropped if d.id == rule.option_id]
            if dropped and "avoid" in dropped[0].reason:
                yield Problem(level="error", file=ctx.file_of(rule), rule=rule.id,
                              message="recommends an agent that another rule avoids under the "
                                      f"same conditions: {dropped[0].reason}")
