"""Condition kinds: one class per kind of ``when:`` condition, and the registry.

Each kind owns everything about itself: its pydantic schema (the YAML shape,
unchanged: ``{alteration: {gene: KRAS}}``, ``not: {...}``, ``any: [...]``), its
description in words, the vocabulary check lint runs on it, the witness value
it adds to a profile built to satisfy it, the genes and agents it names, and
the description of the fact it matches. The compilation for each engine
backend lives with the backend, keyed by kind name
(:data:`regimen.engine.experta.compile.COMPILERS`).

Adding a kind: write its class here, add it to :data:`REGISTRY` and as a field
of :class:`Condition`, then add its compile entry for each backend. The tests
fail when a kind misses a method or a compile entry.
"""

# Annotations here are evaluated when the module runs (no ``from __future__ import
# annotations``): pydantic reads them as each model class is created, and would
# otherwise compile every string annotation (about 8 ms of a cold command over the
# model modules; tests/test_architecture.py keeps it so).


from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple, Protocol, Self

from pydantic import Field, RootModel, field_validator, model_validator

from ..errors import VocabularyError
from ..models import Model
from .notation import parse_change

if TYPE_CHECKING:
    from .base import KnowledgeBase

StrList = list[str]

CTDNA_EVENTS: tuple[str, ...] = (
    "molecular-response",
    "clearance",
    "reappearance",
    "rise-from-nadir",
    "emergent-variant",
    "single-draw",
)


def _listify(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str | int | float):
        return [value]
    return value


def _alts(values: list[str] | None) -> str:
    return "/".join(values or [])


def _unknown(values: list[str] | None, allowed: Any) -> list[str]:
    return sorted(v for v in (values or []) if v not in allowed)


class Witness(Protocol):
    """What a kind needs to add a witness value to a profile (see regimen.tools.witness)."""

    def day(self, offset: int) -> str: ...

    def agent_for(self, agents: list[str] | None, classes: list[str] | None) -> str: ...

    def patient_code(self, code: str) -> str: ...

    def ctdna_variant(self, profile: dict[str, Any], gene: str, change: str | None) -> None: ...

    def add_derivation(self, profile: dict[str, Any], kind: str, value: str,
                       depth: int) -> None: ...

    def add(self, profile: dict[str, Any], cond: "Condition", depth: int) -> None: ...


class Assessment(NamedTuple):
    """Whether a profile settles a condition: ``satisfied``, ``contradicted`` or ``unknown``,
    and for ``unknown`` the tests that would settle it."""

    state: Literal["satisfied", "contradicted", "unknown"]
    tests: tuple[str, ...] = ()


SATISFIED = Assessment("satisfied")
CONTRADICTED = Assessment("contradicted")


def _settled(ok: bool) -> Assessment:
    return SATISFIED if ok else CONTRADICTED


def _needs(*tests: str) -> Assessment:
    return Assessment("unknown", tuple(sorted(set(tests))))


def fewest_tests(assessments: list[Assessment]) -> Assessment:
    """The unknown assessment that needs the fewest tests (ties: first in test order)."""
    unknown = [a for a in assessments if a.state == "unknown"]
    return min(unknown, key=lambda a: (len(a.tests), a.tests))


class Assessor(Protocol):
    """What a kind needs to assess itself against a profile (regimen.evaluate.conditional)."""

    def facts(self, kind: str) -> Sequence[Mapping[str, Any]]: ...

    def classes_of(self, agent: str) -> list[str]: ...

    def derived(self, kind: str, value: str) -> Assessment: ...


Checks = list[tuple[str, list[str]]]
"""(what, unknown values) pairs; lint reports every pair with unknown values."""


class ConditionKind:
    """The methods every condition kind implements (see :data:`REQUIRED`)."""

    kind: ClassVar[str]
    fact: ClassVar[str | None] = None
    """Name of the fact kind the condition matches (None for ``not`` and ``any``)."""

    def describe(self) -> str:
        """The condition in words: ``ABCB1/ABCG2 expression high``."""
        raise NotImplementedError

    def check(self, kb: "KnowledgeBase", stage: str) -> tuple[list[str], Checks]:
        """Errors about where the condition is used, and its names to check."""
        raise NotImplementedError

    def witness(self, builder: Witness, profile: dict[str, Any], depth: int) -> None:
        """Add to ``profile`` a value that satisfies the condition."""
        raise NotImplementedError

    def genes(self) -> set[str]:
        """Genes the condition names."""
        raise NotImplementedError

    def agents(self) -> set[str]:
        """Agent and class ids the condition names (not expanded)."""
        raise NotImplementedError

    def children(self) -> "list[Condition]":
        """Conditions nested inside this one (``not``, ``any``)."""
        return []

    def assess(self, view: Assessor) -> Assessment:
        """Satisfied, contradicted or unknown for this profile; for unknown, the tests that
        would settle it. History (tumour, therapy, ctDNA, clinical) is never unknown."""
        raise NotImplementedError

    @staticmethod
    def describe_fact(d: Mapping[str, Any]) -> str:
        """One readable line for a fact this kind matches (traces, explanations)."""
        raise NotImplementedError


