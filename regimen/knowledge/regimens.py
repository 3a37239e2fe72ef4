"""Regimen acronyms (FOLFOX, CAPOX, STRIDE, ...) and the agents they contain.

The data is ``knowledge/regimens.yaml``. Look-up keys are normalised like agent names
(:func:`regimen.knowledge.reference.normalise`), so ``mFOLFOX6``, ``mfolfox-6`` and
``m FOLFOX 6`` are one key. Agent ids are the canonical ids of
:func:`regimen.knowledge.reference.resolve_agent`.
"""

# Annotations here are evaluated when the module runs (no ``from __future__ import
# annotations``): pydantic reads them as each model class is created, and would
# otherwise compile every string annotation (about 8 ms of a cold command over the
# model modules; tests/test_architecture.py keeps it so).


from pathlib import Path

import yaml
from pydantic import Field, ValidationError

from regimen.errors import KnowledgeError
from regimen.knowledge.reference import normalise
from regimen.models import Model


class Regimen(Model):
    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    name: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    agents: tuple[str, ...] = Field(min_length=2)
    source: str = Field(min_length=1, description="the document that confirmed the composition")

    @property
    def display(self) -> str:
        """``FOLFOX (oxaliplatin + fluorouracil + leucovorin)``."""
        return f"{self.name} ({' + '.join(self.agents)})"


class RegimenFile(Model):
    regimens: tuple[Regimen, ...]


class RegimenIndex:
    """Regimens keyed by the normalised spelling of their names and aliases."""

    def __init__(self, regimens: tuple[Regimen, ...], *, source: str = "regimens") -> None:
        self.regimens = regimens
        self._by_key: dict[str, Regimen] = {}
        for regimen in regimens:
            for spelling in (regimen.name, regimen.id, *regimen.aliases):
                key = normalise(spelling)
                other = self._by_key.get(key)
                if other is not None and other.id != regimen.id:
                    raise KnowledgeError(
                        f"{spelling!r} names two regimens ({other.id} and {regimen.id})",
                        source=source, hint="give each acronym or alias to one regimen")
                self._by_key[key] = regimen

    def expand(self, raw: str) -> Regimen | None:
        """The regimen ``raw`` names, or None when it names no regimen."""
        return self._by_key.get(normalise(raw))

    def __len__(self) -> int:
        return len(self.regimens)


def load_regimens(path: Path) -> RegimenIndex:
    """Read and validate a regimens file (``knowledge/regimens.yaml``)."""
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
    except (OSError, yaml.YAMLError) as error:
        raise KnowledgeError(f"cannot read regimens: {error}", source=str(path)) from error
    try:
        parsed = RegimenFile.model_validate(document)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise KnowledgeError(f"{first['msg']}", source=str(path), field=where,
                             hint="see the header of knowledge/regimens.yaml") from error
    return RegimenIndex(parsed.regimens, source=str(path))
