"""How the engine step scales: experta's matchers against regimen's, with CLIPS as a yardstick.

Run from the repository root:

    python benchmarks/engine_scaling.py              # 30 timed runs per figure
    python benchmarks/engine_scaling.py --runs 10 --skip-clips

Prints, for the matcher the engine shipped with before (experta's RETE with
dirty-terminal polling) and the one it ships with now (hashed alpha dispatch):

* warm ``evaluate(path).to_dict()`` median per example and the engine step alone;
* the engine step with the knowledge base x16: 15 renamed copies that all fire
  (each copy derives its own mechanisms and options, so it is an independent
  knowledge base that fires exactly as the original does) and 15 that never fire
  (each copy first asks for a mechanism nothing derives), as a ratio per profile
  against x1, and, for copies that all fire, what one firing costs at x1 and at x16 (the
  engine step over the examples divided by the firings);
* a profile with 500 alterations, mostly of genes no rule names;
* with ``clipspy`` installed, the same rules translated to CLIPS deftemplates and
  defrules, run on the same facts: the engine step, the warm pipeline with the
  engine step replaced by CLIPS, and CLIPS's own x16 ratios on the same copies.
  Every CLIPS run is checked against experta: the rules fired, with how many
  times each fired, must be the same for every profile, or the benchmark prints a
  MISMATCH line naming the rules (a yardstick that fires fewer rules is no
  yardstick). Skipped with a message when clipspy is absent.

Times are CPU time of this process (``time.process_time``), medians, on a shared
machine: read the ratios more than the absolutes.
"""

from __future__ import annotations

import argparse
import collections
import platform
import statistics
import threading
import time
from collections.abc import Callable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

from regimen import Recommender, load_knowledge
from regimen.engine.base import FactRecord
from regimen.engine.experta._compat import experta
from regimen.engine.experta.compile import SALIENCE, compile_condition, compile_rules, fact_class
from regimen.engine.experta.engine import Engine, _BaseEngine, _DirtyTrackingMatcher
from regimen.engine.experta.fastrete import INDEX_ATTRIBUTE, SIGNATURE_ATTRIBUTE, FastMatcher
from regimen.evaluate.ctdna import derive_events
from regimen.evaluate.facts import profile_facts
from regimen.knowledge.base import KnowledgeBase
from regimen.knowledge.language import Rule
from regimen.models import STAGES

ROOT = Path(__file__).resolve().parent.parent
DERIVED_KINDS = tuple(stage.capitalize() for stage in STAGES)
"""The fact kinds the rules' firings produce, one per rule stage (``Mechanism``, ...)."""
FACT_KINDS = ("Tumour", "Alteration", "Expression", "Biomarker", "Tme", "Microbe", "Therapy",
              "Ctdna", "Sensitivity", "Clinical", *DERIVED_KINDS)
"""The fact kinds :func:`regimen.evaluate.facts.profile_facts` and the rules' firings produce."""


# ---------------------------------------------------------------- knowledge x N
def _renamed(value: str, n: int) -> str:
    return f"{value}-copy{n}"


def _rename_conditions(conditions: list[dict[str, Any]], n: int) -> list[dict[str, Any]]:
    out = []
    for cond in conditions:
        cond = dict(cond)
        for kind in ("mechanism", "option"):
            if kind in cond:
                cond[kind] = {"any_of": [_renamed(v, n) for v in cond[kind]["any_of"]]}
        if "not" in cond:
            cond["not"] = _rename_conditions([cond["not"]], n)[0]
        if "any" in cond:
            cond["any"] = _rename_conditions(cond["any"], n)
        out.append(cond)
    return out


def copy_rule(rule: Rule, n: int, *, fire: bool) -> Rule:
    """Rule ``rule`` as the ``n``-th copy: its own id, mechanisms and options.

    ``fire=False`` puts a condition on a mechanism no rule derives first, so
    the copy is matched but never fires.
    """
    data = rule.model_dump(by_alias=True, exclude_none=True)
    data["id"] = _renamed(rule.id, n)
    data["when"] = _rename_conditions(data["when"], n)
    if not fire:
        data["when"].insert(0, {"mechanism": {"any_of": [f"never-derived-{n}"]}})
    then = data["then"]
    if "mechanism" in then:
        then["mechanism"] = _renamed(then["mechanism"], n)
    if "option" in then and then["option"].get("id"):
        then["option"]["id"] = _renamed(then["option"]["id"], n)
    return Rule.model_validate(data)


