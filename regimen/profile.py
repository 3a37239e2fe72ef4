"""The patient profile: pydantic models, loading from YAML/JSON, normalisation.

The field names are the contract (see README). Values are normalised against
the knowledge base's vocabulary and the shipped reference data: gene symbols to
approved HGNC symbols (aliases and previous symbols resolved, an isoform such as
``CLDN18.2`` kept), changes to the canonical spelling of
:mod:`regimen.knowledge.notation`, tumour names to OncoTree codes, agent names
and brand or code names to canonical ids, regimen acronyms to their agents.
"""

# Annotations here are evaluated when the module runs (no ``from __future__ import
# annotations``): pydantic reads them as each model class is created, and would
# otherwise compile every string annotation (about 8 ms of a cold command over the
# model modules; tests/test_architecture.py keeps it so).


import datetime as dt
import functools
import re
from pathlib import Path
from typing import IO, Annotated, Any, Literal, Self, get_args

from pydantic import (
    BeforeValidator,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .errors import ProfileError, VocabularyError, shorten
from .io.documents import (
    Document,
    dotted,
    parse_text,
    read_document,
    read_stream,
    validation_error,
)
from .knowledge.notation import check_type, parse_change
from .knowledge.vocabulary import Vocabulary
from .models import Model


def _number(value: Any) -> Any:
    """Numbers as written: an int or float, never a bool or text (YAML 1.1 or JSON strings)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"expected a number, got {_shown(value)} ({type(value).__name__}); "
                         "write it as a plain decimal number, e.g. 0.25 or 12")
    return value


def _whole(value: Any) -> Any:
    """A whole number as written: an int (not a bool, a float or text)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"expected a whole number, got {_shown(value)} "
                         f"({type(value).__name__}); write it in decimal, e.g. 2")
    return value


def _flag(value: Any) -> Any:
    """true or false as written (not yes/no/on/off or 0/1)."""
    if not isinstance(value, bool):
        raise ValueError(f"expected true or false, got {_shown(value)}")
    return value


_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _day(value: Any) -> Any:
    """A date written YYYY-MM-DD (a date object from YAML or the API, or such a string)."""
    if isinstance(value, dt.datetime):
        raise ValueError(f"'{value}' is a date and time, not a date; {_DATES}")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _DAY.fullmatch(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"{_shown(value)} is not a date ({exc}); {_DATES}") from None
    raise ValueError(f"{_shown(value)} is not a date; {_DATES}")


_DATES = "write dates as YYYY-MM-DD"


def _shown(value: Any) -> str:
    return shorten(repr(value))


Number = Annotated[float, BeforeValidator(_number)]
Whole = Annotated[int, BeforeValidator(_whole)]
Flag = Annotated[bool, BeforeValidator(_flag)]
Day = Annotated[dt.date, BeforeValidator(_day)]

MAX_LIST = 500
"""Longest list accepted anywhere in a profile (alterations of a large panel fit)."""


@functools.cache
def _shipped_vocabulary() -> Vocabulary:
    from .knowledge.loader import load_knowledge

    return load_knowledge().vocabulary


def _vocab(info: ValidationInfo) -> Vocabulary:
    """The vocabulary passed in the validation context, else the shipped one (loaded once)."""
    vocab = (info.context or {}).get("vocab")
    return vocab if vocab is not None else _shipped_vocabulary()


def _vocab_call(fn: Any, *args: Any) -> Any:
    try:
        return fn(*args)
    except VocabularyError as exc:
        # pydantic turns ValueError into a located error; keep the hint.
        raise ValueError(exc.message + (f" ({exc.hint})" if exc.hint else "")) from None


def _normalise_keys(value: Any, normalise: Any) -> Any:
    """``{alias: Level}`` -> ``{canonical: level}``; two aliases of one name are an error."""
    if not isinstance(value, dict):
        return value
    if len(value) > MAX_LIST:  # checked before the (slower) normalisation of each key
        raise ValueError(f"{len(value):,} entries; at most {MAX_LIST} are accepted")
    out: dict[str, Any] = {}
    for key, level in value.items():
        name = _vocab_call(normalise, str(key))
        if name in out:
            raise ValueError(f"{key!r} and another entry both name {name}")
        out[name] = level.strip().lower() if isinstance(level, str) else level
    return out


def _as_list(value: Any) -> Any:
    """A tuple or set (from the API) is validated like a list (sets in sorted order)."""
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    if isinstance(value, tuple):
        return list(value)
    return value