REQUIRED: tuple[str, ...] = ("describe", "check", "witness", "genes", "agents", "assess")
"""Methods every kind defines itself; kinds with a ``fact`` also define ``describe_fact``."""


def _canonical_changes(changes: list[str] | None, genes: list[str] | None) -> list[str] | None:
    """A rule's ``change`` values in the profile's canonical spelling (``p.Gly12Cys`` ->
    ``G12C``), so rules and profiles match; a value that does not parse is kept as written
    and refused by :func:`_bad_changes` (lint)."""
    if not changes:
        return changes
    gene = genes[0] if genes and len(genes) == 1 else None
    out: list[str] = []
    for change in changes:
        try:
            out.append(parse_change(change, gene).text)
        except VocabularyError:
            out.append(change)
    return out


def _bad_changes(changes: list[str] | None, genes: list[str] | None) -> list[str]:
    gene = genes[0] if genes and len(genes) == 1 else None
    bad: list[str] = []
    for change in changes or ():
        try:
            parse_change(change, gene)
        except VocabularyError:
            bad.append(change)
    return bad


# --------------------------------------------------------------------------- kinds
class TumourCond(Model, ConditionKind):
    kind: ClassVar[str] = "tumour"
    fact: ClassVar[str | None] = "Tumour"
    codes: StrList

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str | list):
            return {"codes": _listify(value)}
        return value

    def describe(self) -> str:
        return f"tumour {_alts(self.codes)}"

    def check(self, kb: "KnowledgeBase", stage: str) -> tuple[list[str], Checks]:
        vocab = kb.vocabulary
        return [], [("tumour type", [c for c in self.codes if not vocab.is_tumour_code(c)])]

    def witness(self, builder: Witness, profile: dict[str, Any], depth: int) -> None:
        profile.setdefault("tumour", {"type": builder.patient_code(self.codes[0])})

    def genes(self) -> set[str]:
        return set()

    def agents(self) -> set[str]:
        return set()

    def assess(self, view: Assessor) -> Assessment:
        lineage = {c for f in view.facts("Tumour") for c in f["lineage"]}
        return _settled(bool(lineage & set(self.codes)))

    @staticmethod
    def describe_fact(d: Mapping[str, Any]) -> str:
        return f"tumour {d['code']}"


ALTERATION_TEST: dict[str, str] = {
    "mutation": "{genes} mutation testing (tissue NGS or ctDNA)",
    "wild-type": "{genes} mutation testing (tissue NGS or ctDNA)",
    "amplification": "{genes} amplification testing (tissue NGS or ISH)",
    "fusion": "{genes} fusion testing (tissue NGS)",
    "loss": "{genes} loss testing (tissue NGS)",
    "promoter-methylation": "{genes} promoter methylation testing",
    "overexpression": "{genes} expression by IHC",
}
"""Alteration type -> the test that would find it (``{genes}`` filled in)."""