def multiplied(kb: KnowledgeBase, firing: int, silent: int = 0) -> KnowledgeBase:
    """``kb`` plus ``firing`` renamed copies of every rule that fire, ``silent`` that never do."""
    rules = list(kb.rules)
    for n in range(1, firing + silent + 1):
        rules.extend(copy_rule(rule, n, fire=n <= firing) for rule in kb.rules)
    return KnowledgeBase(
        root=kb.root, manifest=kb.manifest, sources=kb.sources, vocabulary=kb.vocabulary,
        agents=kb.agents, mechanisms=kb.mechanisms, rules=rules, rule_files=kb.rule_files,
        exclusions=kb.exclusions, digest=kb.digest, standard_as_of=kb.standard_as_of)


# ---------------------------------------------------------------- engines
def engine_with(kb: KnowledgeBase, matcher: Any, *, experta_run: bool = False) -> Engine:
    """An experta-backend :class:`Engine` for ``kb`` whose experta engine uses ``matcher``.

    It runs regimen's :class:`FactRecord` s like the shipped engine (converted to
    experta facts inside the backend). ``experta_run=True`` also restores
    experta's own ``run``/``get_deffacts`` (with their logging and member
    scans) and its memoising depth strategy, i.e. the engine as it was before.
    """
    members = compile_rules(kb)
    members["rules_by_id"] = dict(kb.rules_by_id)
    members["__matcher__"] = matcher
    if experta_run:
        members["run"] = experta.KnowledgeEngine.run
        members["get_deffacts"] = experta.KnowledgeEngine.get_deffacts
        members["__strategy__"] = experta.strategies.DepthStrategy
    engine = object.__new__(Engine)
    engine.kb = kb
    engine._lock = threading.Lock()
    engine._engine = type("CompiledKnowledgeEngine", (_BaseEngine,), members)()
    return engine


def before(kb: KnowledgeBase) -> Engine:
    return engine_with(kb, _DirtyTrackingMatcher, experta_run=True)


def after(kb: KnowledgeBase) -> Engine:
    return engine_with(kb, FastMatcher)


def facts_of(rec: Recommender, path: Path | dict[str, Any]) -> list[FactRecord]:
    model = rec.load(path)
    events = derive_events(model.ctdna, model.therapies, model.settings.ctdna)
    return list(profile_facts(model, rec.kb, events))


def median_ms(work: Callable[[], object], runs: int) -> float:
    """Median CPU milliseconds of ``work`` over ``runs`` runs, after one warm-up run."""
    work()  # warm-up
    times = []
    for _ in range(runs):
        start = time.process_time()
        work()
        times.append((time.process_time() - start) * 1000)
    return statistics.median(times)


def fired_counts(engine: Engine, facts: list[FactRecord]) -> collections.Counter[str]:
    """Rule id -> how many times it fired on ``facts`` (experta)."""
    return collections.Counter(firing.rule for firing in engine.run(facts))


def mismatch(experta_fired: collections.Counter[str],
             clips_fired: collections.Counter[str]) -> str | None:
    """What CLIPS fired differently from experta, or None when the two agree."""
    if experta_fired == clips_fired:
        return None
    only_experta = sorted((experta_fired - clips_fired).items())
    only_clips = sorted((clips_fired - experta_fired).items())
    return (f"experta fired {sum(experta_fired.values())}, CLIPS {sum(clips_fired.values())}; "
            f"missing in CLIPS: {only_experta or 'none'}; extra in CLIPS: {only_clips or 'none'}")


