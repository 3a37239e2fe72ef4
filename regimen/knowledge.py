"""The curated knowledge base: pydantic models and the loader.

Files under ``knowledge/``: ``sources.yaml``, ``vocabulary.yaml``,
``agents.yaml``, ``mechanisms.yaml``, ``rules/*.yaml`` and ``exclusions.yaml``.
Every file is validated with ``extra="forbid"``; a broken file is reported with
its path, the rule id and the field. Cross-reference checks live in
:mod:`regimen.lint`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import Field, ValidationError, field_validator, model_validator

from .documents import Document, dotted, read_document
from .errors import KnowledgeError
from .models import CONFIDENCE_LEVELS, EVIDENCE_LEVELS, STAGES, Model
from .resources import knowledge_dir
from .vocab import TumourType, Vocabulary

StrList = list[str]


def _listify(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, str | int | float):
        return [value]
    return value


# --------------------------------------------------------------------------- sources
class Section(Model):
    id: str
    title: str


class TableRow(Model):
    row: int
    summary: str
    refs: list[int] = []


class Table(Model):
    id: str  # "Table 1"
    title: str
    rows: list[TableRow]


class Source(Model):
    key: str
    title: str
    citation: str
    seed_file: str
    has_reference_list: bool
    max_ref: int = Field(ge=1)
    references: dict[int, str] = {}
    sections: list[Section] = []
    tables: list[Table] = []

    def locator_ids(self) -> set[str]:
        ids = {s.id for s in self.sections}
        for table in self.tables:
            ids.add(table.id)
            ids.update(f"{table.id} row {r.row}" for r in table.rows)
        return ids


class Citation(Model):
    source: str
    refs: list[int] = []
    where: str = Field(min_length=1)

    @property
    def locators(self) -> list[str]:
        """``"4.1; Table 1 row 2"`` -> ``["4.1", "Table 1 row 2"]``."""
        return [part.strip() for part in self.where.split(";") if part.strip()]


# --------------------------------------------------------------------------- agents, mechanisms
class Agent(Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    name: str
    kind: Literal["drug", "class", "target", "procedure", "biologic", "device"]
    named: bool = True
    classes: StrList = []
    targets: StrList = []
    synonyms: StrList = []
    formulation_of: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _named_consistent(self) -> Agent:
        if self.kind in ("class", "target") and self.named:
            raise ValueError(
                f"agent {self.id!r} is a {self.kind}: set 'named: false' "
                "(no specific agent is named)"
            )
        return self


class Mechanism(Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*$")
    label: str
    category: str
    blunts: StrList = []
    description: str | None = None


# --------------------------------------------------------------------------- conditions
class TumourCond(Model):
    codes: StrList

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str | list):
            return {"codes": _listify(value)}
        return value


class AlterationCond(Model):
    gene: StrList
    change: StrList | None = None
    type: StrList | None = None
    origin: Literal["tissue", "ctdna", "any"] = "any"

    _lists = field_validator("gene", "change", "type", mode="before")(_listify)


class ExpressionCond(Model):
    gene: StrList
    level: StrList = ["high"]

    _lists = field_validator("gene", "level", mode="before")(_listify)


class BiomarkerCond(Model):
    name: Literal["msi", "tmb", "pdl1_cps"]
    eq: str | None = None
    isin: StrList | None = Field(default=None, alias="in")
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None

    @model_validator(mode="after")
    def _one_test(self) -> BiomarkerCond:
        tests = [k for k in ("eq", "isin", "ge", "gt", "le", "lt") if getattr(self, k) is not None]
        if len(tests) != 1:
            raise ValueError("a biomarker condition needs exactly one of eq, in, ge, gt, le, lt")
        return self


class TermCond(Model):
    any_of: StrList

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, value: Any) -> Any:
        if isinstance(value, str | list):
            return {"any_of": _listify(value)}
        return value


class MicrobiomeCond(Model):
    taxon: StrList
    level: StrList = ["high"]

    _lists = field_validator("taxon", "level", mode="before")(_listify)


class TherapyCond(Model):
    agent: StrList | None = None
    klass: StrList | None = Field(default=None, alias="class")
    response: StrList | None = None
    ongoing: bool | None = None

    _lists = field_validator("agent", "klass", "response", mode="before")(_listify)


CTDNA_EVENTS: tuple[str, ...] = (
    "molecular-response",
    "clearance",
    "reappearance",
    "rise-from-nadir",
    "emergent-variant",
    "single-draw",
)


class CtdnaCond(Model):
    event: StrList
    gene: StrList | None = None
    change: StrList | None = None
    during_agent: StrList | None = None
    during_class: StrList | None = None
    confirmed: bool | None = None

    _lists = field_validator(
        "event", "gene", "change", "during_agent", "during_class", mode="before"
    )(_listify)


class SensitivityCond(Model):
    agent: StrList | None = None
    klass: StrList | None = Field(default=None, alias="class")
    result: StrList = ["resistant"]

    _lists = field_validator("agent", "klass", "result", mode="before")(_listify)


class Condition(Model):
    """Exactly one of the condition kinds."""

    tumour: TumourCond | None = None
    alteration: AlterationCond | None = None
    expression: ExpressionCond | None = None
    biomarker: BiomarkerCond | None = None
    tme: TermCond | None = None
    microbiome: MicrobiomeCond | None = None
    therapy: TherapyCond | None = None
    ctdna: CtdnaCond | None = None
    sensitivity: SensitivityCond | None = None
    condition: TermCond | None = None
    mechanism: TermCond | None = None
    option: TermCond | None = None
    negate: Condition | None = Field(default=None, alias="not")
    any: list[Condition] | None = None

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
                "each condition must have exactly one kind (tumour, alteration, expression, "
                "biomarker, tme, microbiome, therapy, ctdna, sensitivity, condition, mechanism, "
                f"not, any); got {set_kinds or 'none'}"
            )
        if self.any is not None and len(self.any) < 2:
            raise ValueError("'any' needs at least two conditions")
        return self

    @property
    def kind(self) -> str:
        for name in type(self).model_fields:
            if getattr(self, name) is not None:
                return {"negate": "not"}.get(name, name)
        raise AssertionError("validated condition has no kind")  # pragma: no cover


# --------------------------------------------------------------------------- rule outcomes
class OptionSpec(Model):
    id: str | None = None
    label: str
    agents: StrList = Field(min_length=1)
    backbone: StrList = []
    strategy: str
    evidence: Literal[EVIDENCE_LEVELS]  # type: ignore[valid-type]
    studied_in: StrList = Field(min_length=1)
    response_rate: str | None = None
    rechallenge: StrList = []
    note: str | None = None


class AvoidSpec(Model):
    agents: StrList = Field(min_length=1)
    reason: str


class CautionSpec(Model):
    id: str | None = None
    text: str
    applies_to: StrList = []


class TestSpec(Model):
    test: str
    why: str


class Then(Model):
    mechanism: str | None = None
    confidence: Literal[CONFIDENCE_LEVELS] | None = None  # type: ignore[valid-type]
    # Mechanism rules only: the agents the evidence for this trigger concerns, used instead of
    # the mechanism's own ``blunts`` when given (``[]`` = this trigger blunts nothing named).
    blunts: StrList | None = None
    option: OptionSpec | None = None
    avoid: AvoidSpec | None = None
    caution: CautionSpec | None = None
    test: TestSpec | None = None
    note: str | None = None


class Rule(Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*(\.[a-z0-9][a-z0-9\-]*)+$")
    stage: Literal[STAGES]  # type: ignore[valid-type]
    description: str | None = None
    when: list[Condition] = Field(min_length=1)
    then: Then
    cite: list[Citation] = Field(min_length=1)

    @field_validator("cite", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _then_matches_stage(self) -> Rule:
        given = [k for k in ("mechanism", "option", "avoid", "caution", "test")
                 if getattr(self.then, k) is not None]
        if given != [self.stage]:
            raise ValueError(
                f"a {self.stage!r} rule's 'then' must give '{self.stage}' and nothing else "
                f"of mechanism/option/avoid/caution/test; got {given or 'none'}"
            )
        if self.stage == "mechanism" and self.then.confidence is None:
            raise ValueError("a mechanism rule needs 'then.confidence' (high, moderate or low)")
        if self.stage != "mechanism" and self.then.blunts is not None:
            raise ValueError("only a mechanism rule may give 'then.blunts'")
        return self

    @property
    def option_id(self) -> str:
        assert self.then.option is not None
        return self.then.option.id or self.id

    @property
    def caution_id(self) -> str:
        assert self.then.caution is not None
        return self.then.caution.id or self.id


class Exclusion(Model):
    source: str
    where: str
    reason: str


class Manifest(Model):
    name: str
    version: str
    description: str | None = None


# --------------------------------------------------------------------------- the loaded base
class KnowledgeBase:
    """Everything under one knowledge directory, validated."""

    def __init__(
        self,
        *,
        root: Path,
        manifest: Manifest,
        sources: dict[str, Source],
        vocabulary: Vocabulary,
        agents: dict[str, Agent],
        mechanisms: dict[str, Mechanism],
        rules: list[Rule],
        rule_files: dict[str, str],
        exclusions: list[Exclusion],
        digest: str,
    ) -> None:
        self.root = root
        self.manifest = manifest
        self.sources = sources
        self.vocabulary = vocabulary
        self.agents = agents
        self.mechanisms = mechanisms
        self.rules = rules
        self.rule_files = rule_files
        self.exclusions = exclusions
        self.digest = digest
        self.rules_by_id = {rule.id: rule for rule in rules}
        self._used_genes: set[str] | None = None
        self._used_agents: set[str] | None = None
        self._members: dict[str, set[str]] = {}
        for agent in agents.values():
            for klass in agent.classes:
                self._members.setdefault(klass, set()).add(agent.id)

    @property
    def version(self) -> str:
        return self.manifest.version

    def members_of(self, agent_or_class: str) -> set[str]:
        """A class id -> the agents in it (and itself); an agent id -> itself."""
        return {agent_or_class} | self._members.get(agent_or_class, set())

    def expand(self, ids: list[str] | tuple[str, ...]) -> set[str]:
        out: set[str] = set()
        for item in ids:
            out |= self.members_of(item)
        return out

    def blunts_of(self, rule_ids: list[str]) -> list[str]:
        """What the mechanism derived by these fired rules blunts: the union of each rule's
        own ``then.blunts``, or its mechanism's ``blunts`` where the rule gives none."""
        out: set[str] = set()
        for rule_id in rule_ids:
            then = self.rules_by_id[rule_id].then
            assert then.mechanism is not None
            out.update(then.blunts if then.blunts is not None
                       else self.mechanisms[then.mechanism].blunts)
        return sorted(out)

    def active_ingredient(self, agent: str) -> str:
        """``nab-paclitaxel`` -> ``paclitaxel``: formulations share their drug's history."""
        found = self.agents.get(agent)
        return found.formulation_of if found is not None and found.formulation_of else agent

    def classes_of(self, agent: str) -> tuple[str, ...]:
        """The classes an agent belongs to; a class or target id belongs to itself too."""
        found = self.agents.get(agent)
        if found is None:
            return ()
        if found.kind in ("class", "target"):
            return (agent, *found.classes)
        return tuple(found.classes)

    def used_genes(self) -> set[str]:
        """Genes any rule names (computed once; the knowledge base does not change)."""
        if self._used_genes is None:
            self._used_genes = self._collect_used_genes()
        return set(self._used_genes)

    def used_agents(self) -> set[str]:
        """Agents any rule or mechanism names, classes expanded (computed once)."""
        if self._used_agents is None:
            self._used_agents = self._collect_used_agents()
        return set(self._used_agents)

    def _collect_used_genes(self) -> set[str]:
        genes: set[str] = set()
        for rule in self.rules:
            for cond in walk_conditions(rule.when):
                for spec in (cond.alteration, cond.expression, cond.ctdna):
                    if spec is not None and spec.gene:
                        genes.update(spec.gene)
        return genes

    def _collect_used_agents(self) -> set[str]:
        agents: set[str] = set()
        for rule in self.rules:
            for cond in walk_conditions(rule.when):
                for spec in (cond.therapy, cond.sensitivity):
                    if spec is not None:
                        agents |= self.expand(spec.agent or [])
                        agents |= self.expand(spec.klass or [])
                if cond.ctdna is not None:
                    agents |= self.expand(cond.ctdna.during_agent or [])
                    agents |= self.expand(cond.ctdna.during_class or [])
            then = rule.then
            if then.option:
                agents |= self.expand(then.option.agents)
            if then.avoid:
                agents |= self.expand(then.avoid.agents)
            if then.caution:
                agents |= self.expand(then.caution.applies_to)
            agents |= self.expand(then.blunts or [])
        for mechanism in self.mechanisms.values():
            agents |= self.expand(mechanism.blunts)
        return agents


