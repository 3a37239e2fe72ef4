"""Read YAML and JSON documents safely, with a map from field path to line.

YAML is composed node by node so that every value keeps its line number (for
error messages), aliases are refused (no "billion laughs"), nesting depth and
file size are bounded, and duplicate keys are errors instead of silently
overwriting each other.

When PyYAML was built with libyaml, documents are composed by the C parser
(about 10x faster; it keeps a mark with the line on every node) and built into
data by the same code as the pure-Python path. The C path is optimistic: any
problem it meets (an alias, a duplicate key, a depth or syntax error) sends the
text through the pure-Python path, which raises the one canonical error, so
messages and line numbers do not depend on the parser.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar

import yaml

from ..errors import InputError

if TYPE_CHECKING:
    from pydantic import ValidationError

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


class _Resolver(yaml.resolver.Resolver):
    """YAML 1.2-like plain scalars: numbers and dates only as written.

    YAML 1.1 reads ``4:20`` as 260 (base 60), ``010`` as 8 (octal), ``0x10`` as 16,
    ``on``/``yes``/``off``/``no`` as booleans and timestamps as datetimes. Here only
    decimal integers (no leading zero), decimal floats, ``true``/``false``,
    ``null``/``~``/empty and dates written YYYY-MM-DD are typed; everything else is
    text, which the profile's strict fields then refuse with a message.
    """


_Resolver.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("tag:yaml.org,2002:int", r"^[-+]?(?:0|[1-9][0-9]*)$", "-+0123456789"),
    ("tag:yaml.org,2002:float",
     r"^[-+]?(?:(?:0|[1-9][0-9]*)\.[0-9]*|\.[0-9]+|(?:0|[1-9][0-9]*))(?:[eE][-+]?[0-9]+)?$",
     "-+0123456789."),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("tag:yaml.org,2002:timestamp", r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", "0123456789"),
    ("tag:yaml.org,2002:merge", r"^(?:<<)$", "<"),
):
    _Resolver.add_implicit_resolver(_tag, re.compile(_pattern), list(_first))


LIBYAML: bool = bool(getattr(yaml, "__with_libyaml__", False))
"""Compose YAML with libyaml when available (tests switch it off to compare the paths)."""

_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE


if LIBYAML:
    _CParser: Any = vars(yaml.cyaml)["CParser"]

    class _CStrictLoader(_CParser, yaml.constructor.SafeConstructor, _Resolver):
        """libyaml's parser with the same strict resolver as the pure-Python path."""

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            _Resolver.__init__(self)


class _Retry(Exception):
    """The C path met something only the pure-Python path reports canonically."""


class _NoAliasLoader(yaml.reader.Reader, yaml.scanner.Scanner, yaml.parser.Parser,
                     yaml.composer.Composer, yaml.constructor.SafeConstructor, _Resolver):
    """SafeLoader with the strict resolver that refuses anchors/aliases at the event level."""

    def __init__(self, stream: str) -> None:
        yaml.reader.Reader.__init__(self, stream)
        yaml.scanner.Scanner.__init__(self)
        yaml.parser.Parser.__init__(self)
        yaml.composer.Composer.__init__(self)
        yaml.constructor.SafeConstructor.__init__(self)
        _Resolver.__init__(self)

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise InputError(
                "YAML aliases (*name) are not accepted",
                line=event.start_mark.line + 1,
                hint="write the value out in full",
            )
        return super().compose_node(parent, index)


def _build(node: yaml.Node, loader: Any, path: Path_, depth: int,
           lines: dict[Path_, int], seen: set[int] | None = None) -> Any:
    if seen is not None:  # the C composer resolves an alias to the anchored node itself
        if id(node) in seen:
            raise _Retry
        seen.add(id(node))
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
            if seen is not None:
                if id(key_node) in seen or not isinstance(key_node, yaml.ScalarNode):
                    raise _Retry
                seen.add(id(key_node))
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
            out[key] = _build(value_node, loader, (*path, key), depth + 1, lines, seen)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(item, loader, (*path, i), depth + 1, lines, seen)
            for i, item in enumerate(node.value)
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


def _flow_depth(text: str) -> int:
    """Deepest nesting of flow brackets (outside quotes), checked before parsing."""
    depth = deepest = 0
    quote = ""
    for char in text:
        if quote:
            if char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth = max(depth - 1, 0)
        elif char == "\n":
            quote = ""
    return deepest


def parse_yaml(text: str, source: str) -> Document:
    if _flow_depth(text) > 10 * MAX_DEPTH:
        raise InputError(f"document is nested more than {MAX_DEPTH} levels deep",
                         source=source)
    if LIBYAML:
        fast = _parse_yaml_c(text, source)
        if fast is not None:
            return fast
    return _parse_yaml_python(text, source)


def _parse_yaml_c(text: str, source: str) -> Document | None:
    """Compose with libyaml; None when the document needs the pure-Python path's verdict."""
    if _NON_PRINTABLE.search(text):
        return None
    loader = _CStrictLoader(text)
    try:
        node = loader.get_single_node()
        lines: dict[Path_, int] = {}
        data = None if node is None else _build(node, loader, (), 0, lines, set())
    except (_Retry, InputError, yaml.YAMLError, ValueError, TypeError, OverflowError,
            RecursionError):
        return None
    finally:
        loader.dispose()
    return Document(data, lines, source)


def _parse_yaml_python(text: str, source: str) -> Document:
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
    except RecursionError:
        raise InputError(f"document is nested more than {MAX_DEPTH} levels deep",
                         source=source) from None
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


