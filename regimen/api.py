"""The public API: :class:`Recommender`.

>>> from regimen import Recommender
>>> rec = Recommender()                       # compiles the knowledge base once
>>> result = rec.evaluate("examples/crc-kras-g12c.yaml")
>>> result.mechanisms[0].id
'egfr-bypass'
>>> import regimen
>>> regimen.render(result, "md").splitlines()[0]
'# regimen report: EX-CRC-01'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from .engine import backend
from .engine.base import Runner
from .errors import InputError
from .evaluate.asof import restrict_to
from .evaluate.assemble import evaluate
from .knowledge.base import KnowledgeBase
from .knowledge.loader import load_knowledge
from .profile import Profile, load_profile
from .result import Result

if TYPE_CHECKING:
    from .cohort.batch import BatchItem
    from .evaluate.explain import Explanation
    from .evaluate.timeline import Timeline

ProfileInput = str | Path | dict[str, Any] | Profile | IO[bytes] | IO[str]

__all__ = ["ProfileInput", "Recommender", "restrict_to"]


def check_cross_references(kb: KnowledgeBase) -> None:
    """Refuse a knowledge directory with the errors ``regimen knowledge lint`` reports.

    The name and cross-reference checks run (fast); completeness checks and
    firing each rule on its fixture do not (that is the lint command's job).
    """
    from .errors import KnowledgeError
    from .tools.lint import cross_references

    errors = cross_references(kb)
    if errors:
        more = f" [and {len(errors) - 1} more; run 'regimen knowledge lint']" \
            if len(errors) > 1 else ""
        raise KnowledgeError(errors[0].render() + more, source=str(kb.root),
                             hint="fix the knowledge directory; 'regimen knowledge lint' "
                                  "lists every problem")


class Recommender:
    """A compiled knowledge base that evaluates patient profiles.

    Build one and reuse it: the rule network is compiled once (about half a
    millisecond per rule) and every evaluation only resets it. ``engine``
    names the backend (see :mod:`regimen.engine`; default: the default
    backend); it is imported here, not when regimen is imported.
    """

    def __init__(self, knowledge: str | Path | KnowledgeBase | None = None, *,
                 engine: str | None = None) -> None:
        if isinstance(knowledge, KnowledgeBase):
            self.kb = knowledge
        else:
            self.kb = load_knowledge(Path(knowledge) if knowledge is not None else None)
            if knowledge is not None:
                check_cross_references(self.kb)
        self.engine: Runner = backend(engine).compile(self.kb)

    # ------------------------------------------------------------------ profiles
    def load(self, profile: ProfileInput) -> Profile:
        """Validate and normalise a profile (path, ``-``, dict, stream or model)."""
        return load_profile(profile, self.kb.vocabulary)

    # ------------------------------------------------------------------ evaluation
    def evaluate(self, profile: ProfileInput, *, as_of: dt.date | None = None,
                 top: int | None = None, conditional: int = 10) -> Result:
        """Evaluate a profile; with ``as_of``, use only what was known on that date.

        ``conditional`` caps the options a test would unlock (0 hides them)."""
        if isinstance(as_of, dt.datetime):
            as_of = as_of.date()
        elif as_of is not None and not isinstance(as_of, dt.date):
            raise InputError(f"as_of must be a date, not {type(as_of).__name__}", field="as_of",
                             hint="pass datetime.date(YYYY, M, D)")
        model = self.load(profile)
        if as_of is not None:
            model = restrict_to(model, as_of)
        if top is not None and top < 1:
            raise InputError("--top must be at least 1", field="top")
        if conditional < 0:
            raise InputError("--conditional must be 0 or more", field="conditional")
        return evaluate(self.kb, self.engine, model, as_of=as_of, top=top,
                        conditional=conditional)

    def evaluate_many(self, profiles: Iterable[Any], jobs: int = 1, *,
                      as_of: dt.date | None = None,
                      top: int | None = None) -> Iterator[BatchItem]:
        """Evaluate many profiles (paths, JSON Lines files, dicts, models), in input order.

        A profile that cannot be read or validated does not stop the run: its item carries
        the same message :meth:`evaluate` would raise. ``jobs`` > 1 uses a process pool
        whose workers inherit this compiled knowledge base.
        """
        from .cohort.batch import evaluate_many

        return evaluate_many(self, profiles, jobs, as_of=as_of, top=top)

    def explain(self, profile: ProfileInput, item_id: str | None = None, *,
                as_of: dt.date | None = None) -> list[Explanation]:
        """Derivation chains for one recommendation/avoid/caution id, or for all."""
        from .evaluate.explain import explain
        from .render.jinja import cite_text

        result = self.evaluate(profile, as_of=as_of)
        citations = {rule.id: [cite_text(c.model_dump()) for c in rule.cite]
                     for rule in self.kb.rules}
        return explain(result, item_id, citations)

    def timeline(self, profile: ProfileInput,
                 progress: Callable[[int, int], None] | None = None) -> Timeline:
        """Re-evaluate as of each ctDNA draw and therapy change."""
        from .evaluate.timeline import build_timeline

        model = self.load(profile)
        return build_timeline(model, lambda p, date: self.evaluate(p, as_of=date),
                              progress=progress)
