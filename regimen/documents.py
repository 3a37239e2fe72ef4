"""Read YAML and JSON documents safely and write files atomically.

YAML is composed node by node so that every value keeps its line number (for
error messages), aliases are refused (no "billion laughs"), nesting depth and
file size are bounded, and duplicate keys are errors instead of silently
overwriting each other.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import yaml

from .errors import InputError

MAX_BYTES = 1_000_000
"""Largest profile or knowledge file accepted (bytes), checked before parsing.

A real profile is a few kilobytes; a whole panel with a long ctDNA series stays
well under 100 kB. One megabyte leaves room and bounds memory and time."""

MAX_DEPTH = 20
"""Deepest nesting accepted. The profile format needs 5 levels; knowledge rules about 10."""

Path_ = tuple[str | int, ...]


class Document:
    """Parsed data plus a map from field path to source line (1-based)."""

    def __init__(self, data: Any, lines: dict[Path_, int], source: str) -> None:
        self.data = data
        self.lines = lines
        self.source = source

    def line_of(self, path: Path_) -> int | None:
        """Line of the deepest known prefix of ``path``."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return None


class _NoAliasLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors/aliases at the event level."""

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise InputError(
                "YAML aliases (*name) are not accepted",
                line=event.start_mark.line + 1,
                hint="write the value out in full",
            )
        return super().compose_node(parent, index)


def _build(node: yaml.Node, loader: _NoAliasLoader, path: Path_, depth: int,
           lines: dict[Path_, int]) -> Any:
    if depth > MAX_DEPTH:
        raise InputError(
            f"document is nested more than {MAX_DEPTH} levels deep",
            line=node.start_mark.line + 1,
            field=dotted(path),
        )
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int | float | bool) or key is None:
                raise InputError(
                    "mapping keys must be plain text",
                    line=key_node.start_mark.line + 1,
                    field=dotted(path),
                )
            key = str(key) if not isinstance(key, str) else key
            if key in out:
                raise InputError(
                    f"duplicate key {key!r}",
                    line=key_node.start_mark.line + 1,
                    field=dotted(path),
                    hint="each key may appear once; merge the two entries",
                )
            out[key] = _build(value_node, loader, (*path, key), depth + 1, lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, loader, (*path, i), depth + 1, lines) for i, item in enumerate(node.value)
        ]
    try:
        return loader.construct_object(node, deep=True)
    except (ValueError, TypeError, OverflowError) as exc:
        # e.g. an impossible date such as 2025-02-30 in a timestamp scalar
        raise InputError(
            f"cannot read {node.value!r}: {exc}",
            line=node.start_mark.line + 1,
            field=dotted(path),
            hint="dates are written YYYY-MM-DD",
        ) from None


def dotted(path: Path_) -> str | None:
    """``("therapies", 0, "agents")`` -> ``"therapies[0].agents"``."""
    if not path:
        return None
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def parse_yaml(text: str, source: str) -> Document:
    try:
        loader = _NoAliasLoader(text)
    except yaml.YAMLError as exc:  # the reader rejects control characters up front
        raise InputError(f"cannot parse YAML: {_first_line(exc)}", source=source,
                         hint="remove control characters from the file") from None
    try:
        node = loader.get_single_node()
        lines: dict[Path_, int] = {}
        data = None if node is None else _build(node, loader, (), 0, lines)
    except InputError as exc:
        raise InputError(exc.message, source=source, field=exc.field, line=exc.line,
                         hint=exc.hint) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or "invalid YAML"
        raise InputError(f"cannot parse YAML: {problem}", source=source, line=line,
                         hint="check indentation, colons and quotes on that line") from None
    except yaml.YAMLError as exc:
        raise InputError(f"cannot parse YAML: {_first_line(exc)}", source=source) from None
    except (ValueError, TypeError, OverflowError) as exc:
        # e.g. an impossible date such as 2025-02-30 in a timestamp scalar
        raise InputError(f"cannot read a value: {exc}", source=source) from None
    finally:
        loader.dispose()
    return Document(data, lines, source)


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def _check_depth(value: Any, depth: int, source: str) -> None:
    if depth > MAX_DEPTH:
        raise InputError(f"document is nested more than {MAX_DEPTH} levels deep", source=source)
    if isinstance(value, dict):
        for v in value.values():
            _check_depth(v, depth + 1, source)
    elif isinstance(value, list):
        for v in value:
            _check_depth(v, depth + 1, source)


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise ValueError(f"duplicate key {key!r}")
        out[key] = value
    return out


def parse_json(text: str, source: str) -> Document:
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates)
    except json.JSONDecodeError as exc:
        raise InputError(f"cannot parse JSON: {exc.msg}", source=source, line=exc.lineno,
                         hint="check brackets, commas and quotes on that line") from None
    except ValueError as exc:
        raise InputError(f"cannot parse JSON: {exc}", source=source) from None
    except RecursionError:
        raise InputError(f"document is nested more than {MAX_DEPTH} levels deep",
                         source=source) from None
    _check_depth(data, 0, source)
    return Document(data, {}, source)


def decode(raw: bytes, source: str) -> str:
    if len(raw) > MAX_BYTES:
        raise InputError(
            f"file is {len(raw):,} bytes, larger than the {MAX_BYTES:,}-byte limit",
            source=source,
            hint="a profile is a few kilobytes; check that this is the right file",
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError(
            f"file is not UTF-8 text (bad byte at offset {exc.start})",
            source=source,
            hint="save the file as UTF-8",
        ) from None
    if "\x00" in text:
        raise InputError("file contains NUL bytes; it is not a text file", source=source)
    return text


def parse_text(text: str, source: str) -> Document:
    """Parse YAML or JSON (JSON is tried when the text starts with '{' or '[')."""
    stripped = text.lstrip()
    if not stripped:
        raise InputError("file is empty", source=source,
                         hint="a profile needs at least a 'tumour' section")
    if source.lower().endswith(".json"):
        return parse_json(text, source)
    return parse_yaml(text, source)


def read_document(path: Path, *, max_bytes: int = MAX_BYTES) -> Document:
    source = str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError("no such file", source=source, hint="check the path") from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", source=source) from None
    if path.is_dir():
        raise InputError("is a directory, not a file", source=source)
    if size > max_bytes:
        raise InputError(
            f"file is {size:,} bytes, larger than the {max_bytes:,}-byte limit",
            source=source,
            hint="a profile is a few kilobytes; check that this is the right file",
        )
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", source=source) from None
    return parse_text(decode(raw, source), source)


def read_stream(stream: IO[bytes], source: str = "<stdin>") -> Document:
    raw = stream.read(MAX_BYTES + 1)
    return parse_text(decode(raw, source), source)


@contextmanager
def atomic_writer(path: Path) -> Iterator[IO[str]]:
    """Write ``path`` via a temporary file in the same directory, then rename.

    An existing file is replaced only once the new content is complete; on any
    error the temporary file is removed and the old file is left untouched.
    """
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise InputError("directory does not exist", source=str(directory),
                         hint="create it first or choose another --output path")
    if path.is_dir():
        raise InputError("is a directory; give a file name", source=str(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise InputError(f"cannot write here: {exc.strerror}", source=str(path),
                         hint="choose a writable --output path") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text_atomic(path: Path, text: str) -> None:
    try:
        with atomic_writer(path) as handle:
            handle.write(text)
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", source=str(path),
                         hint="choose a writable --output path") from None


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Like :func:`write_text_atomic`, for binary output such as a PDF."""
    try:
        with atomic_writer(path) as handle:
            handle.flush()
            handle.buffer.write(data)  # type: ignore[attr-defined]
    except OSError as exc:
        raise InputError(f"cannot write: {exc.strerror}", source=str(path),
                         hint="choose a writable --output path") from None
