"""Load and validate a knowledge directory.

Files under ``knowledge/``: ``manifest.yaml``, ``sources.yaml``,
``vocabulary.yaml`` (and ``vocabulary/*.yaml``), ``agents.yaml``,
``mechanisms.yaml``, ``regimens.yaml``, ``rules/*.yaml`` and ``exclusions.yaml``; the
standard-of-care layer in ``standard/``: ``standard/sources.yaml`` (trials and approvals,
with the layer's ``as_of`` date) and ``standard/*.yaml`` (rules). Every file is
validated with ``extra="forbid"``; a broken file is reported with its path, the
rule id and the field. Cross-reference checks live in :mod:`regimen.tools.lint`.

The validated knowledge base is cached (:mod:`regimen.io.cache`) under a key
made of the digest of every knowledge file, the directory and the code that
built it; a changed file changes the key, so the cache is never stale.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import weakref
from pathlib import Path
from typing import Any, TypeVar

from pydantic import ValidationError

from ..errors import InputError, KnowledgeError
from ..io import cache
from ..io.digests import files_digest
from ..io.documents import Document, read_bounded, read_document, validation_error
from ..io.resources import knowledge_dir
from .base import KnowledgeBase
from .language import Agent, Exclusion, Manifest, Mechanism, Rule, Source
from .regimens import load_regimens
from .vocabulary import TumourType, Vocabulary

_M = TypeVar("_M", Agent, Mechanism)


def _load_entries(docs: list[Document], key: str, model: type[_M]) -> dict[str, _M]:
    """Entries with an ``id`` under ``key`` across one or more files; ids must be unique."""
    entries: dict[str, _M] = {}
    for doc in docs:
        for i, item in enumerate(_expect_list(doc, key)):
            try:
                entry = model.model_validate(item)
            except ValidationError as exc:
                raise validation_error(exc, doc, KnowledgeError, base=(key, i)) from None
            if entry.id in entries:
                raise KnowledgeError(f"duplicate {key[:-1]} id {entry.id!r}", source=doc.source,
                                     line=doc.line_of((key, i)))
            entries[entry.id] = entry
    return entries


def _split_files(root: Path, name: str) -> list[Path]:
    """``name.yaml`` then, sorted, ``name/*.yaml`` (a kind may be split by theme)."""
    extra = sorted((root / name).glob("*.yaml")) if (root / name).is_dir() else []
    return [root / f"{name}.yaml", *extra]


KNOWLEDGE_MAX_BYTES = 5_000_000
"""Largest knowledge file accepted (bytes)."""


def _read(path: Path) -> Document:
    return read_document(path, max_bytes=KNOWLEDGE_MAX_BYTES)


def _expect_list(doc: Document, key: str | None = None) -> list[Any]:
    if key is not None and not isinstance(doc.data, dict):
        raise KnowledgeError(f"expected a mapping with a {key!r} list, not "
                             f"{type(doc.data).__name__ if doc.data is not None else 'nothing'}",
                             source=doc.source, hint=f"write '{key}:' and indent the entries")
    data = doc.data if key is None else doc.data.get(key)
    if not isinstance(data, list):
        raise KnowledgeError(
            f"expected a list{f' under {key!r}' if key else ''}", source=doc.source
        )
    return data


def knowledge_files(root: Path) -> list[Path]:
    """Every file the knowledge base is read from, in reading (and digest) order."""
    rules_dir = root / "rules"
    standard_dir = root / "standard"
    exclusions = [p for p in _split_files(root, "exclusions") if p.is_file()]
    regimens = [root / "regimens.yaml"] if (root / "regimens.yaml").is_file() else []
    standard = sorted(standard_dir.glob("*.yaml")) if standard_dir.is_dir() else []
    return [root / "manifest.yaml", root / "sources.yaml", *_split_files(root, "agents"),
            *_split_files(root, "mechanisms"), *_split_files(root, "vocabulary"), *regimens,
            *(sorted(rules_dir.glob("*.yaml")) if rules_dir.is_dir() else []), *exclusions,
            *standard]


def load_knowledge(root: Path | None = None, *, use_cache: bool = True) -> KnowledgeBase:
    """Load and validate a knowledge directory (the shipped one by default).

    With ``use_cache`` (and caching not switched off by ``REGIMEN_CACHE_DIR=off``)
    a knowledge base validated before from exactly the same files is read back
    from the cache instead of being parsed again.
    """
    root = Path(root) if root is not None else knowledge_dir()
    if not root.is_dir():
        raise KnowledgeError("knowledge directory not found", source=str(root),
                             hint="give a directory that holds sources.yaml and rules/")
    for required in ("manifest.yaml", "sources.yaml", "vocabulary.yaml", "agents.yaml",
                     "mechanisms.yaml"):
        if not (root / required).is_file():
            raise KnowledgeError(f"missing {required}", source=str(root),
                                 hint="copy the shipped knowledge/ directory and edit it")
    files = knowledge_files(root)
    where = str(root.resolve())
    try:
        digest = files_digest(f"knowledge:{where}", root, files,
                              read=lambda path: read_bounded(path, KNOWLEDGE_MAX_BYTES))
    except (OSError, InputError):  # unreadable or too large: the loader below reports it
        use_cache = False
        digest = hashlib.sha256().hexdigest()
    key = f"{digest}|{cache.code_digest()}|{where}"
    entry = cache.entry_path("knowledge", where) if use_cache else None
    cached = cache.load(entry, key)
    if isinstance(cached, KnowledgeBase):
        cached.root = root
        _LOADED[cached] = (key, tuple(cached.rules))
        return cached
    kb = _load(root, digest[:12])
    kb.derive()
    cache.store(entry, key, kb)
    if entry is not None:
        _LOADED[kb] = (key, tuple(kb.rules))
    return kb


_LOADED: weakref.WeakKeyDictionary[KnowledgeBase, tuple[str, tuple[Rule, ...]]] = \
    weakref.WeakKeyDictionary()
"""Knowledge bases :func:`load_knowledge` returned with the cache on -> their cache key and
the rules they held then."""


def cache_key(kb: KnowledgeBase) -> str | None:
    """The cache key of a knowledge base as :func:`load_knowledge` returned it, for what is
    derived from it (the rule network); None when the cache was off, for a knowledge base
    built another way, and once its list of rules is no longer the one loaded (the rules
    themselves are frozen)."""
    found = _LOADED.get(kb)
    if found is None:
        return None
    key, rules = found
    if len(rules) != len(kb.rules) or any(a is not b for a, b in zip(rules, kb.rules,
                                                                       strict=True)):
        return None
    return key


def _load(root: Path, digest: str) -> KnowledgeBase:
    read = _read

    manifest_doc = read(root / "manifest.yaml")
    try:
        manifest = Manifest.model_validate(manifest_doc.data)
    except ValidationError as exc:
        raise validation_error(exc, manifest_doc, KnowledgeError) from None

    sources: dict[str, Source] = {}
    _load_sources(read(root / "sources.yaml"), sources)
    standard_dir = root / "standard"
    standard_as_of: dt.date | None = None
    if (standard_dir / "sources.yaml").is_file():
        standard_doc = read(standard_dir / "sources.yaml")
        _load_sources(standard_doc, sources)
        standard_as_of = _as_of(standard_doc)

    agents = _load_entries([read(p) for p in _split_files(root, "agents")], "agents", Agent)
    mechanisms = _load_entries([read(p) for p in _split_files(root, "mechanisms")],
                               "mechanisms", Mechanism)

    vocabulary = _load_vocabulary(
        [read(p) for p in _split_files(root, "vocabulary")], agents
    )
    if (root / "regimens.yaml").is_file():
        vocabulary.regimens = load_regimens(root / "regimens.yaml")

    rules: list[Rule] = []
    rule_files: dict[str, str] = {}
    rules_dir = root / "rules"
    rule_paths = sorted(rules_dir.glob("*.yaml")) if rules_dir.is_dir() else []
    if standard_dir.is_dir():
        rule_paths += [p for p in sorted(standard_dir.glob("*.yaml")) if p.name != "sources.yaml"]
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
                raise validation_error(exc, doc, KnowledgeError, context=context,
                                       base=base) from None
            if rule.id in rule_files:
                raise KnowledgeError(
                    f"duplicate rule id {rule.id!r} (also in {rule_files[rule.id]})",
                    source=doc.source, line=doc.line_of(base),
                )
            # rules/ files by name (as before), standard/ files with their folder
            rule_files[rule.id] = (path.name if path.parent == rules_dir
                                   else path.relative_to(root).as_posix())
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
                raise validation_error(exc, ex_doc, KnowledgeError,
                                       base=("exclusions", i)) from None

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
        digest=digest,
        standard_as_of=standard_as_of,
    )


def _load_sources(doc: Document, sources: dict[str, Source]) -> None:
    for i, item in enumerate(_expect_list(doc, "sources")):
        try:
            source = Source.model_validate(item)
        except ValidationError as exc:
            raise validation_error(exc, doc, KnowledgeError, base=("sources", i)) from None
        if source.key in sources:
            raise KnowledgeError(f"duplicate source key {source.key!r}", source=doc.source,
                                 line=doc.line_of(("sources", i)))
        sources[source.key] = source


def _as_of(doc: Document) -> dt.date:
    raw = doc.data.get("as_of") if isinstance(doc.data, dict) else None
    if isinstance(raw, dt.date):
        return raw
    try:
        return dt.date.fromisoformat(str(raw))
    except ValueError:
        raise KnowledgeError(f"'as_of' must be a date (YYYY-MM-DD), got {raw!r}",
                             source=doc.source,
                             hint="give the date the standard layer was last checked") from None


def _load_vocabulary(docs: list[Document], agents: dict[str, Agent]) -> Vocabulary:
    from .vocabulary_files import VocabularyExtension, VocabularyFile

    doc = docs[0]
    try:
        raw = VocabularyFile.model_validate(doc.data)
    except ValidationError as exc:
        raise validation_error(exc, doc, KnowledgeError) from None
    for ext_doc in docs[1:]:
        try:
            ext = VocabularyExtension.model_validate(ext_doc.data)
        except ValidationError as exc:
            raise validation_error(exc, ext_doc, KnowledgeError) from None
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
