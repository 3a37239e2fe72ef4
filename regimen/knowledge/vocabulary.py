"""Controlled vocabularies: tumour types (OncoTree), genes, agents, terms.

The knowledge base's own names come first (``knowledge/vocabulary.yaml``,
``knowledge/agents*.yaml``, ``knowledge/regimens.yaml``); a name they do not
know is looked up in the shipped reference data (:mod:`.reference`: HGNC,
OncoTree, NCIt), which is read only then. A value that matches nothing but is
close to a known one (``KRASS``, ``oxaliplatinn``) is an error that names the
known value; a known name never gets a suggestion.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

from ..errors import VocabularyError
from . import reference
from .regimens import Regimen, RegimenIndex

GENE_RE = re.compile(r"^[A-Z][A-Z0-9]*(?:-[A-Z0-9]+)*$")
AGENT_RE = re.compile(r"^[a-z0-9][a-z0-9\-]*$")
_MEMO_SIZE = 65536
"""Most look-ups remembered per vocabulary (a batch process must not grow without bound)."""

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


class TumourType(NamedTuple):
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
    regimens: RegimenIndex = field(default_factory=lambda: RegimenIndex(()))

    def __post_init__(self) -> None:
        self._tumour_cache: dict[str, TumourType] = {}
        self._lineage_cache: dict[str, tuple[str, ...]] = {}
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
        """The code of a tumour type: the knowledge base's codes and names first, then every
        OncoTree code and name (release oncotree_2025_10_03)."""
        key = _key(raw)
        code = self._tumour_index.get(key) or self._tumour_index.get(key.replace("-", " "))
        if code is not None:
            return code
        try:
            return reference.oncotree_node(str(raw)).code
        except VocabularyError as exc:
            if "names" in exc.message:  # a name shared by several nodes
                raise
            raise VocabularyError(
                f"unknown tumour type {raw!r}: not an OncoTree code or name "
                "(release oncotree_2025_10_03)",
                hint=(exc.hint if exc.hint and exc.hint.startswith("did you mean") else
                      "use an OncoTree code or name, e.g. COADREAD, STAD, IHCH, HCC, PAAD"),
            ) from None

    def patient_tumour(self, raw: str) -> str:
        """The code of a tumour a patient can have: a gastrointestinal OncoTree code or name
        (or a knowledge-base name for one); a non-GI type is an error naming its organ
        system, a group code (GI) an error asking for the tumour type."""
        code = self.tumour_code(raw)
        tumour = self.tumour(code)
        if not tumour.gi:
            node = reference.find_node(code)
            where = (f"belongs to the {node.tissue} organ system in OncoTree, not to a "
                     "gastrointestinal one" if node is not None
                     else "is not a gastrointestinal cancer")
            described = f"{node.code}, {node.name}" if node is not None else tumour.name
            raise VocabularyError(
                f"{raw!r} ({described}) {where}",
                hint="regimen covers the OncoTree tissues Ampulla of Vater, Biliary Tract, "
                     "Bowel, Esophagus/Stomach, Liver and Pancreas")
        if code in self.tumours and self.tumours[code].parent is None:
            raise VocabularyError(
                f"{raw!r} is too general",
                hint="give the tumour type as an OncoTree code or name (e.g. COAD, STAD, "
                     "IHCH, PAAD)")
        return code

    def is_tumour_code(self, code: str) -> bool:
        """True for a knowledge code (GI, SOLID, ...) or an OncoTree code."""
        return code in self.tumours or reference.find_node(code) is not None

    def tumour(self, code: str) -> TumourType:
        """The tumour type with this code: OncoTree's node (name, parent, tissue as organ)
        when OncoTree has the code, else the knowledge base's pseudo-code (GI, SOLID, ...)."""
        cached = self._tumour_cache.get(code)
        if cached is not None:
            return cached
        known = self.tumours.get(code)
        node = reference.find_node(code)
        if node is None:
            if known is None:
                raise VocabularyError(f"unknown tumour code {code!r}")
            found = TumourType(known.code, known.name, known.parent,
                               _ORGAN_TISSUE.get(known.organ, known.organ), known.gi,
                               known.synonyms)
        else:
            found = TumourType(node.code, node.name, node.parent,
                               reference.tissue_code(node.code), reference.is_gi(node.code),
                               known.synonyms if known else ())
        self._tumour_cache[code] = found
        return found

    def lineage(self, code: str) -> tuple[str, ...]:
        """The code and every code it belongs to: ``COAD`` -> ``(COAD, COADREAD, BOWEL, GI)``,
        ``IHCH`` -> ``(IHCH, CHOL, IPN, BILIARY_TRACT, BILIARY, GI)``.

        OncoTree's ancestry (without the root ``TISSUE``) comes first, then the knowledge
        base's groupings of each member: GBC and CHOL hang under precursor lesions in
        OncoTree, so the biliary group is reached through the tissue ``BILIARY_TRACT``.
        """
        cached = self._lineage_cache.get(code)
        if cached is not None:
            return cached
        chain: list[str] = []

        def add(item: str) -> None:
            if item not in chain:
                chain.append(item)

        nodes = reference.lineage(code) if reference.find_node(code) is not None else ()
        for node in nodes:
            if node.level > 0:
                add(node.code)
        if nodes and reference.is_gi(code):
            tissue_group = _TISSUE_GROUP.get(reference.tissue_code(code))
            if tissue_group:
                add(tissue_group)
        for member in list(chain) or [code]:
            current: str | None = member
            while current is not None and current in self.tumours:
                add(current)
                current = self.tumours[current].parent
        if nodes and reference.is_gi(code):
            add("GI")
        self._lineage_cache[code] = tuple(chain)
        return tuple(chain)

    # -- genes ----------------------------------------------------------------
    def gene(self, raw: str) -> str:
        """Canonical HGNC symbol; raises on a string that is no HGNC symbol."""
        return self.gene_isoform(raw)[0]

    def gene_isoform(self, raw: str) -> tuple[str, str | None]:
        """``(approved symbol, isoform or None)``: the knowledge base's aliases first
        (survivin, TIM-3, P-gp), then HGNC approved, alias and previous symbols and the
        isoform names of ``reference/gene_isoforms.tsv`` (``CLDN18.2``).

        Memoised: a profile names the same gene in every ctDNA draw, and a
        batch names the same genes in every profile."""
        if not isinstance(raw, str):
            return self._lookup_gene(raw)
        memo: dict[str, tuple[str, str | None]] = self.__dict__.setdefault("_gene_memo", {})
        found = memo.get(raw)
        if found is None:
            found = self._lookup_gene(raw)
            if len(memo) >= _MEMO_SIZE:
                memo.clear()
            memo[raw] = found
        return found

    def _lookup_gene(self, raw: str) -> tuple[str, str | None]:
        key = _gene_key(raw)
        if key in self._gene_alias:
            return self._gene_alias[key], None
        if key in self.other_genes:
            return key, None
        if not reference.is_gene_symbol(str(raw)) and key:
            found = reference.suggest_gene(str(raw))
            ours = [label for label in found if label in self.genes]
            hint = ("did you mean " + " or ".join((ours or list(found))[:5]) + "?" if found
                    else "write the approved HGNC symbol (genenames.org), e.g. KRAS")
            raise VocabularyError(
                f"unknown gene {raw!r}: not an HGNC symbol, alias or previous symbol",
                hint=hint)
        resolved = reference.resolve_gene(str(raw))
        return resolved.symbol, resolved.isoform

    # -- agents -----------------------------------------------------------------
    def regimen(self, raw: str) -> Regimen | None:
        """The regimen an acronym names (FOLFOX, mFOLFIRINOX, STRIDE, ...), else None;
        a knowledge-base agent of the same spelling wins."""
        if _key(raw).replace(" ", "-") in self._agent_alias:
            return None
        return self.regimens.expand(str(raw))

    def agent(self, raw: str) -> str:
        """Canonical agent id: the knowledge base's agents and their synonyms first, then
        NCIt preferred names, synonyms, brand and code names. A well-formed name that matches
        nothing and is not one edit from a known name is kept as written (and reported as
        not considered)."""
        key = _key(raw).replace(" ", "-")
        if key in self._agent_alias:
            return self._agent_alias[key]
        if reference.is_agent_name(str(raw)):
            return reference.resolve_agent(str(raw)).id
        close = set(reference.suggest_agent(str(raw)))
        close |= {self._agent_alias[k] for k in self._agent_alias
                  if abs(len(k) - len(key)) <= 1 and damerau(k, key) == 1}
        if close:
            raise VocabularyError(
                f"unknown agent {raw!r}",
                hint="did you mean " + " or ".join(sorted(close)[:5]) + "?")
        if not AGENT_RE.match(key):
            raise VocabularyError(
                f"{raw!r} is not an agent name",
                hint="use the international non-proprietary name, e.g. oxaliplatin",
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
            hint=_hint(_suggest(key, {a: a for a in allowed}), f"allowed: {', '.join(allowed)}"),
        )

    def taxon(self, raw: str) -> str:
        key = _key(raw).replace(" ", "-").replace(".", "")
        if key in self._taxon_alias:
            return self._taxon_alias[key]
        raise VocabularyError(
            f"unknown microbiome term {raw!r}",
            hint=_hint(_suggest(key, self._taxon_alias),
                       f"allowed: {', '.join(sorted(self.microbiome))}"),
        )


_ORGAN_TISSUE = {"bowel": "BOWEL", "esophagus-stomach": "STOMACH", "liver": "LIVER",
                 "pancreas": "PANCREAS", "biliary-tract": "BILIARY_TRACT"}
"""Knowledge-base organ names -> OncoTree level-1 tissue codes."""

_TISSUE_GROUP = {"BILIARY_TRACT": "BILIARY"}
"""OncoTree tissues whose tumours belong to a knowledge-base group code."""


def _key(raw: str) -> str:
    return " ".join(str(raw).strip().lower().replace("_", " ").split())


def _gene_key(raw: str) -> str:
    text = str(raw).strip().upper().replace("Α", "A").replace("Β", "B")
    text = text.replace("α", "A").replace("β", "B").replace(" ", "-").replace("_", "-")
    return text


def _suggest(key: str, index: Mapping[str, str]) -> str:
    close = difflib.get_close_matches(key, list(index), n=1, cutoff=0.75)
    return f"did you mean {index[close[0]]}?" if close else ""


def _hint(*parts: str) -> str:
    """Hint parts joined with one separator, empty parts left out."""
    return " ".join(part for part in parts if part)