def walk_conditions(conditions: list[Condition]) -> list[Condition]:
    """Every condition, depth first, including those inside ``not`` and ``any``."""
    out: list[Condition] = []
    for cond in conditions:
        out.append(cond)
        if cond.negate is not None:
            out.extend(walk_conditions([cond.negate]))
        if cond.any is not None:
            out.extend(walk_conditions(cond.any))
    return out


# --------------------------------------------------------------------------- loading
def _validation_error(exc: ValidationError, doc: Document, context: str = "",
                      base: tuple[str | int, ...] = ()) -> KnowledgeError:
    first = exc.errors()[0]
    loc = (*base, *first["loc"])
    field = dotted(tuple(p for p in loc if isinstance(p, str | int)))
    message = first["msg"]
    if first["type"] == "extra_forbidden":
        message = f"unknown key {loc[-1]!r}"
    if context:
        message = f"{context}: {message}"
    more = len(exc.errors()) - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''} in this file)"
    return KnowledgeError(message, source=doc.source, field=field, line=doc.line_of(loc))


_M = TypeVar("_M", Agent, Mechanism)


def _load_entries(docs: list[Document], key: str, model: type[_M]) -> dict[str, _M]:
    """Entries with an ``id`` under ``key`` across one or more files; ids must be unique."""
    entries: dict[str, _M] = {}
    for doc in docs:
        for i, item in enumerate(_expect_list(doc, key)):
            try:
                entry = model.model_validate(item)
            except ValidationError as exc:
                raise _validation_error(exc, doc, base=(key, i)) from None
            if entry.id in entries:
                raise KnowledgeError(f"duplicate {key[:-1]} id {entry.id!r}", source=doc.source,
                                     line=doc.line_of((key, i)))
            entries[entry.id] = entry
    return entries