class AlterationCond(Model, ConditionKind):
    kind: ClassVar[str] = "alteration"
    fact: ClassVar[str | None] = "Alteration"
    gene: StrList
    change: StrList | None = None
    type: StrList | None = None
    # tissue: a tumour (or germline) alteration reported by the profile; ctdna: a variant
    # detected in plasma; germline: an alteration the profile marks germline; any: all three.
    origin: Literal["tissue", "ctdna", "germline", "any"] = "any"

    _lists = field_validator("gene", "change", "type", mode="before")(_listify)

    @model_validator(mode="after")
    def _canonical(self) -> Self:
        object.__setattr__(self, "change", _canonical_changes(self.change, self.gene))
        return self

    def describe(self) -> str:
        what = _alts(self.change) if self.change else (_alts(self.type) if self.type
                                                      else "altered")
        where = {"tissue": " (tissue)", "ctdna": " (ctDNA)",
                 "germline": " (germline)"}.get(self.origin, "")
        return f"{_alts(self.gene)} {'tested' if what == 'any' else what}{where}"

    def check(self, kb: "KnowledgeBase", stage: str) -> tuple[list[str], Checks]:
        vocab = kb.vocabulary
        return [], [("gene", _unknown(self.gene, set(vocab.genes))),
                    ("alteration type", _unknown(self.type, (*vocab.alteration_types, "any"))),
                    ("variant notation (see regimen/knowledge/notation.py)",
                     _bad_changes(self.change, self.gene))]

    def witness(self, builder: Witness, profile: dict[str, Any], depth: int) -> None:
        entry: dict[str, Any] = {"gene": self.gene[0]}
        if self.change:
            entry["change"] = self.change[0]
        if self.type and self.type != ["any"]:
            entry["type"] = self.type[0]
        elif not self.change:
            entry["type"] = "mutation"
        if self.origin == "ctdna":
            builder.ctdna_variant(profile, self.gene[0], self.change[0] if self.change else None)
        else:
            if self.origin == "germline":
                entry["origin"] = "germline"
            profile.setdefault("alterations", []).append(entry)

    def genes(self) -> set[str]:
        return set(self.gene)

    def agents(self) -> set[str]:
        return set()

    def _matches(self, f: Mapping[str, Any]) -> bool:
        if f["gene"] not in self.gene:
            return False
        if self.change and f["change"] not in self.change:
            return False
        if self.type != ["any"]:
            if self.type and f["type"] not in self.type:
                return False
            if not self.type and f["type"] == "wild-type":
                return False
        return self.origin == "any" or f["origin"] == self.origin

    def assess(self, view: Assessor) -> Assessment:
        facts = view.facts("Alteration")
        if any(self._matches(f) for f in facts):
            return SATISFIED
        tested = {f["gene"] for f in facts if self.origin in ("any", f["origin"])}
        untested = [g for g in self.gene if g not in tested]
        # "KRAS mutation" without the change: a rule for KRAS G12C is neither met nor
        # contradicted until the variant is known (a gene-level finding is not variant-level)
        vague = sorted({f["gene"] for f in facts if self.change and f["gene"] in self.gene
                        and f["change"] is None and f["type"] in ("mutation", None)
                        and self.origin in ("any", f["origin"])})
        if vague:
            return _needs(f"{'/'.join(vague)} variant: the exact change (the rule needs "
                          f"{_alts(self.change)})")
        if not untested:
            return CONTRADICTED
        return _needs(ALTERATION_TEST.get(self._test_kind(), "{genes} testing").format(
            genes="/".join(untested)) + ("" if self.origin != "ctdna" else " on ctDNA"))

    def _test_kind(self) -> str:
        if self.change or not self.type or self.type == ["any"]:
            return "mutation"
        return self.type[0]

    @staticmethod
    def describe_fact(d: Mapping[str, Any]) -> str:
        what = d["change"] or d["type"]
        extra = d["type"] if d["change"] and d["type"] != "mutation" else None
        origin = {"ctdna": "ctDNA", "germline": "germline"}.get(d["origin"], "tissue")
        return f"alteration {d['gene']} {what}" + (f" ({extra})" if extra else "") + f" [{origin}]"


class ExpressionCond(Model, ConditionKind):
    kind: ClassVar[str] = "expression"
    fact: ClassVar[str | None] = "Expression"
    gene: StrList
    level: StrList = ["high"]

    _lists = field_validator("gene", "level", mode="before")(_listify)

    def describe(self) -> str:
        return f"{_alts(self.gene)} expression {_alts(self.level)}"

    def check(self, kb: "KnowledgeBase", stage: str) -> tuple[list[str], Checks]:
        vocab = kb.vocabulary
        return [], [("gene", _unknown(self.gene, set(vocab.genes))),
                    ("expression level", _unknown(self.level, vocab.levels))]

    def witness(self, builder: Witness, profile: dict[str, Any], depth: int) -> None:
        markers = profile.setdefault("biomarkers", {})
        markers.setdefault("expression", {})[self.gene[0]] = self.level[0]

    def genes(self) -> set[str]:
        return set(self.gene)

    def agents(self) -> set[str]:
        return set()

    def assess(self, view: Assessor) -> Assessment:
        facts = [f for f in view.facts("Expression") if f["gene"] in self.gene]
        if any(f["level"] in self.level for f in facts):
            return SATISFIED
        untested = [g for g in self.gene if g not in {f["gene"] for f in facts}]
        if not untested:
            return CONTRADICTED
        return _needs(f"{'/'.join(untested)} expression in the tumour (IHC or RNA)")

    @staticmethod
    def describe_fact(d: Mapping[str, Any]) -> str:
        return f"expression {d['gene']} {d['level']}"


BIOMARKER_NAMES = ("msi", "tmb", "pdl1_cps", "afp", "her2_ihc", "her2_status", "cldn18_2")
"""Profile biomarkers a condition may test (the fields of ``Profile.biomarkers``)."""

CATEGORICAL_BIOMARKERS: dict[str, tuple[str, ...]] = {
    "her2_ihc": ("0", "1+", "2+", "3+"),
    "her2_status": ("positive", "negative"),
    "cldn18_2": ("positive", "negative"),
}
"""Biomarkers with a fixed set of values (``msi`` takes the vocabulary's MSI values)."""

