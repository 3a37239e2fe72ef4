"""regimen: rule-based decision support for drug-resistant gastrointestinal cancers.

Supports research and tumour-board discussion; it does not replace clinical judgement.

The public names are imported when first used, so that ``import regimen`` (and
``regimen --help``) stays fast and imports no rule engine:

>>> import regimen
>>> sorted(regimen.__all__)[:3]
['InputError', 'InternalError', 'KnowledgeBase']
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .errors import (
    InputError,
    InternalError,
    KnowledgeError,
    OutputError,
    ProfileError,
    RegimenError,
)

if TYPE_CHECKING:
    from .api import Recommender
    from .knowledge import KnowledgeBase, load_knowledge
    from .profile import Profile
    from .render import render
    from .result import Result

__version__ = "0.1.0"

_LAZY = {
    "Recommender": "regimen.api",
    "KnowledgeBase": "regimen.knowledge",
    "load_knowledge": "regimen.knowledge",
    "Profile": "regimen.profile",
    "Result": "regimen.result",
}

__all__ = [
    "InputError",
    "InternalError",
    "KnowledgeBase",
    "KnowledgeError",
    "OutputError",
    "Profile",
    "ProfileError",
    "Recommender",
    "RegimenError",
    "Result",
    "__version__",
    "load_knowledge",
    "render",
]


def __getattr__(name: str) -> Any:
    if name == "render":
        return importlib.import_module("regimen.render")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'regimen' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