def _normalise_terms(value: Any, vocab: Vocabulary, allowed: Any, what: str) -> Any:
    """A term or list of terms -> the sorted, de-duplicated controlled terms."""
    value = _as_list(value)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return value
    return sorted({_vocab_call(vocab.term, str(v), allowed, what) for v in value})


class Tumour(Model):
    type: str = Field(description="OncoTree code or common name (colorectal, gastric, HCC, ...)")
    stage: str | None = Field(default=None, description="stage as the report gives it (IV)")
    histology: str | None = Field(default=None, description="histology as the report gives it")

    @field_validator("type")
    @classmethod
    def _code(cls, value: str, info: ValidationInfo) -> str:
        return str(_vocab_call(_vocab(info).patient_tumour, value))


ALTERATION_TYPES = Literal[
    "mutation", "amplification", "loss", "fusion", "promoter-methylation", "wild-type",
    "overexpression",
]


_VAF = ("VAF is a fraction between 0 and 1")


def _vaf(value: Any) -> Any:
    """``vaf: 31`` is a percentage written as a number: say so instead of "<= 1"."""
    if isinstance(value, int | float) and not isinstance(value, bool) and 1 < value <= 100:
        raise ValueError(f"{_VAF}; {value:g} looks like a percentage, write {value / 100:g}")
    if isinstance(value, int | float) and not isinstance(value, bool) and not 0 <= value <= 1:
        raise ValueError(f"{_VAF}; got {value:g}")
    return value


def _as_written(value: Any, info: ValidationInfo) -> Any:
    """Keep what the report wrote where the canonical form differs: the isoform of an
    isoform name (``CLDN18.2`` -> gene CLDN18, isoform 18.2) and the change as written
    (``c.34G>T`` -> change G12C, change_as_written c.34G>T). Errors are left to the field
    validators, which report them at the field."""
    if not isinstance(value, dict) or not isinstance(value.get("gene"), str):
        return value
    value = dict(value)
    try:
        symbol, isoform = _vocab(info).gene_isoform(value["gene"])
    except VocabularyError:
        return value
    if isoform and "isoform" not in value:
        value["isoform"] = isoform
    change = value.get("change")
    if isinstance(change, str) and "change_as_written" not in value:
        try:
            parsed = parse_change(change, symbol)
        except VocabularyError:
            return value
        if parsed.text != change.strip():
            value["change_as_written"] = change
    return value


