"""The shapes of ``vocabulary.yaml`` and ``vocabulary/*.yaml``, validated only when the
knowledge base is read from its files (not when it comes from the cache)."""

from __future__ import annotations

from ..models import Model

StrList = list[str]


class TumourEntry(Model):
    code: str
    name: str
    parent: str | None = None
    organ: str
    gi: bool
    synonyms: StrList = []


class VocabularyFile(Model):
    tumours: list[TumourEntry]
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


class VocabularyExtension(Model):
    """A file under vocabulary/: adds genes and terms to the main vocabulary."""

    genes: dict[str, StrList] = {}
    other_genes: StrList = []
    tme: dict[str, str] = {}
    microbiome: dict[str, StrList] = {}
    conditions: dict[str, str] = {}
