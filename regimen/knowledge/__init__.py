"""The curated knowledge base: the rule language, condition kinds, vocabularies, loader.

Import from here: :class:`KnowledgeBase`, :func:`load_knowledge`,
:class:`Vocabulary`, :class:`Rule`, :class:`Condition`, :data:`REGISTRY`.
"""

from __future__ import annotations

from .base import KnowledgeBase
from .conditions import CTDNA_EVENTS, REGISTRY, Condition, ConditionKind, walk_conditions
from .language import (
    Agent,
    AvoidSpec,
    CautionSpec,
    Citation,
    Exclusion,
    Manifest,
    Mechanism,
    OptionSpec,
    Rule,
    Source,
    TestSpec,
    Then,
)
from .loader import load_knowledge
from .vocabulary import TumourType, Vocabulary

__all__ = [
    "CTDNA_EVENTS",
    "REGISTRY",
    "Agent",
    "AvoidSpec",
    "CautionSpec",
    "Citation",
    "Condition",
    "ConditionKind",
    "Exclusion",
    "KnowledgeBase",
    "Manifest",
    "Mechanism",
    "OptionSpec",
    "Rule",
    "Source",
    "TestSpec",
    "Then",
    "TumourType",
    "Vocabulary",
    "load_knowledge",
    "walk_conditions",
]