BIOMARKER_TESTS: tuple[tuple[str, str], ...] = (
    ("eq", "="), ("isin", "in"), ("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))


BIOMARKER_TEST: dict[str, str] = {
    "msi": "MSI / mismatch-repair testing",
    "tmb": "Tumour mutational burden (TMB) by NGS",
    "pdl1_cps": "PD-L1 immunohistochemistry (combined positive score)",
    "afp": "serum AFP",
    "her2_ihc": "HER2 IHC (and ISH if 2+)",
    "her2_status": "HER2 IHC (and ISH if 2+)",
    "cldn18_2": "claudin 18.2 IHC",
}
"""Biomarker name -> the test that measures it."""


class BiomarkerCond(Model, ConditionKind):
    kind: ClassVar[str] = "biomarker"
    fact: ClassVar[str | None] = "Biomarker"
    name: Literal[BIOMARKER_NAMES]  # type: ignore[valid-type]
    eq: str | None = None
    isin: StrList | None = Field(default=None, alias="in")
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    @model_validator(mode="after")
    def _one_test(self) -> Self:
        tests = [op for op, _ in BIOMARKER_TESTS if getattr(self, op) is not None]
        if len(tests) != 1:
            raise ValueError("a biomarker condition needs exactly one of eq, in, ge, gt, le, lt")
        return self

    @property
    def test(self) -> tuple[str, float | str | list[str]]:
        """The one comparison: (operator, bound)."""
        for op, _ in BIOMARKER_TESTS:
            bound = getattr(self, op)
            if bound is not None:
                return op, bound
        raise AssertionError("validated biomarker condition has no test")  # pragma: no cover

    def describe(self) -> str:
        op, value = self.test
        sign = dict(BIOMARKER_TESTS)[op]
        shown = _alts(value) if isinstance(value, list) else f"{value:g}" \
            if isinstance(value, float) else value
        return f"{self.name} {sign} {shown}"

    def check(self, kb: "KnowledgeBase", stage: str) -> tuple[list[str], Checks]:
        values = [self.eq] if self.eq else (self.isin or [])
        if self.name == "msi":
            return [], [("MSI value", _unknown(values, kb.vocabulary.msi_values))]
        allowed = CATEGORICAL_BIOMARKERS.get(self.name)
        if allowed is None:
            return ([f"biomarker {self.name} is a number: test it with ge, gt, le or lt"]
                    if values else []), []
        errors = [] if values else [f"biomarker {self.name} takes a value: test it with eq "
                                    "or in"]
        return errors, [(f"{self.name} value", _unknown(values, allowed))]

    def witness(self, builder: Witness, profile: dict[str, Any], depth: int) -> None:
        value: Any
        if self.eq is not None:
            value = self.eq
        elif self.isin:
            value = self.isin[0]
        elif self.ge is not None:
            value = self.ge
        elif self.gt is not None:
            value = self.gt + 1
        elif self.le is not None:
            value = self.le
        else:
            assert self.lt is not None
            value = max(0.0, self.lt - 1) if self.lt >= 1 else self.lt / 2
        profile.setdefault("biomarkers", {})[self.name] = value

    def genes(self) -> set[str]:
        return set()

    def agents(self) -> set[str]:
        return set()

    def assess(self, view: Assessor) -> Assessment:
        values = [f["value"] for f in view.facts("Biomarker") if f["name"] == self.name]
        if not values:
            return _needs(BIOMARKER_TEST.get(self.name, f"{self.name} testing"))
        return _settled(any(self._holds(v) for v in values))

    def _holds(self, value: Any) -> bool:
        """As the engine compares (``engine.experta.compile.compare``): ``eq``/``in`` match
        categorical (string) values only, the order tests numbers only."""
        op, bound = self.test
        if op in ("eq", "isin"):
            options = bound if isinstance(bound, list) else [bound]
            return isinstance(value, str) and value in options
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        number = float(value)
        limit = float(bound)  # type: ignore[arg-type]
        return {"ge": number >= limit, "gt": number > limit, "le": number <= limit,
                "lt": number < limit}[op]

    @staticmethod
    def describe_fact(d: Mapping[str, Any]) -> str:
        return f"biomarker {d['name']} = {d['value']}"


class TermCond(Model):
    """A condition that names one of a few terms: ``tme: hypoxic`` or ``tme: [a, b]``."""

    any_of: StrList

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str | list):
            return {"any_of": _listify(value)}
        return value


class TmeCond(TermCond, ConditionKind):
    kind: ClassVar[str] = "tme"
    fact: ClassVar[str | None] = "Tme"

    def describe(self) -> str:
        return f"TME {_alts(self.any_of)}"

    def check(self, kb: "KnowledgeBase", stage: str) -> tuple[list[str], Checks]:
        return [], [("TME term", _unknown(self.any_of, set(kb.vocabulary.tme)))]

    def witness(self, builder: Witness, profile: dict[str, Any], depth: int) -> None:
        profile.setdefault("biomarkers", {}).setdefault("tme", []).append(self.any_of[0])

    def genes(self) -> set[str]:
        return set()

    def agents(self) -> set[str]:
        return set()

    def assess(self, view: Assessor) -> Assessment:
        if any(f["feature"] in self.any_of for f in view.facts("Tme")):
            return SATISFIED
        # a profile records the features seen, not the ones looked for and absent
        return _needs(f"Tumour microenvironment assessment on a biopsy ({_alts(self.any_of)})")

    @staticmethod
    def describe_fact(d: Mapping[str, Any]) -> str:
        return f"tumour microenvironment {d['feature']}"


class MicrobiomeCond(Model, ConditionKind):
    kind: ClassVar[str] = "microbiome"
    fact: ClassVar[str | None] = "Microbe"
    taxon: StrList
    level: StrList = ["high"]

    _lists = field_validator("taxon", "level", mode="before")(_listify)

    def describe(self) -> str:
        return f"microbiome {_alts(self.taxon)} {_alts(self.level)}"

    def check(self, kb: "KnowledgeBase", stage: str) -> tuple[list[str], Checks]:
        vocab = kb.vocabulary
        return [], [("microbiome term", _unknown(self.taxon, set(vocab.microbiome))),
                    ("microbiome level", _unknown(self.level, vocab.microbiome_levels))]

    def witness(self, builder: Witness, profile: dict[str, Any], depth: int) -> None:
        markers = profile.setdefault("biomarkers", {})
        markers.setdefault("microbiome", {})[self.taxon[0]] = self.level[0]

    def genes(self) -> set[str]:
        return set()

    def agents(self) -> set[str]:
        return set()

    def assess(self, view: Assessor) -> Assessment:
        facts = [f for f in view.facts("Microbe") if f["taxon"] in self.taxon]
        if any(f["level"] in self.level for f in facts):
            return SATISFIED
        untested = [t for t in self.taxon if t not in {f["taxon"] for f in facts}]
        if not untested:
            return CONTRADICTED
        return _needs(f"Microbiome testing for {'/'.join(untested)} (tumour or stool)")

    @staticmethod
    def describe_fact(d: Mapping[str, Any]) -> str:
        return f"microbiome {d['taxon']} {d['level']}"


class TherapyCond(Model, ConditionKind):
    kind: ClassVar[str] = "therapy"
    fact: ClassVar[str | None] = "Therapy"
    agent: StrList | None = None
    klass: StrList | None = Field(default=None, alias="class")
    response: StrList | None = None
    ongoing: bool | None = None

    _lists = field_validator("agent", "klass", "response", mode="before")(_listify)

    def describe(self) -> str:
        what = _alts(self.agent) or _alts(self.klass) or "any therapy"
        extra = f" with response {_alts(self.response)}" if self.response else ""
        if self.ongoing:
            extra += " (ongoing)"
        return f"prior therapy {what}{extra}"

    def check(self, kb: "KnowledgeBase", stage: str) -> tuple[list[str], Checks]:
        agents = set(kb.agents)
        return [], [("agent", _unknown(self.agent, agents)),
                    ("agent class", _unknown(self.klass, agents)),
                    ("response", _unknown(self.response, kb.vocabulary.responses))]

    def witness(self, builder: Witness, profile: dict[str, Any], depth: int) -> None:
        line: dict[str, Any] = {"agents": [builder.agent_for(self.agent, self.klass)],
                                "start": builder.day(0)}
        if self.ongoing is not True:
            line["end"] = builder.day(120)
        if self.response:
            line["response"] = self.response[0]
        profile.setdefault("therapies", []).append(line)

    def genes(self) -> set[str]:
        return set()

    def agents(self) -> set[str]:
        return set(self.agent or []) | set(self.klass or [])

    def assess(self, view: Assessor) -> Assessment:
        for f in view.facts("Therapy"):
            if self.agent and f["agent"] not in self.agent:
                continue
            if self.klass and not set(f["classes"]) & set(self.klass):
                continue
            if self.response and f["response"] not in self.response:
                continue
            if self.ongoing is not None and f["ongoing"] != self.ongoing:
                continue
            return SATISFIED
        return CONTRADICTED

    @staticmethod
    def describe_fact(d: Mapping[str, Any]) -> str:
        state = "ongoing" if d["ongoing"] else f"ended {d['end']}"
        return f"therapy {d['agent']} (line {d['line']}, {state}, response {d['response'] or '-'})"


class CtdnaCond(Model, ConditionKind):
    kind: ClassVar[str] = "ctdna"
    fact: ClassVar[str | None] = "Ctdna"
    event: StrList
    gene: StrList | None = None
    change: StrList | None = None
    during_agent: StrList | None = None
    during_class: StrList | None = None
    confirmed: bool | None = None

    _lists = field_validator(
        "event", "gene", "change", "during_agent", "during_class", mode="before"
    )(_listify)

    @model_validator(mode="after")
    def _canonical(self) -> Self:
        object.__setattr__(self, "change", _canonical_changes(self.change, self.gene))
        return self

    def describe(self) -> str:
        subject = " ".join(x for x in (_alts(self.gene), _alts(self.change)) if x)
        during = _alts(self.during_agent) or _alts(self.during_class)
        return f"ctDNA {_alts(self.event)}{' ' + subject if subject else ''}" + (
            f" during {during}" if during else "")

    def check(self, kb: "KnowledgeBase", stage: str) -> tuple[list[str], Checks]:
        agents = set(kb.agents)
        return [], [("ctDNA event", _unknown(self.event, CTDNA_EVENTS)),
                    ("gene", _unknown(self.gene, set(kb.vocabulary.genes))),
                    ("variant notation (see regimen/knowledge/notation.py)",
                     _bad_changes(self.change, self.gene)),
                    ("agent", _unknown(self.during_agent, agents)),
                    ("agent class", _unknown(self.during_class, agents))]

    def witness(self, builder: Witness, profile: dict[str, Any], depth: int) -> None:
        day = builder.day
        event = self.event[0]
        therapies = profile.setdefault("therapies", [])
        if self.during_agent or self.during_class:
            agent = builder.agent_for(self.during_agent, self.during_class)
            therapies.append({"agents": [agent], "start": day(0)})
        gene = self.gene[0] if self.gene else "KRAS"
        change = self.change[0] if self.change else None
        variant = {"gene": gene, **({"change": change} if change else {})}
        if event == "single-draw":
            draws = [{"date": day(10), "tumour_fraction": 0.05}]
        elif event == "emergent-variant":
            draws = [{"date": day(10), "tumour_fraction": 0.05},
                     {"date": day(70), "tumour_fraction": 0.06,
                      "variants": [{**variant, "vaf": 0.04}]}]
        elif event == "molecular-response":
            draws = [{"date": day(10), "tumour_fraction": 0.2},
                     {"date": day(70), "tumour_fraction": 0.05}]
        elif event == "clearance":
            draws = [{"date": day(10), "variants": [{**variant, "vaf": 0.05}]},
                     {"date": day(70), "variants": []}]
        elif event == "reappearance":
            draws = [{"date": day(10), "variants": [{**variant, "vaf": 0.05}]},
                     {"date": day(40), "variants": []},
                     {"date": day(70), "variants": [{**variant, "vaf": 0.03}]}]
        else:  # rise-from-nadir
            draws = [{"date": day(10), "tumour_fraction": 0.1},
                     {"date": day(40), "tumour_fraction": 0.01},
                     {"date": day(70), "tumour_fraction": 0.04},
                     {"date": day(100), "tumour_fraction": 0.08}]
        profile["ctdna"] = draws

    def genes(self) -> set[str]:
        return set(self.gene or [])

    def agents(self) -> set[str]:
        return set(self.during_agent or []) | set(self.during_class or [])

    def assess(self, view: Assessor) -> Assessment:
        for f in view.facts("Ctdna"):
            if f["event"] not in self.event:
                continue
            if self.gene and f["gene"] not in self.gene:
                continue
            if self.change and f["change"] not in self.change:
                continue
            if self.during_agent and not set(f["during_agents"]) & set(self.during_agent):
                continue
            if self.during_class and not set(f["during_classes"]) & set(self.during_class):
                continue
            if self.confirmed is not None and f["confirmed"] != self.confirmed:
                continue
            return SATISFIED
        return CONTRADICTED

    @staticmethod
    def describe_fact(d: Mapping[str, Any]) -> str:
        subject = " ".join(x for x in (d["gene"], d["change"]) if x)
        during = f" during {'+'.join(d['during_agents'])}" if d["during_agents"] else ""
        return f"ctDNA {d['event']}{' ' + subject if subject else ''} on {d['date']}{during}"


ORGANOID_TEST = "Patient-derived organoid drug-sensitivity screen"


class SensitivityCond(Model, ConditionKind):
    kind: ClassVar[str] = "sensitivity"
    fact: ClassVar[str | None] = "Sensitivity"
    agent: StrList | None = None
    klass: StrList | None = Field(default=None, alias="class")
    result: StrList = ["resistant"]

    _lists = field_validator("agent", "klass", "result", mode="before")(_listify)

    def describe(self) -> str:
        return f"organoid {_alts(self.agent) or _alts(self.klass)} {_alts(self.result)}"

    def check(self, kb: "KnowledgeBase", stage: str) -> tuple[list[str], Checks]:
        agents = set(kb.agents)
        return [], [("agent", _unknown(self.agent, agents)),
                    ("agent class", _unknown(self.klass, agents)),
                    ("organoid result", _unknown(self.result,
                                                 kb.vocabulary.sensitivity_results))]

    def witness(self, builder: Witness, profile: dict[str, Any], depth: int) -> None:
        profile.setdefault("drug_sensitivity", []).append(
            {"agent": builder.agent_for(self.agent, self.klass), "result": self.result[0]})

    def genes(self) -> set[str]:
        return set()

    def agents(self) -> set[str]:
        return set(self.agent or []) | set(self.klass or [])

    def assess(self, view: Assessor) -> Assessment:
        tested = False
        for f in view.facts("Sensitivity"):
            if (self.agent and f["agent"] in self.agent) or (
                    self.klass and set(f["classes"]) & set(self.klass)):
                tested = True
                if f["result"] in self.result:
                    return SATISFIED
        return CONTRADICTED if tested else _needs(ORGANOID_TEST)

    @staticmethod
    def describe_fact(d: Mapping[str, Any]) -> str:
        return f"organoid {d['agent']} {d['result']}"


class ClinicalCond(TermCond, ConditionKind):
    kind: ClassVar[str] = "condition"
    fact: ClassVar[str | None] = "Clinical"

    def describe(self) -> str:
        return f"clinical {_alts(self.any_of)}"

    def check(self, kb: "KnowledgeBase", stage: str) -> tuple[list[str], Checks]:
        return [], [("clinical condition", _unknown(self.any_of, set(kb.vocabulary.conditions)))]

    def witness(self, builder: Witness, profile: dict[str, Any], depth: int) -> None:
        profile.setdefault("clinical", {}).setdefault("conditions", []).append(self.any_of[0])

    def genes(self) -> set[str]:
        return set()

    def agents(self) -> set[str]:
        return set()

    def assess(self, view: Assessor) -> Assessment:
        return _settled(any(f["condition"] in self.any_of for f in view.facts("Clinical")))

    @staticmethod
    def describe_fact(d: Mapping[str, Any]) -> str:
        return f"clinical condition {d['condition']}"


class MechanismCond(TermCond, ConditionKind):
    """A mechanism derived by an earlier rule stage."""

    kind: ClassVar[str] = "mechanism"
    fact: ClassVar[str | None] = "Mechanism"

    def describe(self) -> str:
        return f"mechanism {_alts(self.any_of)}"

    def check(self, kb: "KnowledgeBase", stage: str) -> tuple[list[str], Checks]:
        errors = []
        if stage == "mechanism":
            errors.append("a mechanism rule may not depend on another mechanism (stages run in "
                          "order: evidence -> mechanism -> option -> avoid/caution -> test)")
        return errors, [("mechanism", _unknown(self.any_of, set(kb.mechanisms)))]

    def witness(self, builder: Witness, profile: dict[str, Any], depth: int) -> None:
        builder.add_derivation(profile, "mechanism", self.any_of[0], depth)

    def genes(self) -> set[str]:
        return set()

    def agents(self) -> set[str]:
        return set()

    def assess(self, view: Assessor) -> Assessment:
        return _derived_any(view, "mechanism", self.any_of)

    @staticmethod
    def describe_fact(d: Mapping[str, Any]) -> str:
        return f"mechanism {d['id']} ({d['confidence']})"


class OptionCond(TermCond, ConditionKind):
    """An option proposed by an earlier rule stage."""

    kind: ClassVar[str] = "option"
    fact: ClassVar[str | None] = "Option"

    def describe(self) -> str:
        return f"option {_alts(self.any_of)} proposed"

    def check(self, kb: "KnowledgeBase", stage: str) -> tuple[list[str], Checks]:
        errors = []
        if stage in ("mechanism", "option"):
            errors.append("only avoid, caution and test rules may depend on options")
        option_ids = {r.option_id for r in kb.rules if r.stage == "option"}
        return errors, [("option id", _unknown(self.any_of, option_ids))]

    def witness(self, builder: Witness, profile: dict[str, Any], depth: int) -> None:
        builder.add_derivation(profile, "option", self.any_of[0], depth)

    def genes(self) -> set[str]:
        return set()

    def agents(self) -> set[str]:
        return set()

    def assess(self, view: Assessor) -> Assessment:
        return _derived_any(view, "option", self.any_of)

    @staticmethod
    def describe_fact(d: Mapping[str, Any]) -> str:
        return f"option {d['id']}"


class NotCond(RootModel["Condition"], ConditionKind):
    """``not: {condition}``: no fact matches the inner condition."""

    model_config = {"frozen": True, "defer_build": True}
    kind: ClassVar[str] = "not"

    def describe(self) -> str:
        return f"not ({self.root.describe()})"

    def check(self, kb: "KnowledgeBase", stage: str) -> tuple[list[str], Checks]:
        return [], []  # the inner condition is checked on its own

    def witness(self, builder: Witness, profile: dict[str, Any], depth: int) -> None:
        return  # nothing is added: the negated fact is absent by default

    def genes(self) -> set[str]:
        return set()

    def agents(self) -> set[str]:
        return set()

    def children(self) -> "list[Condition]":
        return [self.root]

    def assess(self, view: Assessor) -> Assessment:
        inner = self.root.spec.assess(view)
        if inner.state == "unknown":
            return inner
        return CONTRADICTED if inner.state == "satisfied" else SATISFIED


class AnyCond(RootModel[list["Condition"]], ConditionKind):
    """``any: [conditions]``: at least one of them holds."""

    model_config = {"frozen": True, "defer_build": True}
    kind: ClassVar[str] = "any"

    @model_validator(mode="after")
    def _two_or_more(self) -> Self:
        if len(self.root) < 2:
            raise ValueError("'any' needs at least two conditions")
        return self

    def describe(self) -> str:
        return "any of (" + "; ".join(c.describe() for c in self.root) + ")"

    def check(self, kb: "KnowledgeBase", stage: str) -> tuple[list[str], Checks]:
        return [], []  # each branch is checked on its own

    def witness(self, builder: Witness, profile: dict[str, Any], depth: int) -> None:
        builder.add(profile, self.root[0], depth)

    def genes(self) -> set[str]:
        return set()

    def agents(self) -> set[str]:
        return set()

    def children(self) -> "list[Condition]":
        return list(self.root)

    def assess(self, view: Assessor) -> Assessment:
        return _first_route([c.spec.assess(view) for c in self.root])


def _first_route(assessments: list[Assessment]) -> Assessment:
    """Any of: satisfied if one is; else the unknown route needing fewest tests."""
    if any(a.state == "satisfied" for a in assessments):
        return SATISFIED
    if any(a.state == "unknown" for a in assessments):
        return fewest_tests(assessments)
    return CONTRADICTED


def _derived_any(view: Assessor, kind: str, values: list[str]) -> Assessment:
    return _first_route([view.derived(kind, v) for v in values])


REGISTRY: dict[str, type[ConditionKind]] = {cls.kind: cls for cls in (
    TumourCond, AlterationCond, ExpressionCond, BiomarkerCond, TmeCond, MicrobiomeCond,
    TherapyCond, CtdnaCond, SensitivityCond, ClinicalCond, MechanismCond, OptionCond,
    NotCond, AnyCond,
)}
"""Every condition kind by its YAML key."""

BY_FACT: dict[str, type[ConditionKind]] = {
    cls.fact: cls for cls in REGISTRY.values() if cls.fact is not None}
"""The kind that matches each fact kind."""


class Condition(Model):
    """Exactly one of the condition kinds, keyed by its name (the YAML shape)."""

    tumour: TumourCond | None = None
    alteration: AlterationCond | None = None
    expression: ExpressionCond | None = None
    biomarker: BiomarkerCond | None = None
    tme: TmeCond | None = None
    microbiome: MicrobiomeCond | None = None
    therapy: TherapyCond | None = None
    ctdna: CtdnaCond | None = None
    sensitivity: SensitivityCond | None = None
    condition: ClinicalCond | None = None
    mechanism: MechanismCond | None = None
    option: OptionCond | None = None
    negate: NotCond | None = Field(default=None, alias="not")
    any: AnyCond | None = None

    @model_validator(mode="before")
    @classmethod
    def _tumor_spelling(cls, value: Any) -> Any:
        if isinstance(value, dict) and "tumor" in value and "tumour" not in value:
            value = dict(value)
            value["tumour"] = value.pop("tumor")
        return value

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        set_kinds = [name for name in type(self).model_fields if getattr(self, name) is not None]
        if len(set_kinds) != 1:
            raise ValueError(
                f"each condition must have exactly one kind ({', '.join(REGISTRY)}); "
                f"got {set_kinds or 'none'}"
            )
        return self

    @property
    def spec(self) -> ConditionKind:
        """The one kind this condition holds."""
        # Only fields given when the condition was built can hold a kind (the others keep
        # their default, None): look at those, not at all fourteen.
        for name in self.model_fields_set:
            value = self.__dict__[name]
            if value is not None:
                assert isinstance(value, ConditionKind)
                return value
        raise AssertionError("validated condition has no kind")  # pragma: no cover

    @property
    def kind(self) -> str:
        return self.spec.kind

    def describe(self) -> str:
        return self.spec.describe()


def walk_conditions(conditions: list[Condition]) -> list[Condition]:
    """Every condition, depth first, including those inside ``not`` and ``any``."""
    out: list[Condition] = []
    for cond in conditions:
        out.append(cond)
        out.extend(walk_conditions(cond.spec.children()))
    return out
