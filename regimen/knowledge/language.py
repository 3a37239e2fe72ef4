"""The rule language: rules, their outcomes, citations, sources, agents, mechanisms.

The condition kinds a rule's ``when:`` lists live in
:mod:`regimen.knowledge.conditions`. Every model forbids unknown keys.
"""

# Annotations here are evaluated when the module runs (no ``from __future__ import
# annotations``): pydantic reads them as each model class is created, and would
# otherwise compile every string annotation (about 8 ms of a cold command over the
# model modules; tests/test_architecture.py keeps it so).


from typing import Any, Literal, Self

from pydantic import Field, field_validator, model_validator

from ..models import CONFIDENCE_LEVELS, EVIDENCE_LEVELS, STAGES, Model
from .conditions import Condition

StrList = list[str]


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


SOURCE_KINDS = ("review", "trial", "approval", "guideline", "meta-analysis")
"""A review (the mechanism layer, cited by section and reference number) or a pivotal trial,
regulatory approval, guideline or meta-analysis (the standard-of-care layer, cited by name)."""

APPROVAL_REGIONS = ("US", "EU", "UK", "JP", "CN", "CA", "AU", "CH", "KR")
"""Regions an approval may name (ISO 3166 codes; EU for the European Union)."""


class Source(Model):
    key: str
    kind: Literal[SOURCE_KINDS] = "review"  # type: ignore[valid-type]
    title: str
    citation: str
    seed_file: str | None = None
    has_reference_list: bool = False
    max_ref: int | None = Field(default=None, ge=1)
    references: dict[int, str] = {}
    sections: list[Section] = []
    tables: list[Table] = []
    nct: str | None = None
    doi: str | None = None
    pmid: str | None = None
    unverified: StrList = []
    verified: str | None = None

    @model_validator(mode="after")
    def _kind_fields(self) -> Self:
        if self.kind == "review":
            if self.seed_file is None or self.max_ref is None:
                raise ValueError(f"source {self.key!r}: a review needs 'seed_file' and "
                                 "'max_ref'")
        elif self.seed_file is not None or self.max_ref is not None or self.sections \
                or self.tables:
            raise ValueError(f"source {self.key!r}: a {self.kind} source has no seed_file, "
                             "max_ref, sections or tables (cite it by name)")
        return self

    @property
    def is_review(self) -> bool:
        return self.kind == "review"

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
    def _named_consistent(self) -> Self:
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


# --------------------------------------------------------------------------- rule outcomes
class Setting(Model):
    """Where a standard option applies, as the trial or label states it (free text)."""

    line: str | None = None
    prior_therapy: str | None = None
    biomarker: str | None = None


class Approval(Model):
    region: str
    agency: str
    year: int | None = Field(default=None, ge=1950, le=2100)
    indication: str


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
    # Standard-of-care options only (review options take their tier from their evidence).
    tier: Literal["standard", "trial"] | None = None
    # Agents or classes after which the option is not offered again; a patient who received
    # one sees the option under "considered and dropped" ("standard option already given").
    not_after: StrList = []
    setting: Setting | None = None
    approvals: list[Approval] = []


class AvoidSpec(Model):
    agents: StrList = Field(min_length=1)
    reason: str
    # Where the avoid holds, in words ("anti-EGFR antibodies alone or with chemotherapy ...").
    scope: str | None = None
    # Agents or classes that lift the avoid when present in the same option (an approved
    # combination that contains an avoided agent).
    except_with: StrList = []


class CautionSpec(Model):
    id: str | None = None
    text: str
    applies_to: StrList = []
    # Groups of agents/classes that must each be present in an option for the caution to apply
    # to it ([[chemotherapy], [immune-checkpoint-inhibitor]]: both a chemotherapy and an ICI).
    # Empty: the caution applies to any option containing a member of ``applies_to``.
    applies_when_all: list[StrList] = []


class PreferenceSpec(Model):
    """Among the standard options, those containing a member of ``agents`` rank first.

    A preference orders standard options the same patient qualifies for (which to weigh
    first); it never lifts an option into the standard tier, never changes a score and never
    hides a caution. ``text`` says why, in words the report prints.
    """

    id: str | None = None
    text: str
    agents: StrList = Field(min_length=1)


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
    preference: PreferenceSpec | None = None
    note: str | None = None


class Rule(Model):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9\-]*(\.[a-z0-9][a-z0-9\-]*)+$")
    stage: Literal[STAGES]  # type: ignore[valid-type]
    description: str | None = None
    when: list[Condition] = Field(min_length=1)
    then: Then
    cite: list[Citation] = Field(min_length=1)
    # What was checked and where (required for rules citing trials, approvals or guidelines).
    verified: str | None = None

    @field_validator("cite", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, dict) else value

    @model_validator(mode="after")
    def _then_matches_stage(self) -> Self:
        given = [k for k in STAGES if getattr(self.then, k) is not None]
        if given != [self.stage]:
            raise ValueError(
                f"a {self.stage!r} rule's 'then' must give '{self.stage}' and nothing else "
                f"of {'/'.join(STAGES)}; got {given or 'none'}"
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

    @property
    def preference_id(self) -> str:
        assert self.then.preference is not None
        return self.then.preference.id or self.id


class Exclusion(Model):
    source: str
    where: str
    reason: str


class Manifest(Model):
    name: str
    version: str
    description: str | None = None