# ---------------------------------------------------------------- CLIPS yardstick
class ClipsEngine:
    """The compiled rules as CLIPS defrules over the same facts (engine step only)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        import clips  # optional: pip install clipspy

        self.clips = clips
        self.env = clips.Environment()
        self.kb = kb
        self.fired: list[str] = []
        classes = [fact_class(kind) for kind in FACT_KINDS]
        self.slots: dict[str, list[str]] = {}
        self.multi = _multislots(kb)
        self.templates: dict[str, Any] = {}
        for klass in classes:
            fields = sorted(_fact_fields(klass, kb))
            self.slots[klass.__name__] = fields
            self.env.build(f"(deftemplate {klass.__name__} " + " ".join(
                f"({'multislot' if (klass.__name__, f) in self.multi else 'slot'} {f})"
                for f in fields) + ")")
        self.env.define_function(self._fire, "regimen-fire")
        self.env.build("(deffunction any-in (?values ?wanted) "
                       "(foreach ?v ?values (if (member$ ?v ?wanted) then (return TRUE))) "
                       "(return FALSE))")
        for rule in kb.rules:
            self.env.build(_defrule(rule, self.multi))

    def _fire(self, rule_id: str) -> None:
        from regimen.engine.experta.engine import _derived_fact

        self.fired.append(rule_id)
        self.assert_fact(_derived_fact(self.kb.rules_by_id[rule_id]))

    def assert_fact(self, fact: FactRecord) -> None:
        name = fact.kind
        values = fact.as_dict()
        template = self.templates.get(name)
        if template is None:
            template = self.templates[name] = self.env.find_template(name)
        slots = {}
        for key in self.slots[name]:
            if key not in values:
                continue
            value = values[key]
            if (name, key) in self.multi:
                items = value if isinstance(value, tuple) else (value,)
                slots[key] = [_value(self.clips, v) for v in items]
            else:
                assert not isinstance(value, tuple), f"{name}.{key} holds a tuple"
                slots[key] = _value(self.clips, value)
        template.assert_fact(**slots)

    def run(self, facts: Iterable[FactRecord]) -> list[str]:
        self.env.reset()
        self.fired = []
        for fact in facts:
            self.assert_fact(fact)
        self.env.run()
        return self.fired

    def fired_counts(self, facts: list[FactRecord]) -> collections.Counter[str]:
        """Rule id -> how many times it fired on ``facts`` (CLIPS)."""
        return collections.Counter(self.run(facts))


def _value(clips: Any, value: Any) -> Any:
    """A Python value as the CLIPS value :func:`_atom` writes in rules."""
    if isinstance(value, bool):
        return clips.Symbol("TRUE" if value else "FALSE")
    if value is None:
        return clips.Symbol("nil")
    return value


def _atom(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    if value is None:
        return "nil"
    escaped = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _fact_fields(klass: Any, kb: KnowledgeBase) -> set[str]:
    found: set[str] = set(getattr(klass, "__fields__", {}) or {})
    for rule in kb.rules:
        for cond in rule.when:
            for pattern in _patterns(compile_condition(cond)):
                if type(pattern) is klass:
                    found.update(k for k in pattern if isinstance(k, str))
    found.update({"rule", "id", "confidence"} if klass.__name__ in
                 DERIVED_KINDS else set())
    return found


def _patterns(element: Any) -> list[Any]:
    if isinstance(element, experta.Fact):
        return [element]
    return [p for e in element for p in _patterns(e)]


def _test_expression(var: str, how: Any) -> str:
    """A CLIPS test for one compiled field constraint (literal or regimen predicate)."""
    if isinstance(how, experta.L):
        return f"(and (= (length$ {var}) 1) (eq (nth$ 1 {var}) {_atom(how.value)}))"
    match = how.match
    index = getattr(match, INDEX_ATTRIBUTE, None)
    signature = getattr(match, SIGNATURE_ATTRIBUTE, None)
    if index is not None:
        mode, values = index
        options = " ".join(_atom(v) for v in sorted(values))
        if mode == "eq":
            return (f"(and (= (length$ {var}) 1) (stringp (nth$ 1 {var})) "
                    f"(member$ (nth$ 1 {var}) (create$ {options})))")
        return f"(any-in {var} (create$ {options}))"
    assert signature is not None, "an unmarked predicate cannot be translated"
    _, qualname, *rest = signature
    if qualname.startswith("not_one_of"):
        (banned,) = rest
        options = " ".join(_atom(v) for v in sorted(banned))
        return (f"(and (= (length$ {var}) 1) (stringp (nth$ 1 {var})) "
                f"(not (member$ (nth$ 1 {var}) (create$ {options}))))")
    op, bound = rest
    clips_op = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}[op]
    return (f"(and (= (length$ {var}) 1) (numberp (nth$ 1 {var})) "
            f"({clips_op} (nth$ 1 {var}) {bound!r}))")


def _multislots(kb: KnowledgeBase) -> set[tuple[str, str]]:
    """Fields some pattern tests with "any of these in the tuple": CLIPS multislots."""
    found = set()
    for rule in kb.rules:
        for cond in rule.when:
            for pattern in _patterns(compile_condition(cond)):
                for key, how in pattern.items():
                    index = getattr(getattr(how, "match", None), INDEX_ATTRIBUTE, None)
                    if index is not None and index[0] == "any":
                        found.add((type(pattern).__name__, key))
    return found


def _slot(name: str, key: str, how: Any, var: str, multi: set[tuple[str, str]]) -> str:
    """One slot constraint, as literal as CLIPS allows, so its pattern network can share it."""
    if (name, key) in multi:
        return f"({key} ${var}&:{_test_expression(var, how)})"
    if isinstance(how, experta.W):
        return f"({key} ?)"
    if isinstance(how, experta.L):
        return f"({key} {_atom(how.value)})"
    index = getattr(how.match, INDEX_ATTRIBUTE, None)
    if index is not None:
        values = sorted(index[1])
        if not values:
            return f"({key} {var}&:(eq 1 2))"
        return f"({key} {'|'.join(_atom(v) for v in values)})"
    _, qualname, *rest = getattr(how.match, SIGNATURE_ATTRIBUTE)
    if qualname.startswith("not_one_of"):
        banned = "".join(f"&~{_atom(v)}" for v in sorted(rest[0]))
        return f"({key} {var}&:(stringp {var}){banned})"
    op, bound = rest
    clips_op = {"ge": ">=", "gt": ">", "le": "<=", "lt": "<"}[op]
    return f"({key} {var}&:(numberp {var})&:({clips_op} {var} {bound!r}))"


def _ce(element: Any, counter: list[int], multi: set[tuple[str, str]]) -> str:
    if isinstance(element, experta.NOT):
        return f"(not {_ce(element[0], counter, multi)})"
    if isinstance(element, experta.OR):
        return "(or " + " ".join(_ce(e, counter, multi) for e in element) + ")"
    assert isinstance(element, experta.Fact)
    name = type(element).__name__
    slots = []
    for key, how in element.items():
        counter[0] += 1
        slots.append(_slot(name, key, how, f"?v{counter[0]}", multi))
    return f"({name} {' '.join(slots)})"


def _defrule(rule: Rule, multi: set[tuple[str, str]]) -> str:
    counter = [0]
    conditions = [_ce(compile_condition(c), counter, multi) for c in rule.when]
    return (f'(defrule {rule.id.replace(".", "__")} (declare (salience {SALIENCE[rule.stage]})) '
            + " ".join(conditions) + f' => (regimen-fire "{rule.id}"))')


# ---------------------------------------------------------------- report
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="timed runs per figure")
    parser.add_argument("--skip-clips", action="store_true", help="do not run the CLIPS yardstick")
    args = parser.parse_args()
    runs = args.runs

    kb = load_knowledge()
    rec = Recommender(kb)
    print(f"python {platform.python_version()} on {platform.machine()}, {len(kb.rules)} rules; "
          f"medians of {runs} runs (CPU ms)")
    engines = {"before": before(kb), "after": after(kb)}
    clips_engine = _clips(kb, args.skip_clips)

    examples = sorted((ROOT / "examples").glob("*.yaml"))
    profiles = [facts_of(rec, path) for path in examples]
    mismatches = 0
    if clips_engine is not None:
        mismatches += check_clips(engines["after"], clips_engine,
                                  [path.name for path in examples], profiles)

    print("\nwarm evaluate(path).to_dict() and the engine step alone")
    print(f"{'example':34} {'before':>8} {'after':>8} {'clips':>8} | engine: "
          f"{'before':>8} {'after':>8} {'clips':>8}")
    warm: dict[str, list[float]] = {"before": [], "after": [], "clips": []}
    steps: dict[str, list[float]] = {"before": [], "after": [], "clips": []}
    for path, facts in zip(examples, profiles, strict=True):
        row = {}
        step = {}
        for name, engine in engines.items():
            rec.engine = engine
            row[name] = median_ms(partial(_evaluate, rec, path), runs)
            step[name] = median_ms(partial(engine.run, facts), runs)
        if clips_engine is not None:
            rec.engine = engines["after"]
            evaluate_ms = row["after"] - step["after"]
            step["clips"] = median_ms(partial(clips_engine.run, facts), runs)
            row["clips"] = evaluate_ms + step["clips"]
        for name in warm:
            if name in row:
                warm[name].append(row[name])
                steps[name].append(step[name])
        print(f"{path.name:34} {row['before']:8.2f} {row['after']:8.2f} "
              f"{_fmt(row.get('clips'))} | engine: {step['before']:8.2f} {step['after']:8.2f} "
              f"{_fmt(step.get('clips'))}")
    rec.engine = engines["after"]
    medians = {k: statistics.median(v) for k, v in warm.items() if v}
    step_medians = {k: statistics.median(v) for k, v in steps.items() if v}
    print(f"{'median over the examples':34} {medians['before']:8.2f} {medians['after']:8.2f} "
          f"{_fmt(medians.get('clips'))} | engine: {step_medians['before']:8.2f} "
          f"{step_medians['after']:8.2f} {_fmt(step_medians.get('clips'))}")
    if "clips" in medians:
        ratio = medians["after"] / medians["clips"]
        print(f"after / clips pipeline: x{ratio:.2f} (target <= x1.5)")

    print("\nengine step, knowledge base x16, per profile, ratio against x1 (same engine)")
    firings_x1 = sum(len(engines["after"].run(facts)) for facts in profiles)
    scaling_runs = max(3, min(runs, 5))
    for fire in (True, False):
        big = multiplied(kb, 15, 0) if fire else multiplied(kb, 0, 15)
        label = "all fire" if fire else "never fire"
        target = "x4" if fire else "x1.5"
        contenders: list[tuple[str, Any, Any]] = [
            (name, engines[name], build(big)) for name, build in (("before", before),
                                                                  ("after", after))]
        if clips_engine is not None:
            big_clips = ClipsEngine(big)
            contenders.append(("clips", clips_engine, big_clips))
            mismatches += check_clips(contenders[1][2], big_clips,
                                      [f"{path.name} x16 {label}" for path in examples],
                                      profiles)
        firings = sum(len(contenders[1][2].run(facts)) for facts in profiles)
        for name, small_engine, big_engine in contenders:
            ratios = []
            totals = [0.0, 0.0]
            for facts in profiles:
                one = median_ms(partial(small_engine.run, facts), scaling_runs)
                many = median_ms(partial(big_engine.run, facts), scaling_runs)
                ratios.append(many / one)
                totals[0] += one
                totals[1] += many
            print(f"  copies {label:10} {name:6}: median x{statistics.median(ratios):.1f}, "
                  f"worst x{max(ratios):.1f} (target <= {target}); all examples "
                  f"{totals[0]:.1f} -> {totals[1]:.1f} ms")
            if fire:  # the work grows with the firings: what one firing costs at x1 and x16
                print(f"  {'':17} {name:6}: per firing {1000 * totals[0] / firings_x1:.1f} us "
                      f"at x1, {1000 * totals[1] / firings:.1f} us at x16")
        print(f"  ({firings_x1} firings at x1, {firings} at x16 over the examples)")

    print("\n500 alterations, mostly of genes no rule names (full evaluate; gene validation "
          "included)")
    vocabulary = kb.vocabulary
    unused = sorted((set(vocabulary.genes) | set(vocabulary.other_genes)) - kb.used_genes())
    named = sorted(kb.used_genes())
    types = ["mutation", "amplification", "loss", "fusion", "promoter-methylation"]
    pairs = [(g, t) for t in types for g in unused] + [
        (g, t) for t in ("amplification", "loss") for g in named]
    genes = pairs[:500]
    profile = {"tumour": {"type": "COAD"},
               "alterations": [{"gene": g, "type": t} for g, t in genes]}
    facts = facts_of(rec, profile)
    for name, engine in engines.items():
        rec.engine = engine
        total = median_ms(partial(_evaluate, rec, profile), 3)
        step_ms = median_ms(partial(engine.run, facts), 3)
        print(f"  {name:6}: {total:9.1f} ms, engine step {step_ms:7.1f} ms "
              f"({len(genes)} alterations)")
    rec.engine = engines["after"]
    if mismatches:
        print(f"\nMISMATCH: CLIPS fired differently from experta on {mismatches} profile(s); "
              "its figures are not a yardstick until the translation is fixed")


def check_clips(engine: Engine, clips_engine: ClipsEngine, names: list[str],
                profiles: list[list[FactRecord]]) -> int:
    """Compare the rules CLIPS fires with experta's, per profile; print and count mismatches.

    ``engine`` and ``clips_engine`` are built from the same knowledge base.
    """
    bad = 0
    total = 0
    for name, facts in zip(names, profiles, strict=True):
        expected = fired_counts(engine, facts)
        total += sum(expected.values())
        problem = mismatch(expected, clips_engine.fired_counts(facts))
        if problem is not None:
            bad += 1
            print(f"MISMATCH {name}: {problem}")
    if not bad:
        print(f"CLIPS fires the same rules as experta, as often, on all {len(profiles)} "
              f"profiles ({len(engine.kb.rules)} rules, {total} firings)")
    return bad


def _evaluate(rec: Recommender, profile: Any) -> dict[str, Any]:
    return rec.evaluate(profile).to_dict()


def _fmt(value: float | None) -> str:
    return f"{value:8.2f}" if value is not None else f"{'-':>8}"


def _clips(kb: KnowledgeBase, skip: bool) -> ClipsEngine | None:
    if skip:
        print("CLIPS yardstick: skipped (--skip-clips)")
        return None
    try:
        return ClipsEngine(kb)
    except ImportError:
        print("CLIPS yardstick: skipped, clipspy is not installed (pip install clipspy)")
        return None


if __name__ == "__main__":
    main()
