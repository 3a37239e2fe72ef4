"""The output models: the result of an evaluation, whose JSON is the public contract.

:func:`to_json` is the one JSON writer every command uses.
"""

# Annotations here are evaluated when the module runs (no ``from __future__ import
# annotations``): pydantic reads them as each model class is created, and would
# otherwise compile every string annotation (about 8 ms of a cold command over the
# model modules; tests/test_architecture.py keeps it so).


import datetime as dt
import json
from typing import Any

from pydantic import BaseModel, Field

from .models import Model

SCHEMA_VERSION = 2
"""2: ``not_considered`` is a list of ``{item, reason}``; therapies carry ``regimens``."""

DISCLAIMER = (
    "regimen supports research and tumour-board discussion. It does not replace clinical "
    "judgement. Standard options come from pivotal trials and regulatory approvals whose "
    "status differs between countries; mechanism-targeted options come from review articles, "
    "often from preclinical work or other tumour types. Every option in this report must be "
    "checked against the primary studies, the current label and guidelines, and the "
    "patient's condition before any treatment decision."
)
#: One line at the top of a text report; the full DISCLAIMER closes it.
NOTICE = "Supports discussion; does not replace clinical judgement (full disclaimer at the end)."


class CitationOut(Model):
    source: str
    refs: list[int]
    where: str


class MechanismOut(Model):
    id: str
    label: str
    category: str
    confidence: str
    evidence: list[str]
    rule: str
    rules: list[str]
    blunts: list[str]
    citations: list[CitationOut]


class Recommendation(Model):
    rank: int
    id: str
    label: str
    agents: list[str]
    backbone: list[str]
    named_agent: bool
    strategy: str
    evidence_level: str
    studied_in: list[str]
    tumour_match: str
    extrapolated: bool
    extrapolation: str | None
    response_rate: str | None
    score: float
    score_breakdown: dict[str, float]
    addresses: list[str]
    citations: list[CitationOut]
    cautions: list[str]
    note: str | None
    rules: list[str]
    tier: str = "investigational"  # standard, trial or investigational (see evaluate.rank)
    escat: str | None = None  # ESCAT tier where it maps cleanly (see evaluate.rank)
    setting: dict[str, str | None] | None = None  # standard options: line, prior therapy, ...
    approvals: list[dict[str, Any]] = []  # standard options: region, agency, year, indication
    #: ids of the preferences (Result.preferences) that rank this standard option first
    preferred: list[str] = []


class Dropped(Model):
    id: str
    label: str
    agents: list[str]
    reason: str
    rules: list[str]
    tier: str | None = None  # the option's tier (see evaluate.rank); None if not scored


class AvoidOut(Model):
    id: str
    agents: list[str]
    reason: str
    scope: str | None = None
    except_with: list[str] = []
    evidence: list[str]
    citations: list[CitationOut]


class CautionOut(Model):
    id: str
    text: str
    applies_to: list[str]
    #: the names of ``applies_to`` (same order), for reports: ids are for machines
    applies_to_names: list[str] = []
    applies_when_all: list[list[str]] = []
    evidence: list[str]
    citations: list[CitationOut]


class PreferenceOut(Model):
    """A preference that applies to this patient: standard options containing a member of
    ``agents`` rank first among the standard options."""

    id: str
    text: str
    agents: list[str]
    agent_names: list[str] = []
    evidence: list[str]
    citations: list[CitationOut]


class TestOut(Model):
    id: str
    test: str
    why: str
    citations: list[CitationOut]
    unlocks: list[str] = []
    """Ids of the conditional options this test would settle."""


class OptionOut(Model):
    """An option in the shape of a :class:`Recommendation`, without a rank."""

    id: str
    label: str
    agents: list[str]
    backbone: list[str]
    named_agent: bool
    strategy: str
    evidence_level: str
    studied_in: list[str]
    tumour_match: str
    extrapolated: bool
    extrapolation: str | None
    response_rate: str | None
    score: float
    score_breakdown: dict[str, float]
    addresses: list[str]
    citations: list[CitationOut]
    cautions: list[str]
    note: str | None
    rules: list[str]
    tier: str = "investigational"
    escat: str | None = None
    setting: dict[str, str | None] | None = None
    approvals: list[dict[str, Any]] = []
    preferred: list[str] = []


class MissingCondition(Model):
    """A condition of an option rule that the profile does not settle."""

    text: str
    condition: dict[str, Any]
    tests: list[str]


class ConditionalOption(Model):
    """An option that the tests named would unlock (see :mod:`regimen.evaluate.conditional`)."""

    option: OptionOut
    missing: list[MissingCondition]
    tests: list[str]
    citations: list[CitationOut]


class TraceEntry(Model):
    rule: str
    stage: str
    matched: list[str]
    derived: str


