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

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Protocol

from pydantic import Field, RootModel, field_validator, model_validator

from ..models import Model

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

    def add(self, profile: dict[str, Any], cond: Condition, depth: int) -> None: ...


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

    def check(self, kb: KnowledgeBase, stage: str) -> tuple[list[str], Checks]:
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

    def children(self) -> list[Condition]:
        """Conditions nested inside this one (``not``, ``any``)."""
        return []

    @staticmethod
    def describe_fact(d: Mapping[str, Any]) -> str:
        """One readable line for a fact this kind matches (traces, explanations)."""
        raise NotImplementedError


REQUIRED: tuple[str, ...] = ("describe", "check", "witness", "genes", "agents")
"""Methods every kind defines itself; kinds with a ``fact`` also define ``describe_fact``."""


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

    def check(self, kb: KnowledgeBase, stage: str) -> tuple[list[str], Checks]:
        return [], [("tumour type", _unknown(self.codes, set(kb.vocabulary.tumours)))]

    def witness(self, builder: Witness, profile: dict[str, Any], depth: int) -> None:
        profile.setdefault("tumour", {"type": builder.patient_code(self.codes[0])})

    def genes(self) -> set[str]:
        return set()

    def agents(self) -> set[str]:
        return set()

    @staticmethod
    def describe_fact(d: Mapping[str, Any]) -> str:
        return f"tumour {d['code']}"


class AlterationCond(Model, ConditionKind):
    kind: ClassVar[str] = "alteration"
    fact: ClassVar[str | None] = "Alteration"
    gene: StrList
    change: StrList | None = None
    type: StrList | None = None
    origin: Literal["tissue", "ctdna", "any"] = "any"

    _lists = field_validator("gene", "change", "type", mode="before")(_listify)

    def describe(self) -> str:
        what = _alts(self.change) if self.change else (_alts(self.type) if self.type
                                                      else "altered")
        where = {"tissue": " (tissue)", "ctdna": " (ctDNA)"}.get(self.origin, "")
        return f"{_alts(self.gene)} {'tested' if what == 'any' else what}{where}"

    def check(self, kb: KnowledgeBase, stage: str) -> tuple[list[str], Checks]:
        vocab = kb.vocabulary
        return [], [("gene", _unknown(self.gene, set(vocab.genes))),
                    ("alteration type", _unknown(self.type, (*vocab.alteration_types, "any")))]

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
            profile.setdefault("alterations", []).append(entry)

    def genes(self) -> set[str]:
        return set(self.gene)

    def agents(self) -> set[str]:
        return set()

    @staticmethod
    def describe_fact(d: Mapping[str, Any]) -> str:
        what = d["change"] or d["type"]
        extra = d["type"] if d["change"] and d["type"] != "mutation" else None
        origin = "ctDNA" if d["origin"] == "ctdna" else "tissue"
        return f"alteration {d['gene']} {what}" + (f" ({extra})" if extra else "") + f" [{origin}]"


class ExpressionCond(Model, ConditionKind):
    kind: ClassVar[str] = "expression"
    fact: ClassVar[str | None] = "Expression"
    gene: StrList
    level: StrList = ["high"]

    _lists = field_validator("gene", "level", mode="before")(_listify)

    def describe(self) -> str:
        return f"{_alts(self.gene)} expression {_alts(self.level)}"

    def check(self, kb: KnowledgeBase, stage: str) -> tuple[list[str], Checks]:
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

    @staticmethod
    def describe_fact(d: Mapping[str, Any]) -> str:
        return f"expression {d['gene']} {d['level']}"


