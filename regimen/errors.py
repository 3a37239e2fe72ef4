"""One exception tree for regimen.

Every message says what is wrong, where (file, field path, line when known) and
how to fix it. Each class owns its exit code (``exit_code``), which the CLI
uses: :class:`InputError` and its subclasses exit 2, anything else 1.
"""

from __future__ import annotations

import re

MAX_ECHO = 200
"""Longest value (characters) an error message repeats; longer ones are cut."""


def shorten(text: str, limit: int = MAX_ECHO) -> str:
    """``text`` cut to ``limit`` characters, followed by ``... (N characters)``."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text):,} characters)"


_LONG_QUOTED = re.compile(rf"'[^']{{{MAX_ECHO + 1},}}'|\"[^\"]{{{MAX_ECHO + 1},}}\"")


def shorten_values(text: str) -> str:
    """Every quoted value in ``text`` longer than MAX_ECHO characters, cut (see shorten)."""
    if len(text) <= MAX_ECHO:
        return text
    text = _LONG_QUOTED.sub(lambda m: m.group(0)[0] + shorten(m.group(0)[1:-1]) + m.group(0)[0],
                            text)
    return shorten(text, 4 * MAX_ECHO)


class RegimenError(Exception):
    """Base class of every error regimen raises on purpose."""

    exit_code = 1


class InputError(RegimenError):
    """Something the user supplied is wrong: a profile, an option, a path."""

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        source: str | None = None,
        field: str | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = shorten_values(message)
        self.source = source if source is None else shorten(source)
        self.field = field if field is None else shorten(field)
        self.line = line
        self.hint = hint if hint is None else shorten_values(hint)
        super().__init__(self.render())

    def render(self) -> str:
        where = []
        if self.source:
            where.append(self.source if self.line is None else f"{self.source}:{self.line}")
        elif self.line is not None:
            where.append(f"line {self.line}")
        if self.field:
            where.append(self.field)
        text = ": ".join([*where, self.message])
        if self.hint:
            text += f" ({self.hint})"
        return text


class ProfileError(InputError):
    """The patient profile cannot be read or does not validate."""


class VocabularyError(ProfileError):
    """A value is not in a controlled vocabulary (or looks like a typo of one)."""


class KnowledgeError(InputError):
    """A knowledge base file is malformed or inconsistent."""


class OutputError(InputError):
    """A report cannot be written where the user asked (raised by :mod:`regimen.io.files`)."""


class InternalError(RegimenError):
    """A fault inside regimen itself (a bug): exit code 1."""