class Alteration(Model):
    gene: str = Field(description="HGNC symbol; aliases, previous symbols and isoform names "
                      "(CLDN18.2) resolve to the approved symbol")
    change: str | None = Field(default=None, description=(
        "the variant as the report writes it: protein change (G12C, p.Gly12Cys, R97fs, "
        "E746_A750del), exon-level finding (exon 19 deletion), fusion (FGFR2::BICC1), splice "
        "change, or a hotspot c. change; stored in canonical form"))
    type: ALTERATION_TYPES | None = Field(default=None, description=(
        "alteration type; implied by the change when omitted"))
    vaf: Number | None = Field(default=None, ge=0, le=1,
                              description="variant allele fraction, 0 to 1 (0.31, not 31)")
    isoform: str | None = Field(default=None, description=(
        "isoform named in place of the gene (CLDN18.2 -> 18.2); set from the gene"))
    change_as_written: str | None = Field(default=None, description=(
        "the change as written when it differs from the canonical form; set from the change"))
    origin: Literal["somatic", "germline"] = Field(
        default="somatic", description="somatic (tumour) or germline (inherited) variant")

    _written = model_validator(mode="before")(_as_written)
    _vaf_fraction = field_validator("vaf", mode="before")(_vaf)

    @field_validator("gene")
    @classmethod
    def _gene(cls, value: str, info: ValidationInfo) -> str:
        return str(_vocab_call(_vocab(info).gene, value))

    @field_validator("change")
    @classmethod
    def _change(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        gene = info.data.get("gene")
        return str(_vocab_call(parse_change, value, gene).text)

    @field_validator("type", mode="before")
    @classmethod
    def _type_lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _default_type(self) -> Self:
        if self.change is None:
            if self.type is None:
                raise ValueError(
                    f"alteration of {self.gene} needs a 'change' (e.g. G12C) or a 'type' "
                    "(mutation, amplification, loss, fusion, promoter-methylation, wild-type, "
                    "overexpression)"
                )
            return self
        parsed = parse_change(self.change, self.gene)
        written = self.change_as_written or self.change
        parsed = parsed.model_copy(update={"original": written})
        object.__setattr__(self, "type", _vocab_call(check_type, parsed, self.type))
        return self


LEVEL = Literal["high", "low", "normal", "absent"]
MICROBE_LEVEL = Literal["high", "low", "absent"]


class Biomarkers(Model):
    msi: Literal["MSI-H", "MSI-L", "MSS"] | None = Field(default=None, description=(
        "microsatellite status: MSI-H, MSI-L or MSS (MSI-high, dMMR and pMMR are read too)"))
    tmb: Number | None = Field(default=None, ge=0, le=10_000,
                              description="tumour mutational burden, mutations per megabase")
    pdl1_cps: Number | None = Field(default=None, ge=0, le=10_000,
                                   description="PD-L1 combined positive score")
    expression: dict[str, LEVEL] = Field(default={}, max_length=MAX_LIST, description=(
        "expression level by gene (HGNC symbol or alias): high, low, normal or absent"))
    tme: list[str] = Field(default=[], max_length=MAX_LIST, description=(
        "tumour-microenvironment terms (knowledge/vocabulary.yaml, 'tme')"))
    microbiome: dict[str, MICROBE_LEVEL] = Field(default={}, max_length=MAX_LIST, description=(
        "microbiome level by taxon (knowledge/vocabulary.yaml, 'microbiome'): high, low or "
        "absent"))
    afp: Number | None = Field(default=None, ge=0, le=10_000_000,
                              description="serum alpha-fetoprotein, ng/mL")
    her2_ihc: Literal["0", "1+", "2+", "3+"] | None = Field(
        default=None, description="HER2 immunohistochemistry score: 0, 1+, 2+ or 3+")
    her2_status: Literal["positive", "negative"] | None = Field(
        default=None, description="HER2 status: positive = IHC 3+ or IHC 2+ with ISH positive")
    cldn18_2: Literal["positive", "negative"] | None = Field(
        default=None, description=("claudin 18.2: positive = >= 75% of tumour cells with "
                                   "moderate-to-strong membranous staining"))

    @field_validator("her2_ihc", mode="before")
    @classmethod
    def _her2_ihc(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            value = str(value)
        if isinstance(value, str):
            value = value.strip().replace(" ", "")
            return {"3": "3+", "2": "2+", "1": "1+"}.get(value, value)
        return value

    @field_validator("her2_status", "cldn18_2", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("msi", mode="before")
    @classmethod
    def _msi(cls, value: Any) -> Any:
        if isinstance(value, str):
            upper = value.strip().upper().replace(" ", "-")
            return {"MSI-HIGH": "MSI-H", "MSIH": "MSI-H", "MSI-LOW": "MSI-L", "DMMR": "MSI-H",
                    "PMMR": "MSS"}.get(upper, upper)
        return value

    @field_validator("expression", mode="before")
    @classmethod
    def _expression(cls, value: Any, info: ValidationInfo) -> Any:
        return _normalise_keys(value, _vocab(info).gene)

    @field_validator("tme", mode="before")
    @classmethod
    def _tme(cls, value: Any, info: ValidationInfo) -> Any:
        vocab = _vocab(info)
        return _normalise_terms(value, vocab, vocab.tme, "tumour-microenvironment term")

    @field_validator("microbiome", mode="before")
    @classmethod
    def _microbiome(cls, value: Any, info: ValidationInfo) -> Any:
        return _normalise_keys(value, _vocab(info).taxon)


RESPONSE = Literal["CR", "PR", "SD", "PD"]


def _agents(value: Any, info: ValidationInfo) -> Any:
    value = _as_list(value)
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return value
    vocab = _vocab(info)
    out: list[str] = []
    for item in value:
        if not isinstance(item, str):
            raise ValueError(f"agent names are text; got {item!r}")
        agent = _vocab_call(vocab.agent, item)
        if agent not in out:
            out.append(agent)
    return sorted(out)


def _regimens(value: Any, info: ValidationInfo) -> Any:
    """A therapy's regimen acronyms, in ``agents`` or in ``regimen``: each expands to its
    agents (``FOLFOX`` -> oxaliplatin, fluorouracil, leucovorin) and the therapy keeps the
    regimen in ``regimens`` as ``FOLFOX (oxaliplatin + fluorouracil + leucovorin)``."""
    if not isinstance(value, dict):
        return value
    value = dict(value)
    named = value.pop("regimen", None)
    shown: list[str] = []
    for display in value.pop("regimens", None) or []:  # a validated therapy, validated again
        if not any(r.display == display for r in _vocab(info).regimens.regimens):
            raise ValueError(f"regimens {display!r}: write the acronym under 'regimen'")
        shown.append(display)
    agents = value.get("agents", [])
    if isinstance(agents, str):
        agents = [agents]
    if isinstance(named, str):
        named = [named]
    if named is not None and not isinstance(named, list):
        raise ValueError(f"regimen is an acronym such as FOLFOX or a list of them; got {named!r}")
    if not isinstance(agents, list):
        return value
    vocab = _vocab(info)
    kept: list[Any] = []
    for item in [*(named or []), *agents]:
        regimen = vocab.regimen(item) if isinstance(item, str) else None
        if regimen is None:
            if named and item in named:
                raise ValueError(f"regimen {item!r} is not a known regimen acronym; list its "
                                 "agents under 'agents' (see knowledge/regimens.yaml)")
            kept.append(item)
            continue
        if regimen.display not in shown:
            shown.append(regimen.display)
        kept.extend(regimen.agents)
    value["agents"] = kept
    if shown:
        value["regimens"] = shown
    return value


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


class Therapy(Model):
    agents: list[str] = Field(min_length=1, max_length=20, description=(
        "agents by INN, brand or code name (Keytruda, AMG 510), or regimen acronyms (FOLFOX, "
        "mFOLFIRINOX, STRIDE), which expand to their agents"))
    regimens: list[str] = Field(default=[], max_length=20, description=(
        "the regimens named, as 'FOLFOX (oxaliplatin + fluorouracil + leucovorin)'; set "
        "from regimen acronyms in agents or regimen"))
    start: Day | None = Field(default=None, description="start date, YYYY-MM-DD")
    end: Day | None = Field(default=None, description="end date, YYYY-MM-DD; none: ongoing")
    response: RESPONSE | None = Field(default=None, description=(
        "response at the end of the therapy (RECIST): CR, PR, SD or PD"))
    best_response: RESPONSE | None = Field(default=None, description=(
        "best response during the therapy: CR, PR, SD or PD"))
    response_date: Day | None = Field(default=None, description=(
        "when the response was assessed, YYYY-MM-DD"))
    line: Whole | None = Field(default=None, ge=1, le=20, description="line of therapy, 1 to 20")
    setting: str | None = Field(default=None, description="setting (adjuvant, metastatic, ...)")

    _regimen_names = model_validator(mode="before")(_regimens)
    _agents = field_validator("agents", mode="before")(_agents)
    _responses = field_validator("response", "best_response", mode="before")(_upper)

    @model_validator(mode="after")
    def _dates(self) -> Self:
        if self.start and self.end and self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        if self.start and self.response_date and self.response_date < self.start:
            raise ValueError(f"response_date {self.response_date} is before start {self.start}; "
                             "a response is assessed after the therapy starts")
        return self

    @property
    def ongoing(self) -> bool:
        return self.end is None

    @property
    def progressed(self) -> bool:
        return self.response == "PD"

    @property
    def outcome_date(self) -> dt.date | None:
        """When the response (e.g. progression) was assessed: response_date, else end."""
        return self.response_date or self.end


class CtdnaVariant(Model):
    gene: str = Field(description="HGNC symbol (aliases and previous symbols resolve)")
    change: str | None = Field(default=None, description=(
        "the variant (same notation as an alteration's change); stored in canonical form"))
    vaf: Number | None = Field(default=None, ge=0, le=1,
                              description="variant allele fraction, 0 to 1 (0.31, not 31)")
    detected: Flag | None = Field(default=None, description="false: tested and not detected")
    isoform: str | None = Field(default=None, description="isoform named in place of the gene")
    change_as_written: str | None = Field(default=None, description=(
        "the change as written when it differs from the canonical form"))

    _written = model_validator(mode="before")(_as_written)
    _vaf_fraction = field_validator("vaf", mode="before")(_vaf)
    _gene = field_validator("gene")(Alteration._gene.__func__)  # type: ignore[attr-defined]
    _change = field_validator("change")(Alteration._change.__func__)  # type: ignore[attr-defined]


class CtdnaDraw(Model):
    date: Day = Field(description="date of the draw, YYYY-MM-DD")
    tumour_fraction: Number | None = Field(default=None, ge=0, le=1, description=(
        "ctDNA tumour fraction, 0 to 1 (also written tumor_fraction)"))
    lod: Number | None = Field(default=None, ge=0, le=1, description="limit of detection (VAF)")
    variants: list[CtdnaVariant] = Field(default=[], max_length=MAX_LIST,
                                         description="variants tested in this draw")
    assay: str | None = Field(default=None, description="assay name")

    @field_validator("variants")
    @classmethod
    def _variant_order(cls, variants: list[CtdnaVariant]) -> list[CtdnaVariant]:
        keys = [(v.gene, v.change) for v in variants]
        for key in keys:
            if keys.count(key) > 1:
                raise ValueError(f"variant {key[0]} {key[1] or ''} is listed twice in one draw")
        return sorted(variants, key=lambda v: (v.gene, v.change or ""))

    @model_validator(mode="before")
    @classmethod
    def _tumor_fraction(cls, value: Any) -> Any:
        if isinstance(value, dict) and "tumor_fraction" in value:
            value = dict(value)
            if "tumour_fraction" in value:
                raise ValueError("give tumour_fraction or tumor_fraction, not both")
            value["tumour_fraction"] = value.pop("tumor_fraction")
        return value


_REGIMEN_DISPLAY = re.compile(r"[^()]+ \([^()+]+( \+ [^()+]+)+\)")
"""How a regimen is shown: ``FOLFOX (oxaliplatin + fluorouracil + leucovorin)``."""


class DrugSensitivity(Model):
    agent: str = Field(description="agent tested (INN, brand or code name)")
    result: Literal["sensitive", "intermediate", "resistant"] = Field(
        description="sensitive, intermediate or resistant")
    assay: str | None = Field(default=None, description="assay (patient-derived organoid, ...)")
    date: Day | None = Field(default=None, description="date of the result, YYYY-MM-DD")

    @field_validator("agent", mode="before")
    @classmethod
    def _agent(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value
        vocab = _vocab(info)
        if any(value == r.display for r in vocab.regimens.regimens):
            return value  # a validated result, validated again
        regimen = vocab.regimen(value)
        if regimen is not None:  # a combination tested as such: kept whole, not split
            return regimen.display
        return _vocab_call(vocab.agent, value)

    @property
    def regimen(self) -> bool:
        """Whether the result is for a regimen tested as a combination (``FOLFOX (...)``)."""
        return _REGIMEN_DISPLAY.fullmatch(self.agent) is not None

    @field_validator("result", mode="before")
    @classmethod
    def _result(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


class Clinical(Model):
    conditions: list[str] = Field(default=[], max_length=50, description=(
        "clinical conditions (knowledge/vocabulary.yaml, 'conditions')"))
    ecog: Whole | None = Field(default=None, ge=0, le=5, description="ECOG performance status, 0-5")

    @field_validator("conditions", mode="before")
    @classmethod
    def _conditions(cls, value: Any, info: ValidationInfo) -> Any:
        vocab = _vocab(info)
        return _normalise_terms(value, vocab, vocab.conditions, "clinical condition")


class CtdnaSettings(Model):
    response_drop: Number = Field(default=0.5, gt=0, lt=1, description=(
        "molecular response: fall from baseline by more than this fraction"))
    rise_from_nadir: Number = Field(default=0.5, gt=0, le=100, description=(
        "rise: at least this fraction above the nadir"))
    default_lod: Number = Field(default=0.001, ge=0, lt=1, description=(
        "limit of detection (VAF / tumour fraction) when a draw gives none"))


class Settings(Model):
    ctdna: CtdnaSettings = Field(default=CtdnaSettings(), description="ctDNA thresholds")


class Profile(Model):
    id: str | None = Field(default=None, max_length=100, description="profile identifier")
    tumour: Tumour = Field(description="the tumour (also written tumor)")
    alterations: list[Alteration] = Field(default=[], max_length=MAX_LIST, description=(
        "tissue genomic findings"))
    biomarkers: Biomarkers = Field(default=Biomarkers(), description=(
        "MSI, TMB, PD-L1, expression, tumour microenvironment and microbiome"))
    therapies: list[Therapy] = Field(default=[], max_length=50, description=(
        "treatment history, any order (sorted by start date)"))
    ctdna: list[CtdnaDraw] = Field(default=[], max_length=200, description="ctDNA draws")
    drug_sensitivity: list[DrugSensitivity] = Field(default=[], max_length=MAX_LIST,
                                                    description="organoid drug-sensitivity results")
    clinical: Clinical = Field(default=Clinical(), description="clinical conditions and ECOG")
    settings: Settings = Field(default=Settings(), description="evaluation settings")

    @model_validator(mode="before")
    @classmethod
    def _spellings(cls, value: Any) -> Any:
        if isinstance(value, dict) and "tumor" in value:
            if "tumour" in value:
                raise ValueError("give 'tumour' or 'tumor', not both")
            value = dict(value)
            value["tumour"] = value.pop("tumor")
        return value

    @field_validator("ctdna")
    @classmethod
    def _sorted_draws(cls, draws: list[CtdnaDraw]) -> list[CtdnaDraw]:
        seen: set[dt.date] = set()
        for draw in draws:
            if draw.date in seen:
                raise ValueError(f"two ctDNA draws share the date {draw.date}; merge them")
            seen.add(draw.date)
        return sorted(draws, key=lambda d: d.date)

    @field_validator("therapies")
    @classmethod
    def _therapies_in_time_order(cls, therapies: list[Therapy]) -> list[Therapy]:
        """Oldest first, whatever the input order; undated lines keep their place last."""
        return sorted(therapies, key=lambda t: (t.start or dt.date.max, t.end or dt.date.max,
                                               t.agents, t.response or "", t.line or 0))

    @field_validator("drug_sensitivity")
    @classmethod
    def _sensitivity_order(cls, results: list[DrugSensitivity]) -> list[DrugSensitivity]:
        return sorted(results, key=lambda s: (s.agent, s.date or dt.date.min, s.result))

    @field_validator("alterations")
    @classmethod
    def _no_conflicts(cls, alterations: list[Alteration]) -> list[Alteration]:
        alterations = sorted(alterations, key=lambda a: (a.gene, a.change or "", a.type or "",
                                                         -1.0 if a.vaf is None else a.vaf))
        for a in alterations:
            if a.type == "wild-type":
                clash = [b for b in alterations if b.gene == a.gene and b.type == "mutation"]
                if clash:
                    raise ValueError(f"{a.gene} is listed both as wild-type and as mutated "
                                     f"({clash[0].change or clash[0].type}); keep the one "
                                     "that is right")
        return alterations


def _allowed_keys(loc: tuple[str | int, ...]) -> list[str]:
    model: Any = Profile
    for part in loc:
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return []
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        candidates = [annotation, *args]
        model = next((c for c in candidates if isinstance(c, type) and issubclass(c, Model)), None)
        if model is None:
            return []
    names = list(getattr(model, "model_fields", {}))
    if model is Profile:
        names.append("tumor")
    return names


def _name_word(word: str) -> bool:
    letters = word.replace("-", "").replace("'", "").replace("\u2019", "")
    return len(letters) >= 2 and letters.isalpha() and word[0].isupper()


def looks_like_person_name(profile_id: str | None) -> bool:
    """Does a profile id look like a person's name (reports use the id as their title, and the
    id must never carry names)? ``"Müller, Hans"`` and ``"Hans Müller"`` do; ``"TB-2026-014"``,
    ``"EX-CRC-01"`` and ``"KRAS G12C"`` do not.

    Either comma-separated groups of capitalised words, or two or more capitalised words of
    letters only, each with a lower-case letter (so upper-case codes such as ``CRC KRAS`` pass).
    """
    if not profile_id:
        return False
    text = " ".join(profile_id.split())
    if "," in text:
        parts = [p.split() for p in text.split(",")]
        return len(parts) >= 2 and all(parts) and all(_name_word(w) for p in parts for w in p)
    words = text.split(" ")
    return len(words) >= 2 and all(_name_word(w) and not w.isupper() for w in words)


def _unsafe_character(text: str) -> str | None:
    """The first control (C0, DEL, C1) or bidirectional-formatting character in ``text``."""
    found = _UNSAFE.search(text)
    return found.group() if found is not None else None


BIDI_CONTROLS = frozenset("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e"
                          "\u2066\u2067\u2068\u2069\u2028\u2029")
"""Characters that reorder or break displayed text (right-to-left overrides, isolates,
marks, line and paragraph separators)."""

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f" + "".join(sorted(BIDI_CONTROLS)) + "]")
"""One C0, DEL, C1 or :data:`BIDI_CONTROLS` character (searched in C, not per character)."""


def _check_text(doc: Document, value: Any, path: tuple[str | int, ...] = ()) -> None:
    """Refuse control and bidi characters in every text value and key of a profile.

    Every profile text field is a single line (ids, stage, histology, setting,
    assay, names), so no control character (tab and newline included) is
    accepted: none can forge report sections or reach a terminal.
    """
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(value, path)]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str):
            bad = _unsafe_character(item)
            if bad is not None:
                raise ProfileError(
                    f"contains the control character U+{ord(bad):04X}; text fields are one "
                    "line of printable text", source=doc.source, field=dotted(where),
                    line=doc.line_of(where), hint="remove it (and any line break)")
        elif isinstance(item, dict):
            for key, sub in item.items():
                stack.append((key, where))
                stack.append((sub, (*where, str(key))))
        elif isinstance(item, list | tuple | set | frozenset):
            stack.extend((sub, (*where, i)) for i, sub in enumerate(item))


def profile_from_document(doc: Document, vocab: Vocabulary) -> Profile:
    if not isinstance(doc.data, dict):
        kind = type(doc.data).__name__ if doc.data is not None else "nothing"
        raise ProfileError(
            f"a profile must be a mapping of fields (tumour, alterations, ...), not {kind}",
            source=doc.source,
            hint="see examples/ for the format",
        )
    _check_text(doc, doc.data)
    try:
        return Profile.model_validate(doc.data, context={"vocab": vocab})
    except ValidationError as exc:
        raise validation_error(exc, doc, ProfileError, allowed_keys=_allowed_keys) from None
    except RecursionError:  # pragma: no cover - bounded by MAX_DEPTH before this
        raise ProfileError("profile is nested too deeply", source=doc.source) from None


def load_profile(
    source: str | Path | dict[str, Any] | Profile | IO[bytes] | IO[str], vocab: Vocabulary
) -> Profile:
    """Load a profile from a path (``-`` for stdin), a dict, a stream or a model.

    A ``str`` is always a file name; a str holding a newline or starting with ``{`` or
    ``[`` is refused as profile text passed by mistake. Streams may be binary or text.
    """
    if isinstance(source, Profile):
        return source
    if isinstance(source, dict):
        return profile_from_document(Document(source, {}, "<profile>"), vocab)
    if isinstance(source, str) and ("\n" in source or source.lstrip()[:1] in ("{", "[")):
        raise ProfileError(
            "a str is read as a file name, and this one looks like profile text",
            hint="pass the parsed data instead: evaluate(yaml.safe_load(text)), or a stream: "
                 "evaluate(io.StringIO(text))")
    if isinstance(source, str | Path):
        if str(source) == "-":
            import sys

            stdin = getattr(sys.stdin, "buffer", None) if sys.stdin is not None else None
            return profile_from_document(read_stream(stdin), vocab)
        return profile_from_document(read_document(Path(source)), vocab)
    if hasattr(source, "read"):
        return profile_from_document(read_stream(source), vocab)
    raise ProfileError(f"cannot read a profile from {type(source).__name__}",
                       hint="pass a path, a dict, a stream or a Profile")


def profile_from_text(text: str, vocab: Vocabulary, source: str = "<text>") -> Profile:
    return profile_from_document(parse_text(text, source), vocab)


SCHEMA_ID = "urn:regimen:schema:profile:2"
"""The ``$id`` of the profile schema (a URN: the schema is not published at a URL)."""


def _any_case(term: str, separators: str = "-_ ", dots: bool = False) -> str:
    """A regular expression matching ``term`` in any case, with ``-``, ``_`` or a space
    between words, as the profile loader reads it."""
    out = []
    for char in term:
        if char == "-":
            out.append(f"[{separators}]")
        elif char.isalpha() and char.isascii():
            out.append(f"[{char.upper()}{char.lower()}]" + ("[.]?" if dots else ""))
        else:
            out.append("\\" + char if not char.isalnum() else char)
    return "".join(out)


def _one_of_terms(terms: list[str], what: str, separators: str = "-_ ",
                  dots: bool = False) -> dict[str, Any]:
    """The canonical terms as an ``enum``, and the spellings the loader also reads."""
    pattern = "|".join(_any_case(t, separators, dots) for t in terms)
    return {"anyOf": [{"enum": terms}, {"type": "string", "pattern": f"^ *({pattern}) *$"}],
            "description": f"{what}: one of {', '.join(terms)} (any case)"}


def _term_list(terms: list[str], what: str, field: dict[str, Any]) -> dict[str, Any]:
    """A field that takes one term or a list of terms."""
    one = _one_of_terms(terms, what)
    return {"anyOf": [{"type": "array", "items": one, "maxItems": field.get("maxItems", 500)},
                      one], "default": [], "description": field["description"]}


_BOUNDS = {"ge": "minimum", "le": "maximum", "gt": "exclusiveMinimum", "lt": "exclusiveMaximum"}


def _json_bounds(node: Any) -> Any:
    """The bounds of the strict fields (Number, Whole) as JSON Schema keywords: pydantic
    writes ``ge``/``le`` for a constraint on a type with a before-validator."""
    if isinstance(node, list):
        return [_json_bounds(item) for item in node]
    if not isinstance(node, dict):
        return node
    bounded = "type" in node and node.get("type") in ("number", "integer")
    return {(_BOUNDS[key] if bounded and key in _BOUNDS else key): _json_bounds(value)
            for key, value in node.items()}


def profile_schema(vocab: Vocabulary) -> dict[str, Any]:
    """The JSON Schema of a profile: what :func:`load_profile` accepts, with the spellings
    it also reads (``tumor``, ``tumor_fraction``, ``regimen``, terms in any case), the
    enumerations of TME, microbiome and clinical terms, and a description on every field.

    Names checked against the reference data (genes, agents, tumour types) and variant
    notation are strings here: the schema cannot hold HGNC, NCIt and OncoTree."""
    schema = _json_bounds(Profile.model_json_schema())
    defs = schema["$defs"]
    props = schema["properties"]
    props["tumor"] = {**props["tumour"], "description": "same as tumour"}
    schema["required"] = [r for r in schema.get("required", []) if r != "tumour"]
    schema["oneOf"] = [{"required": ["tumour"]}, {"required": ["tumor"]}]
    draw = defs["CtdnaDraw"]["properties"]
    draw["tumor_fraction"] = {**draw["tumour_fraction"], "description": "same as tumour_fraction"}
    defs["CtdnaDraw"]["not"] = {"required": ["tumour_fraction", "tumor_fraction"]}
    therapy = defs["Therapy"]
    therapy["properties"]["regimen"] = {
        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
        "description": "regimen acronym(s) (FOLFOX, CAPOX, STRIDE, ...: "
                       "knowledge/regimens.yaml), expanded to their agents"}
    therapy["required"] = []
    therapy["anyOf"] = [{"required": ["agents"]}, {"required": ["regimen"]}]
    markers = defs["Biomarkers"]["properties"]
    markers["tme"] = _term_list(sorted(vocab.tme), "tumour-microenvironment term",
                                markers["tme"])
    taxa = sorted({name for taxon, synonyms in vocab.microbiome.items()
                   for name in (taxon, *synonyms) if name.isascii()})
    markers["microbiome"]["propertyNames"] = _one_of_terms(taxa, "microbiome term", dots=True)
    markers["microbiome"]["x-terms"] = sorted(vocab.microbiome)
    msi = ["MSI-H", "MSI-L", "MSS", "MSI-HIGH", "MSIH", "MSI-LOW", "DMMR", "PMMR"]
    markers["msi"]["anyOf"] = [_one_of_terms(msi, "microsatellite status", "- "),
                               {"type": "null"}]
    clinical = defs["Clinical"]["properties"]
    clinical["conditions"] = _term_list(sorted(vocab.conditions), "clinical condition",
                                        clinical["conditions"])
    markers["expression"]["additionalProperties"] = _one_of_terms(
        ["high", "low", "normal", "absent"], "expression level", "-")
    markers["microbiome"]["additionalProperties"] = _one_of_terms(
        ["high", "low", "absent"], "microbiome level", "-")
    alteration = defs["Alteration"]["properties"]
    alteration["type"]["anyOf"] = [
        _one_of_terms(list(get_args(ALTERATION_TYPES)), "alteration type", "-"),
        {"type": "null"}]
    for name in ("response", "best_response"):
        defs["Therapy"]["properties"][name]["anyOf"] = [
            _one_of_terms(["CR", "PR", "SD", "PD"], "RECIST response", ""), {"type": "null"}]
    defs["DrugSensitivity"]["properties"]["result"] = {
        **_one_of_terms(["sensitive", "intermediate", "resistant"], "organoid result", "")}
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "description": "A patient profile for regimen (see README, 'The profile').",
            **schema}


FUTURE_MARGIN = dt.timedelta(days=366)
"""Dates later than this after today are reported as warnings (probably mistyped)."""
EARLIEST = dt.date(1900, 1, 1)


def profile_warnings(profile: Profile, today: dt.date | None = None) -> list[str]:
    """Plausibility warnings: dates far in the future or before 1900 (kept, but named)."""
    today = today or dt.date.today()
    dated: list[tuple[str, dt.date | None]] = []
    for i, t in enumerate(profile.therapies):
        dated += [(f"therapies[{i}].start", t.start), (f"therapies[{i}].end", t.end),
                  (f"therapies[{i}].response_date", t.response_date)]
    dated += [(f"ctdna[{i}].date", d.date) for i, d in enumerate(profile.ctdna)]
    dated += [(f"drug_sensitivity[{i}].date", s.date)
              for i, s in enumerate(profile.drug_sensitivity)]
    out = []
    for field, date in dated:
        if date is None:
            continue
        if date > today + FUTURE_MARGIN:
            out.append(f"{field}: {date} is more than a year in the future; check the year")
        elif date < EARLIEST:
            out.append(f"{field}: {date} is before {EARLIEST.year}; check the year")
    return out