class KnowledgeInfo(Model):
    name: str
    version: str
    digest: str
    rules: int
    standard_as_of: dt.date | None = None


class TherapySummary(Model):
    line: int
    agents: list[str]
    regimens: list[str] = []
    label: str = Field(default="", description=(
        "regimens as 'FOLFOX (oxaliplatin + fluorouracil + leucovorin)', then the other agents"))
    start: dt.date | None
    end: dt.date | None
    response: str | None


class PatientSummary(Model):
    tumour: str
    tumour_name: str
    stage: str | None
    alterations: list[str]
    biomarkers: list[str]
    therapies: list[TherapySummary]
    drug_sensitivity: list[str]
    conditions: list[str]
    ctdna_draws: int


class SeriesPoint(Model):
    """One draw's value of a ctDNA series (or of an emergent variant's trajectory)."""

    date: dt.date
    value: float | None
    below_lod: bool
    # the draw's limit of detection, drawn by the HTML chart; kept out of the JSON
    # until the next schema version
    lod: float | None = Field(default=None, exclude=True)


class CtdnaEvent(Model):
    """A ctDNA trend event (see :mod:`regimen.evaluate.ctdna`)."""

    event: str
    date: dt.date
    gene: str | None = None
    change: str | None = None
    measure: str | None = None
    value: float | None = None
    baseline: float | None = None
    nadir: float | None = None
    nadir_date: dt.date | None = None
    first_date: dt.date | None = None
    confirmed: bool | None = None
    during_agents: list[str] = []
    lead_time_days: int | None = None
    progression_date: dt.date | None = None
    series: str | None = Field(default=None, description=(
        "name of the ctDNA series holding this variant's readings (events refer to the "
        "series instead of copying it)"))
    detail: str


class Series(Model):
    """A ctDNA series: the tumour fraction (a point per draw that measured it) or a
    variant (a point for the baseline draw and each draw listing it; a draw that
    does not list the variant did not detect it)."""

    name: str
    points: list[SeriesPoint]


class CtdnaSection(Model):
    draws: int
    trend: bool
    note: str | None
    events: list[CtdnaEvent]
    series: list[Series]
    dates: list[dt.date] = Field(default=[], description="the date of every draw, in order")


class NotConsidered(Model):
    """One profile item that no rule reads, and why (e.g. ``MDM2 amplification``:
    ``rules read MDM2 expression``)."""

    item: str
    reason: str


class SummaryOption(Model):
    """One option as the summary lists it (the full entry is under recommendations)."""

    rank: int
    id: str
    label: str
    tier: str
    escat: str | None
    evidence_level: str
    score: float


class ReportSummary(Model):
    """The one-screen summary every report opens with (after the patient header)."""

    standard: list[SummaryOption]  # the top standard options (up to 3)
    trial: SummaryOption | None  # the top trial-stage option
    investigational: SummaryOption | None  # the top investigational option
    standard_dropped: list[str]  # standard options considered and dropped, with the reason
    avoid: list[str]
    alerts: list[str]  # ctDNA events and cautions
    tests: list[str]  # the first tests to order
    standard_as_of: dt.date | None  # date of the standard-of-care layer


class Result(Model):
    schema_version: int = SCHEMA_VERSION
    profile_id: str | None
    as_of: dt.date | None = None
    knowledge: KnowledgeInfo
    patient: PatientSummary
    summary: ReportSummary
    mechanisms: list[MechanismOut]
    recommendations: list[Recommendation]
    conditional_options: list[ConditionalOption] = []
    conditional_options_more: int = 0
    """How many further conditional options exist beyond the list (the cap)."""
    dropped: list[Dropped]
    avoid: list[AvoidOut]
    cautions: list[CautionOut]
    preferences: list[PreferenceOut] = []
    suggested_tests: list[TestOut]
    ctdna: CtdnaSection
    not_considered: list[NotConsidered]
    trace: list[TraceEntry]
    warnings: list[str] = Field(default=[], description=(
        "implausible but accepted input, e.g. a date more than a year in the future"))
    disclaimer: str = Field(default=DISCLAIMER)

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(mode="json")

    def to_json(self) -> str:
        """Deterministic JSON: same input and knowledge -> byte-identical text."""
        return to_json(self)


def to_json(data: Any) -> str:
    """The one JSON writer: pydantic models and plain data, indented, UTF-8, final newline.

    >>> to_json({"b": 1, "a": "é"})
    '{\\n  "b": 1,\\n  "a": "é"\\n}\\n'
    """
    if isinstance(data, BaseModel):
        data = data.model_dump(mode="json")
    elif isinstance(data, list):
        data = [d.model_dump(mode="json") if isinstance(d, BaseModel) else d for d in data]
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
