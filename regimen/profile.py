"""The patient profile: pydantic models, loading from YAML/JSON, normalisation.

The field names are the contract (see README). Values are normalised against
the knowledge base's vocabulary: gene symbols upper-cased with aliases
resolved, protein changes to one-letter ``p.``-less form, tumour names to
OncoTree codes, agent names to lower-case INN.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from pathlib import Path
from typing import IO, Annotated, Any, Literal

from pydantic import (
    BeforeValidator,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .errors import ProfileError, VocabularyError, shorten
from .io.documents import Document, dotted, parse_text, read_document, read_stream, validation_error
from .knowledge.vocabulary import Vocabulary, normalise_change
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
        raise ValueError(f"expected a date (YYYY-MM-DD), got a date and time {value}")
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _DAY.fullmatch(value.strip()):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"{_shown(value)} is not a date: {exc}") from None
    raise ValueError(f"expected a date written YYYY-MM-DD, got {_shown(value)}")


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
    stage: str | None = None
    histology: str | None = None

    @field_validator("type")
    @classmethod
    def _code(cls, value: str, info: ValidationInfo) -> str:
        vocab = _vocab(info)
        code = _vocab_call(vocab.tumour_code, value)
        tumour = vocab.tumours[code]
        specific = sorted(c for c, t in vocab.tumours.items() if t.gi and t.parent is not None)
        if not tumour.gi:
            raise ValueError(f"{value!r} ({tumour.name}) is not a gastrointestinal cancer; "
                             f"regimen covers {', '.join(specific)}")
        if tumour.parent is None:
            raise ValueError(f"{value!r} is too general: give the tumour type "
                             f"({', '.join(specific)})")
        return code


ALTERATION_TYPES = Literal[
    "mutation", "amplification", "loss", "fusion", "promoter-methylation", "wild-type",
    "overexpression",
]


class Alteration(Model):
    gene: str
    change: str | None = None
    type: ALTERATION_TYPES | None = None
    vaf: Number | None = Field(default=None, ge=0, le=1)

    @field_validator("gene")
    @classmethod
    def _gene(cls, value: str, info: ValidationInfo) -> str:
        return _vocab_call(_vocab(info).gene, value)

    @field_validator("change")
    @classmethod
    def _change(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = normalise_change(value)
        if not value:
            raise ValueError("change is empty; omit it or give e.g. G12C")
        return value

    @field_validator("type", mode="before")
    @classmethod
    def _type_lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _default_type(self) -> Alteration:
        if self.type is None:
            if self.change is None:
                raise ValueError(
                    f"alteration of {self.gene} needs a 'change' (e.g. G12C) or a 'type' "
                    "(mutation, amplification, loss, fusion, promoter-methylation, wild-type)"
                )
            object.__setattr__(self, "type", "mutation")
        return self


LEVEL = Literal["high", "low", "normal", "absent"]
MICROBE_LEVEL = Literal["high", "low", "absent"]


class Biomarkers(Model):
    msi: Literal["MSI-H", "MSI-L", "MSS"] | None = None
    tmb: Number | None = Field(default=None, ge=0, le=10_000)
    pdl1_cps: Number | None = Field(default=None, ge=0, le=10_000)
    expression: dict[str, LEVEL] = Field(default={}, max_length=MAX_LIST)
    tme: list[str] = Field(default=[], max_length=MAX_LIST)
    microbiome: dict[str, MICROBE_LEVEL] = Field(default={}, max_length=MAX_LIST)

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


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


class Therapy(Model):
    agents: list[str] = Field(min_length=1, max_length=20)
    start: Day | None = None
    end: Day | None = None
    response: RESPONSE | None = None
    best_response: RESPONSE | None = None
    response_date: Day | None = None
    line: Whole | None = Field(default=None, ge=1, le=20)
    setting: str | None = None

    _agents = field_validator("agents", mode="before")(_agents)
    _responses = field_validator("response", "best_response", mode="before")(_upper)

    @model_validator(mode="after")
    def _dates(self) -> Therapy:
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
    gene: str
    change: str | None = None
    vaf: Number | None = Field(default=None, ge=0, le=1)
    detected: Flag | None = None

    _gene = field_validator("gene")(Alteration._gene.__func__)  # type: ignore[attr-defined]
    _change = field_validator("change")(Alteration._change.__func__)  # type: ignore[attr-defined]


class CtdnaDraw(Model):
    date: Day
    tumour_fraction: Number | None = Field(default=None, ge=0, le=1)
    lod: Number | None = Field(default=None, ge=0, le=1, description="limit of detection (VAF)")
    variants: list[CtdnaVariant] = Field(default=[], max_length=MAX_LIST)
    assay: str | None = None

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


class DrugSensitivity(Model):
    agent: str
    result: Literal["sensitive", "intermediate", "resistant"]
    assay: str | None = None
    date: Day | None = None

    @field_validator("agent", mode="before")
    @classmethod
    def _agent(cls, value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value
        return _vocab_call(_vocab(info).agent, value)

    @field_validator("result", mode="before")
    @classmethod
    def _result(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value


class Clinical(Model):
    conditions: list[str] = Field(default=[], max_length=50)
    ecog: Whole | None = Field(default=None, ge=0, le=5)

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
    ctdna: CtdnaSettings = CtdnaSettings()


class Profile(Model):
    id: str | None = Field(default=None, max_length=100)
    tumour: Tumour
    alterations: list[Alteration] = Field(default=[], max_length=MAX_LIST)
    biomarkers: Biomarkers = Biomarkers()
    therapies: list[Therapy] = Field(default=[], max_length=50)
    ctdna: list[CtdnaDraw] = Field(default=[], max_length=200)
    drug_sensitivity: list[DrugSensitivity] = Field(default=[], max_length=MAX_LIST)
    clinical: Clinical = Clinical()
    settings: Settings = Settings()

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
                                     f"({clash[0].change}); keep the one that is right")
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


def _unsafe_character(text: str) -> str | None:
    """The first control (C0, DEL, C1) or bidirectional-formatting character in ``text``."""
    for char in text:
        code = ord(char)
        if code < 0x20 or 0x7F <= code <= 0x9F or char in BIDI_CONTROLS:
            return char
    return None


BIDI_CONTROLS = frozenset("\u200e\u200f\u061c\u202a\u202b\u202c\u202d\u202e"
                          "\u2066\u2067\u2068\u2069\u2028\u2029")
"""Characters that reorder or break displayed text (right-to-left overrides, isolates,
marks, line and paragraph separators)."""


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