def decode(raw: bytes, source: str, max_bytes: int = MAX_BYTES) -> str:
    if len(raw) > max_bytes:
        raise InputError(
            f"file is larger than the {max_bytes:,}-byte limit",
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
    if stripped[0] in "{[":
        # JSON by content (tab-indented JSON is not YAML); flow YAML falls through
        with contextlib.suppress(InputError):
            return parse_json(text, source)
    return parse_yaml(text, source)


def read_bounded(path: Path, max_bytes: int = MAX_BYTES) -> bytes:
    """At most ``max_bytes + 1`` bytes of ``path`` (a device or pipe never fills memory)."""
    source = str(path)
    try:
        if path.is_dir():
            raise InputError("is a directory, not a file", source=source)
        with open(path, "rb") as handle:
            raw = handle.read(max_bytes + 1)
    except FileNotFoundError:
        hint = "it is a dangling symbolic link" if path.is_symlink() else "check the path"
        raise InputError("no such file", source=source, hint=hint) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", source=source) from None
    if len(raw) > max_bytes:
        raise InputError(
            f"file is larger than the {max_bytes:,}-byte limit",
            source=source,
            hint="a profile is a few kilobytes; check that this is the right file",
        )
    return raw


def read_document(path: Path, *, max_bytes: int = MAX_BYTES) -> Document:
    source = str(path)
    return parse_text(decode(read_bounded(path, max_bytes), source, max_bytes), source)


def read_stream(stream: IO[bytes] | IO[str] | None, source: str = "<stdin>") -> Document:
    """A document from a binary or text stream, reading at most MAX_BYTES + 1."""
    if stream is None:
        raise InputError("standard input is closed", source=source,
                         hint="pipe a profile in or give a file name")
    try:
        raw = stream.read(MAX_BYTES + 1)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read: {getattr(exc, 'strerror', None) or exc}",
                         source=source) from None
    if isinstance(raw, str):
        if len(raw) > MAX_BYTES:
            raise InputError(f"file is larger than the {MAX_BYTES:,}-byte limit", source=source)
        raw = raw.encode("utf-8", errors="surrogatepass")
    return parse_text(decode(raw, source), source)


_E = TypeVar("_E", bound=InputError)

_PLAIN: dict[str, str] = {
    "date_from_datetime_parsing": "{input!r} is not a date; write dates as YYYY-MM-DD",
    "date_parsing": "{input!r} is not a date; write dates as YYYY-MM-DD",
    "date_type": "{input!r} is not a date; write dates as YYYY-MM-DD",
    "date_from_datetime_inexact": "{input!r} is not a date; write dates as YYYY-MM-DD",
    "greater_than_equal": "must be at least {ge} (got {input!r})",
    "greater_than": "must be more than {gt} (got {input!r})",
    "less_than_equal": "must be at most {le} (got {input!r})",
    "less_than": "must be less than {lt} (got {input!r})",
    "float_parsing": "{input!r} is not a number",
    "float_type": "{input!r} is not a number",
    "int_parsing": "{input!r} is not a whole number",
    "int_type": "{input!r} is not a whole number",
    "int_from_float": "{input!r} is not a whole number",
    "bool_parsing": "{input!r} is not true or false",
    "bool_type": "{input!r} is not true or false",
    "string_type": "expected text, got {input!r}",
    "list_type": "expected a list, got {input!r}",
    "dict_type": "expected a mapping of keys to values, got {input!r}",
    "model_type": "expected a mapping of keys to values, got {input!r}",
    "too_long": "too many entries: at most {max_length}",
    "too_short": "too few entries: at least {min_length}",
    "string_too_long": "text is too long: at most {max_length} characters",
    "string_too_short": "text is too short: at least {min_length} characters",
}
"""pydantic error types -> the message regimen shows (never pydantic's own wording)."""


def validation_error(exc: ValidationError, doc: Document, error: type[_E], *,
                     base: Path_ = (), context: str = "",
                     allowed_keys: Callable[[Path_], list[str]] | None = None) -> _E:
    """The one translation of a pydantic error into a located regimen error.

    Names the file, the field path and its line, says what is wrong in words
    (an unknown key with the keys allowed there, a missing field, a value not
    in a list) and how many more problems the document has. ``base`` is the
    path of the validated item inside the document; ``context`` prefixes the
    message (e.g. ``rule 'crc.x'``).
    """
    errors = exc.errors()
    first = errors[0]
    inner = tuple(p for p in first["loc"] if isinstance(p, str | int))
    loc = (*base, *inner)
    message = first["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    hint = None
    if first["type"] == "extra_forbidden":
        message = f"unknown key {loc[-1]!r}"
        allowed = allowed_keys(inner[:-1]) if allowed_keys is not None else []
        hint = f"allowed keys here: {', '.join(allowed)}" if allowed else None
    elif first["type"] == "missing":
        message = f"required field {loc[-1]!r} is missing"
    elif first["type"] == "literal_error":
        expected = (first.get("ctx") or {}).get("expected", "")
        values = ", ".join(part.strip(" '") for part in
                           expected.replace(" or ", ", ").split(","))
        message = f"{first.get('input')!r} is not allowed; allowed: {values}"
    elif first["type"] in _PLAIN:
        ctx = {key: f"{value:g}" if isinstance(value, float) else value
               for key, value in (first.get("ctx") or {}).items()}
        message = _PLAIN[first["type"]].format(input=first.get("input"), **ctx)
    elif "input" in first and first["type"] not in ("value_error", "assertion_error") and \
            not isinstance(first["input"], dict | list):
        message = f"{message} (got {first['input']!r})"
    if context:
        message = f"{context}: {message}"
    if len(errors) > 1:
        message += f" [and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''}]"
    return error(message, source=doc.source, field=dotted(loc), line=doc.line_of(loc),
                 hint=hint)
