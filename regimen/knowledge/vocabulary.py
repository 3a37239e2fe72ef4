"""Controlled vocabularies: tumour types (OncoTree), genes, agents, terms.

The data lives in ``knowledge/vocabulary.yaml`` and ``knowledge/agents.yaml``;
this module turns it into normalisers. A value that is close to a known one
(a likely typo such as ``KRASS`` or ``oxaliplatinn``) is an error that names the
known value; a well-formed gene or agent that nothing uses is accepted and
reported as "not considered".
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from ..errors import VocabularyError

GENE_RE = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*$")
AGENT_RE = re.compile(r"^[a-z0-9][a-z0-9\-]*$")
_MEMO_SIZE = 65536
"""Most look-ups remembered per vocabulary (a batch process must not grow without bound)."""

_THREE_TO_ONE = {
    "ALA": "A", "ARG": "R", "ASN": "N", "ASP": "D", "CYS": "C", "GLN": "Q", "GLU": "E",
    "GLY": "G", "HIS": "H", "ILE": "I", "LEU": "L", "LYS": "K", "MET": "M", "PHE": "F",
    "PRO": "P", "SER": "S", "THR": "T", "TRP": "W", "TYR": "Y", "VAL": "V", "TER": "*",
    "SEC": "U", "XAA": "X",
}
_THREE = "|".join(sorted(_THREE_TO_ONE, key=len, reverse=True))
_PROTEIN_3 = re.compile(rf"^({_THREE})(\d+)({_THREE}|\*|=|FS\*?\d*|DEL|DUP)?(.*)$")
_PROTEIN_1 = re.compile(
    r"^([ACDEFGHIKLMNPQRSTVWYX*])(\d+)([ACDEFGHIKLMNPQRSTVWYX*=]|FS\*?\d*|DEL|DUP)?(.*)$"
)


def normalise_change(raw: str) -> str:
    """Protein change to one-letter, ``p.``-less form: ``p.Gly12Cys`` -> ``G12C``.

    ``X`` and ``Ter`` for a stop become ``*``. Anything that is not a simple
    protein change (``exon 19 deletion``, ``c.35G>T``) is returned tidied but
    otherwise unchanged.
    """
    text = raw.strip()
    if text.lower().startswith("p."):
        text = text[2:]
    text = text.strip("()")
    upper = text.upper()
    match = _PROTEIN_3.match(upper)
    if match and len(match.group(1)) == 3:
        ref, pos, alt, rest = match.groups()
        ref1 = _THREE_TO_ONE[ref]
        alt1 = _THREE_TO_ONE.get(alt or "", alt or "")
        return _tidy_alt(f"{ref1}{pos}{alt1}{rest}")
    match = _PROTEIN_1.match(upper)
    if match:
        return _tidy_alt(upper)
    return " ".join(text.split())


def _tidy_alt(change: str) -> str:
    change = change.replace("FS", "fs").replace("DEL", "del").replace("DUP", "dup")
    if re.match(r"^[A-Z*]\d+X$", change):
        change = change[:-1] + "*"
    return change


def damerau(a: str, b: str) -> int:
    """Optimal string alignment distance (insert, delete, substitute, transpose)."""
    rows = [[0] * (len(b) + 1) for _ in range(len(a) + 1)]
    for i in range(len(a) + 1):
        rows[i][0] = i
    for j in range(len(b) + 1):
        rows[0][j] = j
    for i in range(1, len(a) + 1):
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            rows[i][j] = min(rows[i - 1][j] + 1, rows[i][j - 1] + 1, rows[i - 1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                rows[i][j] = min(rows[i][j], rows[i - 2][j - 2] + 1)
    return rows[len(a)][len(b)]


def _gene_typo(value: str, known: str) -> bool:
    """A one-letter insertion/deletion or a transposition; not a substitution.

    Gene families differ by substitution (KRAS/HRAS/NRAS, ERBB2/ERBB3) or by a
    trailing digit (ABCB1/ABCB11), so only these shapes are taken for typos.
    """
    if value == known or damerau(value, known) != 1:
        return False
    if len(value) == len(known):
        return sorted(value) == sorted(known)  # transposition
    longer, shorter = (value, known) if len(value) > len(known) else (known, value)
    for i in range(len(longer)):
        if longer[:i] + longer[i + 1:] == shorter:
            return longer[i].isalpha()
    return False


@dataclass(frozen=True)
class TumourType:
    code: str
    name: str
    parent: str | None
    organ: str
    gi: bool
    synonyms: tuple[str, ...] = ()


@dataclass
class Vocabulary:
    """Everything the profile and the rules may name."""

    tumours: dict[str, TumourType]
    genes: dict[str, tuple[str, ...]]
    other_genes: frozenset[str]
    levels: tuple[str, ...]
    microbiome_levels: tuple[str, ...]
    tme: dict[str, str]
    microbiome: dict[str, tuple[str, ...]]
    conditions: dict[str, str]
    alteration_types: tuple[str, ...]
    responses: tuple[str, ...]
    sensitivity_results: tuple[str, ...]
    msi_values: tuple[str, ...]
    agents: dict[str, tuple[str, ...]] = field(default_factory=dict)
    agent_classes: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._tumour_index: dict[str, str] = {}
        for code, tumour in self.tumours.items():
            self._tumour_index[code.lower()] = code
            for syn in tumour.synonyms:
                self._tumour_index[_key(syn)] = code
        self._gene_alias: dict[str, str] = {}
        for symbol, aliases in self.genes.items():
            self._gene_alias[symbol] = symbol
            for alias in aliases:
                self._gene_alias[_gene_key(alias)] = symbol
        self._agent_alias: dict[str, str] = {}
        for agent, synonyms in self.agents.items():
            self._agent_alias[agent] = agent
            for syn in synonyms:
                self._agent_alias[_key(syn).replace(" ", "-")] = agent
        self._taxon_alias: dict[str, str] = {}
        for taxon, synonyms in self.microbiome.items():
            self._taxon_alias[taxon] = taxon
            for syn in synonyms:
                self._taxon_alias[_key(syn).replace(" ", "-")] = taxon

    # -- tumour types -------------------------------------------------------
    def tumour_code(self, raw: str) -> str:
        key = _key(raw)
        code = self._tumour_index.get(key) or self._tumour_index.get(key.replace("-", " "))
        if code is None:
            raise VocabularyError(
                f"unknown tumour type {raw!r}",
                hint=_suggest(key, self._tumour_index, "use an OncoTree code or name")
                + f"; known codes: {', '.join(c for c, t in self.tumours.items() if t.gi)}",
            )
        return code

    def lineage(self, code: str) -> tuple[str, ...]:
        """``COAD`` -> ``("COAD", "COADREAD", "GI")``."""
        chain: list[str] = []
        current: str | None = code
        while current is not None and current not in chain:
            chain.append(current)
            current = self.tumours[current].parent if current in self.tumours else None
        return tuple(chain)

    # -- genes ----------------------------------------------------------------
    def gene(self, raw: str) -> str:
        """Canonical HGNC symbol; raises on a malformed symbol or a likely typo.

        Memoised: a profile names the same gene in every ctDNA draw, and a
        batch names the same genes in every profile."""
        if not isinstance(raw, str):
            return self._lookup_gene(raw)
        memo: dict[str, str] = self.__dict__.setdefault("_gene_memo", {})
        found = memo.get(raw)
        if found is None:
            found = self._lookup_gene(raw)
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            memo[raw] = found
        return found

    def _lookup_gene(self, raw: str) -> str:
        key = _gene_key(raw)
        if key in self._gene_alias:
            return self._gene_alias[key]
        if not GENE_RE.match(key):
            raise VocabularyError(
                f"{raw!r} is not a gene symbol",
                hint="use the HGNC symbol, e.g. KRAS, ABCB1, BIRC5",
            )
        if key in self.other_genes:
            return key
        for known in sorted(self._gene_alias):
            if _gene_typo(key, known) and len(known) >= 3:
                canonical = self._gene_alias[known]
                raise VocabularyError(
                    f"unknown gene {raw!r}",
                    hint=f"did you mean {canonical}?",
                )
        return key

    # -- agents -----------------------------------------------------------------
    def agent(self, raw: str) -> str:
        key = _key(raw).replace(" ", "-")
        if key in self._agent_alias:
            return self._agent_alias[key]
        if not AGENT_RE.match(key):
            raise VocabularyError(
                f"{raw!r} is not an agent name",
                hint="use the international non-proprietary name, e.g. oxaliplatin",
            )
        limit = 2 if len(key) >= 8 else 1
        best: tuple[int, str] | None = None
        for known in sorted(self._agent_alias):
            if abs(len(known) - len(key)) > limit:
                continue
            distance = damerau(key, known)
            if 0 < distance <= limit and (best is None or distance < best[0]):
                best = (distance, known)
        if best is not None:
            raise VocabularyError(
                f"unknown agent {raw!r}", hint=f"did you mean {self._agent_alias[best[1]]}?"
            )
        return key

    def classes_of(self, agent: str) -> tuple[str, ...]:
        return self.agent_classes.get(agent, ())

    # -- terms --------------------------------------------------------------------
    def term(self, raw: str, allowed: Iterable[str], what: str) -> str:
        key = _key(raw).replace(" ", "-")
        allowed = tuple(allowed)
        if key in allowed:
            return key
        raise VocabularyError(
            f"unknown {what} {raw!r}",
            hint=_suggest(key, {a: a for a in allowed}, "") + f"allowed: {', '.join(allowed)}",
        )

    def taxon(self, raw: str) -> str:
        key = _key(raw).replace(" ", "-").replace(".", "")
        if key in self._taxon_alias:
            return self._taxon_alias[key]
        raise VocabularyError(
            f"unknown microbiome term {raw!r}",
            hint=_suggest(key, self._taxon_alias, "")
            + f"allowed: {', '.join(sorted(self.microbiome))}",
        )


def _key(raw: str) -> str:
    return " ".join(str(raw).strip().lower().replace("_", " ").split())


def _gene_key(raw: str) -> str:
    text = str(raw).strip().upper().replace("Α", "A").replace("Β", "B")
    text = text.replace("α", "A").replace("β", "B").replace(" ", "-").replace("_", "-")
    return text


def _suggest(key: str, index: Mapping[str, str], fallback: str) -> str:
    close = difflib.get_close_matches(key, list(index), n=1, cutoff=0.75)
    if close:
        return f"did you mean {index[close[0]]}?; "
    return f"{fallback}; " if fallback else ""
