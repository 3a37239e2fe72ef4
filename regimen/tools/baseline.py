"""The lint baseline: warnings already reviewed, so that ``knowledge lint`` shows only new ones.

A baseline is a text file with one warning per line, exactly as ``regimen knowledge lint``
prints it (``warning: FILE: RULE: MESSAGE``); blank lines and lines starting with ``#`` are
ignored. Errors are never baselined. The shipped knowledge base carries
``knowledge/lint-baseline.txt``; ``--update-baseline`` rewrites it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from ..io.files import write_text_atomic
from .lint import Problem

BASELINE_NAME = "lint-baseline.txt"

_HEADER = (
    "# Known knowledge-lint warnings, reviewed and accepted: `regimen knowledge lint` does not\n"
    "# show these, only new ones. Regenerate with `regimen knowledge lint --update-baseline`\n"
    "# after reviewing every new warning.\n"
)


@dataclass(frozen=True)
class Split:
    """Problems split by a baseline: what to show, and how many known warnings were hidden."""

    shown: list[Problem]
    known: int
    stale: int  # baseline lines that no longer occur


def read_baseline(path: Path) -> set[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("lint baseline not found", source=str(path),
                         hint="give an existing file, or write one with --update-baseline"
                         ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the lint baseline: {exc}", source=str(path),
                         hint="the baseline is a UTF-8 text file, one warning per line") from None
    return {line.strip() for line in text.splitlines()
            if line.strip() and not line.lstrip().startswith("#")}


def split(problems: Iterable[Problem], baseline: set[str]) -> Split:
    shown: list[Problem] = []
    seen: set[str] = set()
    known = 0
    for problem in problems:
        line = problem.render()
        if problem.level == "warning" and line in baseline:
            known += 1
            seen.add(line)
        else:
            shown.append(problem)
    return Split(shown=shown, known=known, stale=len(baseline - seen))


def write_baseline(path: Path, problems: Iterable[Problem]) -> int:
    """Write every warning to ``path`` (sorted, unique); return how many."""
    lines = sorted({p.render() for p in problems if p.level == "warning"})
    write_text_atomic(path, _HEADER + "".join(f"{line}\n" for line in lines))
    return len(lines)