def _split_files(root: Path, name: str) -> list[Path]:
    """``name.yaml`` then, sorted, ``name/*.yaml`` (a kind may be split by theme)."""
    extra = sorted((root / name).glob("*.yaml")) if (root / name).is_dir() else []
    return [root / f"{name}.yaml", *extra]


def _read(path: Path) -> Document:
    return read_document(path, max_bytes=5_000_000)


def _expect_list(doc: Document, key: str | None = None) -> list[Any]:
    data = doc.data if key is None else (doc.data or {}).get(key)
    if not isinstance(data, list):
        raise KnowledgeError(
            f"expected a list{f' under {key!r}' if key else ''}", source=doc.source
        )
    return data


def load_knowledge(root: Path | None = None) -> KnowledgeBase:
    """Load and validate a knowledge directory (the shipped one by default)."""
    root = Path(root) if root is not None else knowledge_dir()
    if not root.is_dir():
        raise KnowledgeError("knowledge directory not found", source=str(root),
                             hint="give a directory that holds sources.yaml and rules/")
    for required in ("manifest.yaml", "sources.yaml", "vocabulary.yaml", "agents.yaml",
                     "mechanisms.yaml"):
        if not (root / required).is_file():
            raise KnowledgeError(f"missing {required}", source=str(root),
                                 hint="copy the shipped knowledge/ directory and edit it")
    digest = hashlib.sha256()

    def read(path: Path) -> Document:
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
        return _read(path)

    manifest_doc = read(root / "manifest.yaml")
    try:
        manifest = Manifest.model_validate(manifest_doc.data)
    except ValidationError as exc:
        raise _validation_error(exc, manifest_doc) from None

    sources_doc = read(root / "sources.yaml")
    sources: dict[str, Source] = {}
    for i, item in enumerate(_expect_list(sources_doc, "sources")):
        try:
            source = Source.model_validate(item)
        except ValidationError as exc:
            raise _validation_error(exc, sources_doc, base=("sources", i)) from None
        if source.key in sources:
            raise KnowledgeError(f"duplicate source key {source.key!r}", source=sources_doc.source)
        sources[source.key] = source

    agents = _load_entries([read(p) for p in _split_files(root, "agents")], "agents", Agent)
    mechanisms = _load_entries([read(p) for p in _split_files(root, "mechanisms")],
                               "mechanisms", Mechanism)

    vocabulary = _load_vocabulary(
        [read(p) for p in _split_files(root, "vocabulary")], agents
    )

    rules: list[Rule] = []
    rule_files: dict[str, str] = {}
    rules_dir = root / "rules"
    rule_paths = sorted(rules_dir.glob("*.yaml")) if rules_dir.is_dir() else []
    for path in rule_paths:
        doc = read(path)
        items = doc.data.get("rules") if isinstance(doc.data, dict) else doc.data
        if not isinstance(items, list):
            raise KnowledgeError("expected a list of rules (or a 'rules:' key holding one)",
                                 source=doc.source)
        for i, item in enumerate(items):
            rule_id = item.get("id") if isinstance(item, dict) else None
            base: tuple[str | int, ...] = ("rules", i) if isinstance(doc.data, dict) else (i,)
            try:
                rule = Rule.model_validate(item)
            except ValidationError as exc:
                context = f"rule {rule_id!r}" if rule_id else f"rule #{i + 1}"
                raise _validation_error(exc, doc, context, base=base) from None
            if rule.id in rule_files:
                raise KnowledgeError(
                    f"duplicate rule id {rule.id!r} (also in {rule_files[rule.id]})",
                    source=doc.source, line=doc.line_of(base),
                )
            rule_files[rule.id] = path.name
            rules.append(rule)

    exclusions: list[Exclusion] = []
    for path in _split_files(root, "exclusions"):
        if not path.is_file():
            continue
        ex_doc = read(path)
        for i, item in enumerate(_expect_list(ex_doc, "exclusions")):
            try:
                exclusions.append(Exclusion.model_validate(item))
            except ValidationError as exc:
                raise _validation_error(exc, ex_doc, base=("exclusions", i)) from None

    return KnowledgeBase(
        root=root,
        manifest=manifest,
        sources=sources,
        vocabulary=vocabulary,
        agents=agents,
        mechanisms=mechanisms,
        rules=rules,
        rule_files=rule_files,
        exclusions=exclusions,
        digest=digest.hexdigest()[:12],
    )


