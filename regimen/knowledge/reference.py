"""Look-ups in the shipped reference data: HGNC genes, OncoTree tumour types, NCIt agents.

The files live in ``reference/`` (``regimen/_data/reference`` in a wheel) and are built by
``scripts/build_reference.py``. Each file is read once, on first use, into dictionaries keyed
by a normalised spelling, so a look-up is a dictionary access. Typo suggestions use a
symmetric-deletion index (edit distance 1, adjacent transpositions included) that is built
only the first time a string is not found, and only strings that match nothing known get one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import cache, cached_property
from pathlib import Path
from typing import Literal, NamedTuple

from regimen.errors import VocabularyError
from regimen.io.resources import data_dir
from regimen.models import Model

GeneMatch = Literal["approved", "alias", "previous", "isoform"]

GI_TISSUES: frozenset[str] = frozenset(
    {"BOWEL", "STOMACH", "LIVER", "BILIARY_TRACT", "PANCREAS", "AMPULLA_OF_VATER"}
)
"""Level-1 OncoTree tissues counted as gastrointestinal. ``STOMACH`` is named
"Esophagus/Stomach"; appendiceal and anal tumours hang under ``BOWEL``. ``PERITONEUM``
(mesothelioma, serous carcinoma) is not GI, and GIST sits under ``SOFT_TISSUE``."""

# U+2010..U+2015 hyphens and dashes, U+2212 minus: written like "-" in reports.
_DROP = {ord(ch): None for ch in " -_\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u00ae\u2122"}


def normalise(text: str) -> str:
    """The look-up key of a drug or tumour-type name: NFKC, case-folded, without spaces,
    hyphens, underscores and the registered/trade-mark signs (``5-FU`` == ``5fu``)."""
    if text.isascii():
        return text.lower().replace(" ", "").replace("-", "").replace("_", "")
    return unicodedata.normalize("NFKC", text.replace("\u00ae", "").replace("\u2122", "")
                                 ).casefold().translate(_DROP)


def gene_key(text: str) -> str:
    """The look-up key of a gene symbol: NFKC, case-folded, surrounding space removed.
    Hyphens are kept: they are part of HGNC symbols (``HLA-A``, ``NKX2-1``)."""
    return unicodedata.normalize("NFKC", text).strip().casefold()


# ---------------------------------------------------------------- results


class GeneResolution(Model):
    query: str
    symbol: str
    matched: GeneMatch
    isoform: str | None = None
    locus_group: str


class OncoTreeNode(Model):
    code: str
    name: str
    main_type: str
    tissue: str
    parent: str | None
    level: int


class AgentResolution(Model):
    query: str
    id: str
    ncit_code: str | None
    matched_name: str
    preferred_name: str


# ---------------------------------------------------------------- files


def reference_dir() -> Path:
    return data_dir("reference")


def _rows(name: str, columns: int = 0) -> Iterator[list[str]]:
    """Data rows of a reference TSV (``#`` lines and the header skipped); with ``columns``,
    the last of that many fields keeps the rest of the line unsplit."""
    text = (reference_dir() / name).read_text(encoding="utf-8")
    lines = [line for line in text.split("\n") if line and not line.startswith("#")]
    for line in lines[1:]:
        yield line.split("\t", columns - 1) if columns else line.split("\t")


@cache
def provenance(name: str) -> tuple[str, ...]:
    """The ``#`` header lines of a reference file, without the ``# `` prefix."""
    lines: list[str] = []
    with (reference_dir() / name).open(encoding="utf-8") as handle:
        for line in handle:
            if not line.startswith("#"):
                break
            lines.append(line[1:].strip())
    return tuple(lines)


def data_versions() -> dict[str, str]:
    """``{file: data version}`` of the three generated reference files."""
    versions: dict[str, str] = {}
    for name in ("hgnc.tsv", "oncotree.tsv", "ncit_agents.tsv"):
        for line in provenance(name):
            if line.startswith("data version:"):
                versions[name] = line.removeprefix("data version:").strip()
    return versions


# ---------------------------------------------------------------- suggestions


def _within_one(a: str, b: str) -> bool:
    """Optimal-string-alignment distance of ``a`` and ``b`` is at most 1."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (len(diff) == 2 and diff[1] == diff[0] + 1
                and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]])
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1:]


def _deletions(key: str) -> Iterator[str]:
    yield key
    for i in range(len(key)):
        yield key[:i] + key[i + 1:]


class _Suggester:
    """Symmetric-deletion index over look-up keys, built on the first suggestion request.

    ``labels`` returns ``{key: label shown to the user}``; it is called once, lazily, so that
    loading a file does not pay for an index that only failed look-ups need. Keys within edit
    distance 1 of a query of length n have length n-1, n or n+1, so the deletion index is built
    per key length, for the lengths a query needs.
    """

    def __init__(self, labels: Callable[[], dict[str, str]]) -> None:
        self._labels_of = labels
        self._labels: dict[str, str] | None = None
        self._by_length: dict[int, list[str]] = {}
        self._index: dict[int, dict[str, list[str]]] = {}

    def _for_length(self, length: int) -> dict[str, list[str]]:
        if self._labels is None:
            self._labels = self._labels_of()
            for key in self._labels:
                self._by_length.setdefault(len(key), []).append(key)
        index = self._index.get(length)
        if index is None:
            index = {}
            for key in self._by_length.get(length, ()):
                for deleted in set(_deletions(key)):
                    bucket = index.get(deleted)
                    if bucket is None:
                        index[deleted] = [key]
                    else:
                        bucket.append(key)
            self._index[length] = index
        return index

    def suggest(self, key: str) -> tuple[str, ...]:
        found: set[str] = set()
        deletions = set(_deletions(key))
        for length in (len(key) - 1, len(key), len(key) + 1):
            index = self._for_length(length)
            labels = self._labels or {}
            for deleted in deletions:
                for candidate in index.get(deleted, ()):
                    if candidate != key and _within_one(key, candidate):
                        found.add(labels[candidate])
        return tuple(sorted(found))


def _did_you_mean(suggestions: tuple[str, ...]) -> str | None:
    if not suggestions:
        return None
    return "did you mean " + " or ".join(suggestions[:5]) + "?"


# ---------------------------------------------------------------- genes


class _GeneIndex(NamedTuple):
    approved: dict[str, str]                 # key -> approved symbol
    locus: dict[str, str]                    # approved symbol -> locus group
    rows: list[list[str]]                    # [symbol, locus group, "aliases<TAB>previous"]


class _GeneAliases(NamedTuple):
    aliases: dict[str, Members]              # key -> approved symbol(s) (alias of)
    previous: dict[str, Members]             # key -> approved symbol(s) (previous symbol of)
    isoforms: dict[str, tuple[str, str]]     # key -> (approved symbol, isoform)
    suggester: _Suggester


Members = str | tuple[str, ...]
"""One value, or several (in file order) when a key is shared."""


def _grouped(pairs: Iterable[tuple[str, str]]) -> dict[str, Members]:
    grouped: dict[str, Members] = {}
    get = grouped.get
    for key, value in pairs:
        current = get(key)
        if current is None:
            grouped[key] = value
        elif isinstance(current, str):
            if current != value:
                grouped[key] = (current, value)
        elif value not in current:
            grouped[key] = (*current, value)
    return grouped


def _members(value: Members | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(sorted(value))


def _gene_labels(approved: dict[str, str], aliases: dict[str, Members],
                 previous: dict[str, Members]) -> dict[str, str]:
    labels = {key: f"{key.upper()} ({', '.join(_members(symbols))})"
              for key, symbols in (*previous.items(), *aliases.items())}
    labels.update(approved)
    return labels


@cache
def _genes() -> _GeneIndex:
    """Approved symbols: enough for most look-ups (the alias columns are split later)."""
    rows = list(_rows("hgnc.tsv", columns=3))
    symbols = [row[0] for row in rows]
    return _GeneIndex(dict(zip(map(str.casefold, symbols), symbols, strict=True)),
                      dict(zip(symbols, [row[1] for row in rows], strict=True)), rows)


@cache
def _gene_aliases() -> _GeneAliases:
    """Alias and previous symbols and isoform names, read when an approved look-up misses."""
    index = _genes()
    alias_pairs: list[tuple[str, str]] = []
    previous_pairs: list[tuple[str, str]] = []
    for symbol, _group, rest in index.rows:
        aliases, previous = rest.split("\t")
        if aliases:
            alias_pairs.extend((alias.casefold(), symbol) for alias in aliases.split("|"))
        if previous:
            previous_pairs.extend((old.casefold(), symbol) for old in previous.split("|"))
    isoforms = {name.casefold(): (symbol, isoform)
                for name, symbol, isoform in _rows("gene_isoforms.tsv")}
    alias_index, previous_index = _grouped(alias_pairs), _grouped(previous_pairs)
    suggester = _Suggester(lambda: _gene_labels(index.approved, alias_index, previous_index))
    return _GeneAliases(alias_index, previous_index, isoforms, suggester)


def approved_symbols() -> tuple[str, ...]:
    """Every approved HGNC symbol, in file order."""
    return tuple(row[0] for row in _genes().rows)


def is_gene_symbol(raw: str) -> bool:
    """True when ``raw`` is an approved symbol, alias, previous symbol or isoform name."""
    key = gene_key(raw)
    if key in _genes().approved:
        return True
    more = _gene_aliases()
    return key in more.aliases or key in more.previous or key in more.isoforms


def suggest_gene(raw: str) -> tuple[str, ...]:
    """Known symbols within edit distance 1 of ``raw``; empty for any known symbol."""
    if is_gene_symbol(raw):
        return ()
    return _gene_aliases().suggester.suggest(gene_key(raw))


def resolve_gene(raw: str) -> GeneResolution:
    """The approved HGNC symbol for ``raw`` (approved, alias, previous symbol or isoform).

    An approved symbol wins over an alias or previous symbol of another gene. An alias or
    previous symbol shared by several genes, or an unknown string, is a VocabularyError.
    """
    index = _genes()
    key = gene_key(raw)
    if not key:
        raise VocabularyError("gene symbol is empty", hint="write an HGNC symbol, e.g. KRAS")
    if key in index.approved:
        symbol = index.approved[key]
        return GeneResolution(query=raw, symbol=symbol, matched="approved",
                              locus_group=index.locus[symbol])
    more = _gene_aliases()
    if key in more.isoforms:
        symbol, isoform = more.isoforms[key]
        return GeneResolution(query=raw, symbol=symbol, matched="isoform", isoform=isoform,
                              locus_group=index.locus[symbol])
    as_alias = _members(more.aliases.get(key))
    as_previous = _members(more.previous.get(key))
    candidates = tuple(sorted(set(as_alias) | set(as_previous)))
    if len(candidates) == 1:
        symbol = candidates[0]
        matched: GeneMatch = "alias" if as_alias else "previous"
        return GeneResolution(query=raw, symbol=symbol, matched=matched,
                              locus_group=index.locus[symbol])
    if candidates:
        roles = [f"{symbol} ({'alias' if symbol in as_alias else 'previous symbol'})"
                 for symbol in candidates]
        raise VocabularyError(
            f"gene {raw!r} is ambiguous: it is an alias or previous symbol of "
            f"{len(candidates)} genes: {', '.join(roles)}",
            hint="write the approved HGNC symbol of the gene you mean",
        )
    raise VocabularyError(
        f"gene {raw!r} is not an HGNC symbol, alias or previous symbol",
        hint=_did_you_mean(more.suggester.suggest(key))
        or "write the approved HGNC symbol (genenames.org)",
    )


# ---------------------------------------------------------------- OncoTree


class _Nodes(Mapping[str, OncoTreeNode]):
    """OncoTree nodes by upper-case code, each validated the first time it is asked for (an
    evaluation asks for a dozen of the release's nine hundred)."""

    def __init__(self, rows: dict[str, list[str]]) -> None:
        self._rows = rows
        self._made: dict[str, OncoTreeNode] = {}

    def __getitem__(self, code: str) -> OncoTreeNode:
        node = self._made.get(code)
        if node is None:
            raw, name, main, organ, parent, level = self._rows[code]
            node = self._made[code] = OncoTreeNode(
                code=raw, name=name, main_type=main, tissue=organ, parent=parent or None,
                level=int(level))
        return node

    def __iter__(self) -> Iterator[str]:
        return iter(self._rows)

    def __len__(self) -> int:
        return len(self._rows)


class _OncoTree:
    """The OncoTree release: nodes by code; the name index is built on the first name look-up."""

    def __init__(self, rows: list[list[str]]) -> None:
        self.rows = rows
        self.nodes = _Nodes({row[0].upper(): row for row in rows})
        self.suggester = _Suggester(self._labels)

    @cached_property
    def names(self) -> dict[str, Members]:
        """Normalised name -> code(s)."""
        return _grouped((normalise(row[1]), row[0]) for row in self.rows)

    def _labels(self) -> dict[str, str]:
        labels: dict[str, str] = {}
        for code, name, *_ in self.rows:
            labels[normalise(code)] = code
            labels.setdefault(normalise(name), name)
        return labels


@cache
def _oncotree() -> _OncoTree:
    return _OncoTree(list(_rows("oncotree.tsv")))


def oncotree_node(code_or_name: str) -> OncoTreeNode:
    """The OncoTree node with this code (any case) or name."""
    tree = _oncotree()
    text = unicodedata.normalize("NFKC", code_or_name).strip()
    node = tree.nodes.get(text.upper())
    if node is not None:
        return node
    key = normalise(text)
    if not key:
        raise VocabularyError("tumour type is empty", hint="write an OncoTree code, e.g. COAD")
    codes = _members(tree.names.get(key))
    if len(codes) == 1:
        return tree.nodes[codes[0]]
    if codes:
        described = ", ".join(
            f"{code} ({tree.nodes[code].tissue})" for code in codes)
        raise VocabularyError(
            f"tumour type {code_or_name!r} names {len(codes)} OncoTree nodes: {described}",
            hint="write the OncoTree code",
        )
    raise VocabularyError(
        f"tumour type {code_or_name!r} is not an OncoTree code or name "
        f"(release oncotree_2025_10_03)",
        hint=_did_you_mean(tree.suggester.suggest(key))
        or "see oncotree.mskcc.org for the codes",
    )


def find_node(code: str) -> OncoTreeNode | None:
    """The node with exactly this code (upper case), or None; no name look-up, no suggestion."""
    return _oncotree().nodes.get(code)


def lineage(code: str) -> tuple[OncoTreeNode, ...]:
    """The node and its ancestors, from the node up to the root ``TISSUE``."""
    tree = _oncotree()
    node: OncoTreeNode | None = oncotree_node(code)
    chain: list[OncoTreeNode] = []
    while node is not None:
        chain.append(node)
        node = tree.nodes.get(node.parent.upper()) if node.parent else None
    return tuple(chain)


def main_type(code: str) -> str:
    return oncotree_node(code).main_type


def tissue(code: str) -> str:
    """The tissue name (e.g. "Esophagus/Stomach") of a node."""
    return oncotree_node(code).tissue


def tissue_code(code: str) -> str:
    """The level-1 tissue code (e.g. ``STOMACH``) of a node; ``TISSUE`` for the root."""
    chain = lineage(code)
    level_one = [node for node in chain if node.level == 1]
    return level_one[0].code if level_one else chain[-1].code


def organ_system(code: str) -> str:
    """The organ system (OncoTree tissue name) a tumour type belongs to, e.g. "Lung"."""
    return tissue(code)


def is_gi(code: str) -> bool:
    return tissue_code(code) in GI_TISSUES


def require_gi(code: str) -> OncoTreeNode:
    """The node for ``code`` if it is a gastrointestinal tumour type, else a VocabularyError
    that names the organ system it belongs to."""
    node = oncotree_node(code)
    if tissue_code(node.code) in GI_TISSUES:
        return node
    gi = ", ".join(sorted(_oncotree().nodes[t].name for t in GI_TISSUES))
    raise VocabularyError(
        f"tumour type {code!r} ({node.code}, {node.name}) belongs to the {node.tissue} "
        f"organ system in OncoTree, not to a gastrointestinal one",
        hint=f"regimen covers the OncoTree tissues {gi}",
    )


# ---------------------------------------------------------------- agents

_SALT_SUFFIXES: tuple[str, ...] = (
    "hydrochloride", "dihydrochloride", "trihydrochloride", "monohydrochloride",
    "hydrobromide", "mesylate", "dimesylate", "methanesulfonate", "s-malate", "l-malate",
    "malate", "tosylate", "ditosylate", "besylate", "sulfate", "bisulfate", "hemisulfate",
    "citrate", "maleate", "dimaleate", "fumarate", "succinate", "tartrate", "bitartrate",
    "phosphate", "diphosphate", "acetate", "lactate", "gluconate", "sodium", "disodium",
    "potassium", "calcium", "magnesium", "meglumine", "monohydrate", "hydrate",
    "dimethyl sulfoxide", "dihydrate", "trihydrate",
)
"""Counter-ions and solvates dropped from the end of a preferred name: the INN names the
active moiety, so "Cabozantinib S-malate" and "Cabozantinib" share the id ``cabozantinib``."""


_SALT = re.compile(
    r"(?<=\S)(?:\s+(?:" + "|".join(re.escape(s) for s in sorted(_SALT_SUFFIXES, key=len,
                                                               reverse=True)) + r"))+\s*$")


_SALT_LAST_WORDS = frozenset(suffix.rsplit(" ", 1)[-1] for suffix in _SALT_SUFFIXES)


def _strip_salt(name: str) -> str:
    lowered = name.casefold()
    if lowered.rsplit(" ", 1)[-1] not in _SALT_LAST_WORDS:
        return lowered
    return _SALT.sub("", lowered)


def canonical_agent_id(preferred_name: str) -> str:
    """Lower case, salt suffix dropped, whitespace runs as single hyphens."""
    text = unicodedata.normalize("NFKC", preferred_name)
    return "-".join(_strip_salt(text).split())


Names = dict[str, dict[str, tuple[str, str]]]
"""normalised name -> {agent id: (NCIt code, name as written in the source)}"""


class _Agents(NamedTuple):
    primary: Names                   # preferred names, canonical ids, override names
    preferred: dict[str, str]        # ncit code -> preferred name
    rows: list[tuple[str, str, str]]  # (ncit code, agent id, synonyms), for the synonym tier


class _AgentSynonyms(NamedTuple):
    synonyms: Names
    suggester: _Suggester


def _add(table: Names, key: str, agent_id: str, code: str, name: str) -> None:
    if key:
        table.setdefault(key, {}).setdefault(agent_id, (code, name))


@cache
def _agents() -> _Agents:
    """Preferred names, canonical ids and override names: enough for most look-ups."""
    overrides: dict[str, tuple[str, list[str]]] = {}
    for code, agent_id, names, _source in _rows("agent_overrides.tsv"):
        overrides[code] = (agent_id, [name for name in names.split("|") if name])
    primary: Names = {}
    preferred: dict[str, str] = {}
    rows = list(_rows("ncit_agents.tsv"))
    # A concept named without a salt suffix comes first, so that a name shared by a drug
    # and its salt reports the parent concept's code.
    derived = {row[0]: canonical_agent_id(row[1]) for row in rows}
    rows.sort(key=lambda row: (derived[row[0]] != "-".join(row[1].casefold().split()),
                               int(row[0][1:])))
    kept: list[tuple[str, str, str]] = []
    for code, name, synonym_field in rows:
        preferred[code] = name
        agent_id, extra = overrides.get(code, (derived[code], []))
        _add(primary, normalise(name), agent_id, code, name)
        _add(primary, normalise(agent_id), agent_id, code, agent_id)
        for other in extra:
            _add(primary, normalise(other), agent_id, code, other)
        kept.append((code, agent_id, synonym_field))
    return _Agents(primary, preferred, kept)


@cache
def _agent_synonyms() -> _AgentSynonyms:
    """NCIt synonyms (brand names, code names, chemical names), read on a primary miss."""
    agents = _agents()
    synonyms: Names = {}
    for code, agent_id, synonym_field in agents.rows:
        if synonym_field:
            for synonym in synonym_field.split("|"):
                _add(synonyms, normalise(synonym), agent_id, code, synonym)

    def labels() -> dict[str, str]:
        return {key: next(iter(ids))
                for key, ids in (*synonyms.items(), *agents.primary.items())}

    return _AgentSynonyms(synonyms, _Suggester(labels))


class NcitConcept(Model):
    ncit_code: str
    preferred_name: str
    id: str
    synonyms: tuple[str, ...]


def ncit_concepts() -> tuple[NcitConcept, ...]:
    """Every NCIt concept with the canonical id its names resolve to."""
    agents = _agents()
    return tuple(
        NcitConcept(ncit_code=code, preferred_name=agents.preferred[code], id=agent_id,
                    synonyms=tuple(synonyms.split("|")) if synonyms else ())
        for code, agent_id, synonyms in agents.rows)


def is_agent_name(raw: str) -> bool:
    key = normalise(raw)
    return key in _agents().primary or key in _agent_synonyms().synonyms


def suggest_agent(raw: str) -> tuple[str, ...]:
    """Agent ids within edit distance 1 of ``raw``; empty for any known name."""
    if is_agent_name(raw):
        return ()
    return _agent_synonyms().suggester.suggest(normalise(raw))


def resolve_agent(raw: str) -> AgentResolution:
    """The canonical id of an agent named by an NCIt preferred name, synonym, brand name or
    code name (or a name in ``reference/agent_overrides.tsv``).

    Preferred names win over synonyms. A synonym shared by several agents, or an unknown
    string, is a VocabularyError; only an unknown string gets suggestions.
    """
    agents = _agents()
    key = normalise(raw)
    if not key:
        raise VocabularyError("agent name is empty", hint="write the agent's INN")
    for tier in (agents.primary, None):
        table = tier if tier is not None else _agent_synonyms().synonyms
        ids = table.get(key)
        if not ids:
            continue
        if len(ids) == 1:
            agent_id, (code, name) = next(iter(ids.items()))
            return AgentResolution(query=raw, id=agent_id, ncit_code=code, matched_name=name,
                                   preferred_name=agents.preferred[code])
        listed = ", ".join(f"{agent_id} ({code})" for agent_id, (code, _) in sorted(ids.items()))
        raise VocabularyError(
            f"agent {raw!r} is ambiguous: NCIt uses it for {len(ids)} agents: {listed}",
            hint="write the agent's INN",
        )
    raise VocabularyError(
        f"agent {raw!r} is not an NCIt antineoplastic agent name, synonym, brand or code name",
        hint=_did_you_mean(_agent_synonyms().suggester.suggest(key))
        or "write the agent's INN",
    )