BIOMARKER_TESTS: tuple[tuple[str, str], ...] = (
    ("eq", "="), ("isin", "in"), ("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))


class BiomarkerCond(Model, ConditionKind):
    kind: ClassVar[str] = "biomarker"
    fact: ClassVar[str | None] = "Biomarker"
    name: Literal["msi", "tmb", "pdl1_cps"]
    eq: str | None = None
    isin: StrList | None = Field(default=None, alias="in")
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    @model_validator(mode="after")
    def _one_test(self) -> BiomarkerCond:
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

    def check(self, kb: KnowledgeBase, stage: str) -> tuple[list[str], Checks]:
        if self.name != "msi":
            return [], []
        values = [self.eq] if self.eq else (self.isin or [])
        return [], [("MSI value", _unknown(values, kb.vocabulary.msi_values))]

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

    def check(self, kb: KnowledgeBase, stage: str) -> tuple[list[str], Checks]:
        return [], [("TME term", _unknown(self.any_of, set(kb.vocabulary.tme)))]

    def witness(self, builder: Witness, profile: dict[str, Any], depth: int) -> None:
        profile.setdefault("biomarkers", {}).setdefault("tme", []).append(self.any_of[0])

    def genes(self) -> set[str]:
        return set()

    def agents(self) -> set[str]:
        return set()

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

    def check(self, kb: KnowledgeBase, stage: str) -> tuple[list[str], Checks]:
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

    def check(self, kb: KnowledgeBase, stage: str) -> tuple[list[str], Checks]:
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

    def describe(self) -> str:
        subject = " ".join(x for x in (_alts(self.gene), _alts(self.change)) if x)
        during = _alts(self.during_agent) or _alts(self.during_class)
        return f"ctDNA {_alts(self.event)}{' ' + subject if subject else ''}" + (
            f" during {during}" if during else "")

    def check(self, kb: KnowledgeBase, stage: str) -> tuple[list[str], Checks]:
        agents = set(kb.agents)
        return [], [("ctDNA event", _unknown(self.event, CTDNA_EVENTS)),
                    ("gene", _unknown(self.gene, set(kb.vocabulary.genes))),
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

    @staticmethod
    def describe_fact(d: Mapping[str, Any]) -> str:
        subject = " ".join(x for x in (d["gene"], d["change"]) if x)
        during = f" during {'+'.join(d['during_agents'])}" if d["during_agents"] else ""
        return f"ctDNA {d['event']}{' ' + subject if subject else ''} on {d['date']}{during}"


class SensitivityCond(Model, ConditionKind):
    kind: ClassVar[str] = "sensitivity"
    fact: ClassVar[str | None] = "Sensitivity"
    agent: StrList | None = None
    klass: StrList | None = Field(default=None, alias="class")
    result: StrList = ["resistant"]

    _lists = field_validator("agent", "klass", "result", mode="before")(_listify)

    def describe(self) -> str:
        return f"organoid {_alts(self.agent) or _alts(self.klass)} {_alts(self.result)}"

    def check(self, kb: KnowledgeBase, stage: str) -> tuple[list[str], Checks]:
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

    @staticmethod
    def describe_fact(d: Mapping[str, Any]) -> str:
        return f"organoid {d['agent']} {d['result']}"


class ClinicalCond(TermCond, ConditionKind):
    kind: ClassVar[str] = "condition"
    fact: ClassVar[str | None] = "Clinical"

    def describe(self) -> str:
        return f"clinical {_alts(self.any_of)}"

    def check(self, kb: KnowledgeBase, stage: str) -> tuple[list[str], Checks]:
        return [], [("clinical condition", _unknown(self.any_of, set(kb.vocabulary.conditions)))]

    def witness(self, builder: Witness, profile: dict[str, Any], depth: int) -> None:
        profile.setdefault("clinical", {}).setdefault("conditions", []).append(self.any_of[0])

    def genes(self) -> set[str]:
        return set()

    def agents(self) -> set[str]:
        return set()

    @staticmethod
    def describe_fact(d: Mapping[str, Any]) -> str:
        return f"clinical condition {d['condition']}"


class MechanismCond(TermCond, ConditionKind):
    """A mechanism derived by an earlier rule stage."""

    kind: ClassVar[str] = "mechanism"
    fact: ClassVar[str | None] = "Mechanism"

    def describe(self) -> str:
        return f"mechanism {_alts(self.any_of)}"

    def check(self, kb: KnowledgeBase, stage: str) -> tuple[list[str], Checks]:
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

    @staticmethod
    def describe_fact(d: Mapping[str, Any]) -> str:
        return f"mechanism {d['id']} ({d['confidence']})"


class OptionCond(TermCond, ConditionKind):
    """An option proposed by an earlier rule stage."""

    kind: ClassVar[str] = "option"
    fact: ClassVar[str | None] = "Option"

    def describe(self) -> str:
        return f"option {_alts(self.any_of)} proposed"

    def check(self, kb: KnowledgeBase, stage: str) -> tuple[list[str], Checks]:
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

    @staticmethod
    def describe_fact(d: Mapping[str, Any]) -> str:
        return f"option {d['id']}"


class NotCond(RootModel["Condition"], ConditionKind):
    """``not: {condition}``: no fact matches the inner condition."""

    model_config = {"frozen": True, "defer_build": True}
    kind: ClassVar[str] = "not"

    def describe(self) -> str:
        return f"not ({self.root.describe()})"

    def check(self, kb: KnowledgeBase, stage: str) -> tuple[list[str], Checks]:
        return [], []  # the inner condition is checked on its own

    def witness(self, builder: Witness, profile: dict[str, Any], depth: int) -> None:
        return  # nothing is added: the negated fact is absent by default

    def genes(self) -> set[str]:
        return set()

    def agents(self) -> set[str]:
        return set()

    def children(self) -> list[Condition]:
        return [self.root]


class AnyCond(RootModel[list["Condition"]], ConditionKind):
    """``any: [conditions]``: at least one of them holds."""

    model_config = {"frozen": True, "defer_build": True}
    kind: ClassVar[str] = "any"

    @model_validator(mode="after")
    def _two_or_more(self) -> AnyCond:
        if len(self.root) < 2:
            raise ValueError("'any' needs at least two conditions")
        return self

    def describe(self) -> str:
        return "any of (" + "; ".join(c.describe() for c in self.root) + ")"

    def check(self, kb: KnowledgeBase, stage: str) -> tuple[list[str], Checks]:
        return [], []  # each branch is checked on its own

    def witness(self, builder: Witness, profile: dict[str, Any], depth: int) -> None:
        builder.add(profile, self.root[0], depth)

    def genes(self) -> set[str]:
        return set()

    def agents(self) -> set[str]:
        return set()

    def children(self) -> list[Condition]:
        return list(self.root)


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
    def _exactly_one(self) -> Condition:
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
        for name in type(self).model_fields:
            value = getattr(self, name)
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