class _TumourEntry(Model):
    code: str
    name: str
    parent: str | None = None
    organ: str
    gi: bool
    synonyms: StrList = []


class _VocabularyFile(Model):
    tumours: list[_TumourEntry]
    genes: dict[str, StrList]
    other_genes: StrList = []
    levels: StrList
    microbiome_levels: StrList
    tme: dict[str, str]
    microbiome: dict[str, StrList]
    conditions: dict[str, str]
    alteration_types: StrList
    responses: StrList
    sensitivity_results: StrList
    msi_values: StrList


class _VocabularyExtension(Model):
    """A file under vocabulary/: adds genes and terms to the main vocabulary."""

    genes: dict[str, StrList] = {}
    other_genes: StrList = []
    tme: dict[str, str] = {}
    microbiome: dict[str, StrList] = {}
    conditions: dict[str, str] = {}


def _load_vocabulary(docs: list[Document], agents: dict[str, Agent]) -> Vocabulary:
    doc = docs[0]
    try:
        raw = _VocabularyFile.model_validate(doc.data)
    except ValidationError as exc:
        raise _validation_error(exc, doc) from None
    for ext_doc in docs[1:]:
        try:
            ext = _VocabularyExtension.model_validate(ext_doc.data)
        except ValidationError as exc:
            raise _validation_error(exc, ext_doc) from None
        for kind in ("genes", "tme", "microbiome", "conditions"):
            current, extra = getattr(raw, kind), getattr(ext, kind)
            clash = sorted(set(current) & set(extra))
            if clash:
                raise KnowledgeError(f"{kind} {', '.join(clash)} already defined",
                                     source=ext_doc.source, hint="define each entry once")
            current.update(extra)
        raw.other_genes.extend(ext.other_genes)
    tumours = {
        t.code: TumourType(t.code, t.name, t.parent, t.organ, t.gi, tuple(t.synonyms))
        for t in raw.tumours
    }
    for t in tumours.values():
        if t.parent is not None and t.parent not in tumours:
            raise KnowledgeError(f"tumour {t.code!r} has unknown parent {t.parent!r}",
                                 source=doc.source)
    return Vocabulary(
        tumours=tumours,
        genes={k.upper(): tuple(v) for k, v in raw.genes.items()},
        other_genes=frozenset(g.upper() for g in raw.other_genes),
        levels=tuple(raw.levels),
        microbiome_levels=tuple(raw.microbiome_levels),
        tme=dict(raw.tme),
        microbiome={k: tuple(v) for k, v in raw.microbiome.items()},
        conditions=dict(raw.conditions),
        alteration_types=tuple(raw.alteration_types),
        responses=tuple(raw.responses),
        sensitivity_results=tuple(raw.sensitivity_results),
        msi_values=tuple(raw.msi_values),
        agents={a.id: (a.name, *a.synonyms) for a in agents.values()},
        agent_classes={a.id: tuple(a.classes) for a in agents.values()},
    )
