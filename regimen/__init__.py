"""regimen: rule-based decision support for drug-resistant gastrointestinal cancers.

Supports research and tumour-board discussion; it does not replace clinical judgement.
"""

from __future__ import annotations

from .api import Recommender
from .errors import InputError, InternalError, KnowledgeError, ProfileError, RegimenError
from .knowledge import KnowledgeBase, load_knowledge
from .profile import Profile
from .result import Result

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "InternalError",
    "KnowledgeBase",
    "KnowledgeError",
    "Profile",
    "ProfileError",
    "Recommender",
    "RegimenError",
    "Result",
    "__version__",
    "load_knowledge",
]
