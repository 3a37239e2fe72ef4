"""Evaluate many profiles: input expansion, ordered (parallel) evaluation, outputs, resume.

Inputs are profile files, directories (searched recursively for ``*.yaml``,
``*.yml`` and ``*.json``), glob patterns, JSON Lines files (``*.jsonl``, one
profile per line; the record is the line number) and, when
:mod:`regimen.io.importers` is installed, files and folders in a standard format
(Phenopackets, FHIR, cBioPortal). Each becomes a :class:`Source`: the bytes or
mapping to evaluate, where it came from, and the sha256 of what was read.

Results come back in input order whatever the number of workers. A bad
profile yields an error item carrying exactly the message ``regimen
evaluate`` prints for it; it never stops the batch.

:class:`OutputDir` writes one report per patient and format (atomically),
``results.jsonl`` (one evaluation per line, the JSON of ``evaluate --format
json`` on one line), ``errors.jsonl`` (``{input, record, error}``) and
``manifest.jsonl``, the record a rerun uses to skip outputs whose input and
knowledge digests have not changed.
"""

from __future__ import annotations

import glob
import hashlib
import importlib
import json
import os
import re
import sys
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from ..errors import InputError, OutputError
from ..io.documents import MAX_BYTES, Document, decode, parse_json, parse_text
from ..io.files import atomic_writer, write_text_atomic
from ..models import Model
from ..profile import Profile, profile_from_document
from ..result import Result

T = TypeVar("T")
R = TypeVar("R")

PROFILE_SUFFIXES = (".yaml", ".yml", ".json")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
GLOB_CHARS = re.compile(r"[*?\[]")
OUTPUT_FILES = ("results.jsonl", "errors.jsonl", "manifest.jsonl")


# ----------------------------------------------------------------------------- sources
@dataclass(frozen=True)
class Source:
    """One profile to evaluate and where it came from.

    ``payload`` is the raw bytes of a profile file or JSON Lines record, a
    mapping (an imported profile, or a dict given to the API) or a
    :class:`Profile`; ``error`` is set instead when the input could not even
    be read (a missing file, a pattern that matches nothing).
    """

    input: str
    record: int | None
    key: str
    digest: str
    payload: bytes | dict[str, Any] | Profile | None = None
    error: str | None = None
    unmapped: tuple[Any, ...] = ()

    @property
    def stem(self) -> str:
        name = Path(self.input).name
        for suffix in (*PROFILE_SUFFIXES, *JSONL_SUFFIXES):
            if name.lower().endswith(suffix):
                name = name[: -len(suffix)]
                break
        return name if self.record is None else f"{name}-{self.record}"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, ensure_ascii=False, default=str).encode()


def read_profile_bytes(path: Path) -> bytes:
    """The bytes of a profile file, refused with the messages ``evaluate`` gives."""
    source = str(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise InputError("no such file", source=source, hint="check the path") from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", source=source) from None
    if path.is_dir():
        raise InputError("is a directory, not a file", source=source)
    if size > MAX_BYTES:
        raise InputError(
            f"file is {size:,} bytes, larger than the {MAX_BYTES:,}-byte limit",
            source=source,
            hint="a profile is a few kilobytes; check that this is the right file",
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", source=source) from None


def _key(path: Path, record: int | None) -> str:
    text = str(path.resolve())
    return text if record is None else f"{text}#{record}"


def _failed(display: str, record: int | None, key: str, message: str) -> Source:
    return Source(display, record, key, sha256(message.encode()), error=message)


def _file_source(path: Path) -> Source:
    display = str(path)
    try:
        raw = read_profile_bytes(path)
    except InputError as exc:
        return _failed(display, None, _key(path, None), str(exc))
    return Source(display, None, _key(path, None), sha256(raw), payload=raw)


def _jsonl_sources(path: Path) -> Iterator[Source]:
    display = str(path)
    try:
        handle = path.open("rb")
    except OSError as exc:
        message = str(InputError(f"cannot read: {exc.strerror}", source=display))
        yield _failed(display, None, _key(path, None), message)
        return
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            yield Source(display, number, _key(path, number), sha256(line), payload=line)


def _importers() -> Any:
    """The import package (Phenopackets, FHIR, cBioPortal), imported on first use."""
    return importlib.import_module("regimen.io.importers")


def imported_sources(path: Path, fmt: str | None = None) -> Iterator[Source]:
    """The profiles an importer reads from ``path``: one :class:`Source` per record.

    An importer yields objects with ``profile`` (a profile mapping), ``source``
    (where in the file it came from) and ``unmapped`` (what it could not map).
    """
    importers = _importers()
    display = str(path)
    try:
        for number, item in enumerate(importers.import_path(path, fmt), start=1):
            profile = dict(item.profile)
            yield Source(display, number, _key(path, number), sha256(_canonical(profile)),
                         payload=profile, unmapped=tuple(item.unmapped))
    except InputError as exc:
        yield _failed(display, None, _key(path, None), str(exc))


def _detect(path: Path) -> str | None:
    try:
        found = _importers().detect(path)
    except InputError:
        return None
    return str(found) if found else None


def _within(path: Path, folder: Path | None) -> bool:
    if folder is None:
        return False
    try:
        path.resolve().relative_to(folder)
    except ValueError:
        return False
    return True


def _walk(root: Path, exclude: Path | None) -> Iterator[Path]:
    """Profile files and import folders under ``root``, lazily: a directory's own files
    (sorted by name), then its subdirectories (sorted)."""
    for directory, dirs, files in os.walk(root):
        here = Path(directory)
        if _within(here, exclude):
            dirs[:] = []
            continue
        if here != root and _detect(here):
            dirs[:] = []
            yield here
            continue
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in sorted(files):
            if name.startswith("."):
                continue
            if name.lower().endswith((*PROFILE_SUFFIXES, *JSONL_SUFFIXES)):
                yield here / name


def _kind(path: Path, import_format: str | None) -> str:
    """How a path is read: ``import``, ``jsonl`` or ``file`` (one profile)."""
    lower = path.name.lower()
    if import_format is not None or path.is_dir() or (
            lower.endswith(".json") and _detect(path)) or (
            not lower.endswith((*PROFILE_SUFFIXES, *JSONL_SUFFIXES)) and _detect(path)):
        return "import"
    return "jsonl" if lower.endswith(JSONL_SUFFIXES) else "file"


def _path_sources(path: Path, import_format: str | None) -> Iterator[Source]:
    kind = _kind(path, import_format)
    if kind == "import":
        yield from imported_sources(path, import_format)
    elif kind == "jsonl":
        yield from _jsonl_sources(path)
    else:
        yield _file_source(path)


def input_paths(inputs: Iterable[str | Path], *, exclude: Path | None = None,
                import_format: str | None = None) -> Iterator[tuple[Path, str | None] | Source]:
    """The files (and import folders) named by ``inputs``, in order, each once, with the
    import format to force; a pattern that matches nothing comes as a failed source."""
    seen: set[str] = set()
    out = exclude.resolve() if exclude is not None else None

    def once(path: Path) -> bool:
        key = str(path.resolve())
        if key in seen:
            return False
        seen.add(key)
        return True

    for item in inputs:
        text = str(item)
        path = Path(text)
        if path.is_dir() and not _detect(path) and import_format is None:
            for found in _walk(path, out):
                if once(found):
                    yield found, None
        elif path.exists() or not GLOB_CHARS.search(text):
            if once(path):
                yield path, import_format
        else:
            matches = sorted(glob.glob(text, recursive=True))
            if not matches:
                message = str(InputError("no file matches this pattern", source=text,
                                         hint="check the pattern; quote it so the shell "
                                              "does not expand it"))
                yield _failed(text, None, f"pattern:{text}", message)
            for match in matches:
                found = Path(match)
                if _within(found, out):
                    continue
                if found.is_dir():
                    for inner in _walk(found, out):
                        if once(inner):
                            yield inner, None
                elif once(found):
                    yield found, import_format


def expand_inputs(inputs: Iterable[str | Path], *, exclude: Path | None = None,
                  import_format: str | None = None) -> Iterator[Source]:
    """Every profile named by ``inputs``, in order, each file once.

    Directories are searched recursively; a directory an importer recognises
    (a cBioPortal study) is imported whole. Files under ``exclude`` (the
    output directory) are never read as inputs.
    """
    for found in input_paths(inputs, exclude=exclude, import_format=import_format):
        if isinstance(found, Source):
            yield found
        else:
            yield from _path_sources(*found)


def count_inputs(inputs: Iterable[str | Path], *, exclude: Path | None = None,
                 import_format: str | None = None) -> int | None:
    """How many profiles :func:`expand_inputs` will yield, or None when only an import
    can tell. Reads JSON Lines files once to count their lines; parses nothing."""
    total = 0
    for found in input_paths(inputs, exclude=exclude, import_format=import_format):
        if isinstance(found, Source):
            total += 1
            continue
        kind = _kind(*found)
        if kind == "import":
            return None
        if kind == "file":
            total += 1
            continue
        try:
            with found[0].open("rb") as handle:
                total += sum(1 for line in handle if line.strip())
        except OSError:
            total += 1
    return total


def api_sources(items: Iterable[Any]) -> Iterator[Source]:
    """Sources for :func:`evaluate_many`: paths, mappings, profiles or sources."""
    for index, item in enumerate(items, start=1):
        if isinstance(item, Source):
            yield item
        elif isinstance(item, str | Path):
            path = Path(item)
            if path.name.lower().endswith(JSONL_SUFFIXES):
                yield from _jsonl_sources(path)
            else:
                yield _file_source(path)
        elif isinstance(item, Profile):
            yield Source("<profile>", index, f"<item>#{index}",
                         sha256(item.model_dump_json().encode()), payload=item)
        elif isinstance(item, dict):
            yield Source("<profile>", index, f"<item>#{index}", sha256(_canonical(item)),
                         payload=item)
        elif hasattr(item, "profile") and hasattr(item, "source"):
            profile = dict(item.profile)
            yield Source(str(item.source), index, f"{item.source}#{index}",
                         sha256(_canonical(profile)), payload=profile,
                         unmapped=tuple(getattr(item, "unmapped", ())))
        else:
            raise InputError(f"cannot evaluate a {type(item).__name__}",
                             hint="pass paths, profile mappings or Profile objects")


def load_source(source: Source, recommender: Any) -> Profile:
    """Validate a source into a profile; raises the :class:`InputError` ``evaluate`` would."""
    vocab = recommender.kb.vocabulary
    if source.error is not None:
        raise InputError(source.error)
    payload = source.payload
    if isinstance(payload, Profile):
        return payload
    if isinstance(payload, dict):
        where = source.input if source.record is None else f"{source.input}#{source.record}"
        return profile_from_document(Document(payload, {}, where), vocab)
    assert isinstance(payload, bytes)
    if source.record is None:
        return profile_from_document(parse_text(decode(payload, source.input), source.input),
                                     vocab)
    # a JSON Lines record: every message points at the file and the line
    try:
        doc = parse_json(decode(payload, source.input), source.input)
    except InputError as exc:
        raise InputError(exc.message, source=source.input, line=source.record,
                         field=exc.field, hint=exc.hint) from None
    return profile_from_document(Document(doc.data, {(): source.record}, source.input), vocab)


# ----------------------------------------------------------------------------- evaluation
class BatchItem(Model):
    """One input's outcome: the result, or the error message ``evaluate`` would print."""

    input: str
    record: int | None
    result: Result | None = None
    error: str | None = None
    unmapped: list[Any] = []

    @property
    def ok(self) -> bool:
        return self.error is None


def _text(rendered: str | bytes) -> str:
    """Batch reports are text formats (the registry's ``batch-report`` document)."""
    assert isinstance(rendered, str), "batch writes text formats only"
    return rendered


def _error_text(source: Source, exc: InputError) -> str:
    return source.error if source.error is not None else str(exc)


def evaluate_source(recommender: Any, source: Source, as_of: Any = None,
                    top: int | None = None) -> BatchItem:
    try:
        result = recommender.evaluate(load_source(source, recommender), as_of=as_of, top=top)
    except InputError as exc:
        return BatchItem(input=source.input, record=source.record,
                         error=_error_text(source, exc), unmapped=list(source.unmapped))
    return BatchItem(input=source.input, record=source.record, result=result,
                     unmapped=list(source.unmapped))


# Worker side of the process pool: the recommender each worker evaluates with.
_WORKER: Any = None


def _init_worker(knowledge: Any) -> None:
    import signal

    global _WORKER
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
    if knowledge is not None:
        from ..api import Recommender

        _WORKER = Recommender(knowledge)


def _call(fn: Callable[[Any, Any], Any], item: Any) -> Any:
    return fn(_WORKER, item)


def _start_method() -> str:
    import multiprocessing

    methods = multiprocessing.get_all_start_methods()
    return "fork" if sys.platform.startswith("linux") and "fork" in methods else "spawn"


class Ready:
    """An outcome known without evaluation (an up-to-date output); passed through in order."""

    def __init__(self, value: Any) -> None:
        self.value = value


def ordered_map(fn: Callable[[Any, T], R], items: Iterable[T | Ready], recommender: Any,
                jobs: int = 1, window: int | None = None) -> Iterator[R]:
    """``fn(recommender, item)`` for every item, in input order.

    With ``jobs > 1`` a process pool evaluates; on Linux the workers are
    forked after the knowledge base was compiled, so they inherit it; on other
    platforms each worker compiles it once in an initializer. At most
    ``window`` items are in flight, so memory does not grow with the input.
    :class:`Ready` items are passed through in their place without work.
    """
    if jobs <= 1:
        for item in items:
            yield item.value if isinstance(item, Ready) else fn(recommender, item)
        return
    import multiprocessing

    global _WORKER
    method = _start_method()
    context = multiprocessing.get_context(method)
    if method == "fork":
        _WORKER = recommender
        executor = ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker,
                                       initargs=(None,))
    else:
        executor = ProcessPoolExecutor(jobs, mp_context=context, initializer=_init_worker,
                                       initargs=(recommender.kb,))
    limit = window or jobs * 8
    pending: deque[Future[R] | Ready] = deque()
    try:
        for item in items:
            pending.append(item if isinstance(item, Ready) else executor.submit(_call, fn, item))
            while len(pending) >= limit or (pending and isinstance(pending[0], Ready)):
                head = pending.popleft()
                yield head.value if isinstance(head, Ready) else head.result()
        while pending:
            head = pending.popleft()
            yield head.value if isinstance(head, Ready) else head.result()
    finally:
        for waiting in pending:
            if isinstance(waiting, Future):
                waiting.cancel()
        executor.shutdown(wait=True, cancel_futures=True)
        if method == "fork":
            _WORKER = None


def evaluate_many(recommender: Any, items: Iterable[Any], jobs: int = 1, *,
                  as_of: Any = None, top: int | None = None) -> Iterator[BatchItem]:
    """Evaluate many profiles, yielding one :class:`BatchItem` per profile in input order.

    ``items`` are profile paths (a ``.jsonl`` path yields one item per line),
    profile mappings, :class:`Profile` objects, imported profiles or
    :class:`Source` objects. A profile that does not validate yields an item
    with ``error`` set; the iteration goes on.
    """
    yield from ordered_map(_EvaluateTask(as_of, top), api_sources(items), recommender, jobs)


@dataclass(frozen=True)
class _EvaluateTask:
    as_of: Any
    top: int | None

    def __call__(self, recommender: Any, source: Source) -> BatchItem:
        return evaluate_source(recommender, source, self.as_of, self.top)


# ----------------------------------------------------------------------------- reports
@dataclass(frozen=True)
class Outcome:
    """What a worker sends back for one source: the finished texts, or the error."""

    input: str
    record: int | None
    key: str
    digest: str
    knowledge: str
    stem: str
    profile_id: str | None = None
    line: str | None = None
    texts: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    unmapped: tuple[Any, ...] = ()


def result_line(result: Result) -> str:
    """One evaluation as one line of JSON (the JSON of ``evaluate --format json``)."""
    return json.dumps(result.to_dict(), ensure_ascii=False, separators=(",", ":")) + "\n"


@dataclass(frozen=True)
class RenderTask:
    """Evaluate a source and render its reports (runs in a worker)."""

    formats: tuple[str, ...]
    as_of: Any = None
    top: int | None = None

    def __call__(self, recommender: Any, source: Source) -> Outcome:
        from ..render import render

        digest = recommender.kb.digest
        try:
            profile = load_source(source, recommender)
            result = recommender.evaluate(profile, as_of=self.as_of, top=self.top)
        except InputError as exc:
            return Outcome(source.input, source.record, source.key, source.digest, digest,
                           source.stem, error=_error_text(source, exc),
                           unmapped=source.unmapped)
        texts = {fmt: _text(render(result, fmt)) for fmt in self.formats}
        return Outcome(source.input, source.record, source.key, source.digest, digest,
                       source.stem, profile_id=profile.id, line=result_line(result), texts=texts,
                       unmapped=source.unmapped)


def safe_name(text: str) -> str:
    """A file name from a profile id or input name: letters, digits, ``._-`` only."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-")[:100]
    return name or "profile"


class Entry(Model):
    """One line of ``manifest.jsonl``: an input whose outputs are complete."""

    key: str
    input: str
    record: int | None
    input_digest: str
    knowledge_digest: str
    status: str
    name: str | None = None
    formats: list[str] = []
    line_sha: str | None = None
    error: str | None = None
    unmapped: list[Any] = []


@dataclass
class Counts:
    evaluated: int = 0
    refused: int = 0
    skipped: int = 0
    skipped_refused: int = 0

    @property
    def total_refused(self) -> int:
        return self.refused + self.skipped_refused


def _append(path: Path, text: str) -> None:
    """Append one whole line with a single write and flush it."""
    data = text.encode("utf-8")
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
    finally:
        os.close(fd)


def _repair(path: Path) -> None:
    """Drop a last line left incomplete by an interrupted run."""
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb+") as handle:
        end = handle.seek(0, os.SEEK_END)
        position = end
        while position > 0:
            start = max(position - 65536, 0)
            handle.seek(start)
            block = handle.read(position - start)
            if position == end and block.endswith(b"\n"):
                return
            cut = block.rfind(b"\n")
            if cut >= 0:
                handle.truncate(start + cut + 1)
                return
            position = start
        handle.truncate(0)


class OutputDir:
    """The output directory of a batch: reports, JSON Lines files and the manifest.

    Writes are ordered so that an interrupted run leaves only complete files:
    each report is written atomically, then its ``results.jsonl`` (or
    ``errors.jsonl``) line is appended whole, then the manifest line that
    makes the input count as done. A rerun skips inputs whose manifest entry
    has the same input and knowledge digests, formats and intact outputs, and
    at the end rewrites the JSON Lines files in input order without stale lines.
    """

    def __init__(self, root: Path, formats: Iterable[str], knowledge_digest: str,
                 protected: Iterable[Path] = ()) -> None:
        self.root = root
        self.formats = tuple(formats)
        self.knowledge_digest = knowledge_digest
        self.results = root / "results.jsonl"
        self.errors = root / "errors.jsonl"
        self.manifest = root / "manifest.jsonl"
        self.unmapped = root / "unmapped.jsonl"
        if root.exists() and not root.is_dir():
            raise OutputError("is not a directory", source=str(root),
                              hint="give --out a directory (it is created if missing)")
        try:
            root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputError(f"cannot create the output directory: {exc.strerror}",
                              source=str(root)) from None
        self.protected = {str(p.resolve()).lower() for p in protected}
        self.entries: dict[str, Entry] = {}
        self.owners: dict[str, str] = {}
        self.resuming = self.manifest.exists()
        if self.resuming:
            self._load()
        else:
            for name in ("results.jsonl", "errors.jsonl", "unmapped.jsonl"):
                (root / name).unlink(missing_ok=True)
        for made in (self.results, self.errors):
            made.touch()
        self.order: list[str] = []
        self.used: set[str] = set()
        self._offsets: dict[str, int] | None = None

    # -------------------------------------------------------------- resume
    def _load(self) -> None:
        for name in OUTPUT_FILES:
            _repair(self.root / name)
        with self.manifest.open(encoding="utf-8") as handle:
            for text in handle:
                try:
                    entry = Entry.model_validate_json(text)
                except ValueError:
                    continue
                self.entries[entry.key] = entry
        for entry in self.entries.values():
            if entry.name:
                self.owners.setdefault(entry.name.lower(), entry.key)

    def _index(self) -> dict[str, int]:
        """Offsets of the lines of ``results.jsonl`` by their sha256 (built once, lazily)."""
        if self._offsets is None:
            wanted = {e.line_sha for e in self.entries.values() if e.line_sha}
            self._offsets = {}
            if self.results.exists():
                with self.results.open("rb") as handle:
                    offset = 0
                    for raw in handle:
                        digest = sha256(raw)[:32]
                        if digest in wanted:
                            self._offsets[digest] = offset
                        offset += len(raw)
        return self._offsets

    def _read_line(self, handle: Any, line_sha: str) -> str:
        handle.seek(self._index()[line_sha])
        return handle.readline().decode("utf-8")

    def up_to_date(self, source: Source) -> Entry | None:
        """The manifest entry that makes ``source`` current, or None to evaluate it."""
        entry = self.entries.get(source.key)
        if entry is None or entry.input_digest != source.digest or \
                entry.knowledge_digest != self.knowledge_digest:
            return None
        if entry.status == "refused":
            return entry
        if not set(self.formats) <= set(entry.formats) or entry.name is None:
            return None
        if any(not self.report_path(entry.name, fmt).exists() for fmt in self.formats):
            return None
        if entry.line_sha is None or entry.line_sha not in self._index():
            return None
        if entry.name.lower() in self.used:
            return None
        return entry

    def cached_line(self, entry: Entry) -> str:
        assert entry.line_sha is not None
        with self.results.open("rb") as handle:
            return self._read_line(handle, entry.line_sha)

    def keep(self, entry: Entry) -> None:
        """Count an up-to-date input as part of this run."""
        self.order.append(entry.key)
        if entry.name:
            self.used.add(entry.name.lower())

    # -------------------------------------------------------------- writing
    def report_path(self, name: str, fmt: str) -> Path:
        return self.root / f"{name}.{fmt}"

    def _claim(self, outcome: Outcome) -> str:
        base = safe_name(outcome.profile_id or outcome.stem)
        for n in range(1, 1_000_000):
            name = base if n == 1 else f"{base}-{n}"
            lower = name.lower()
            if lower in self.used or self.owners.get(lower, outcome.key) != outcome.key:
                continue
            if any(str(self.report_path(name, fmt).resolve()).lower() in self.protected
                   for fmt in self.formats):
                continue
            self.used.add(lower)
            if self.resuming:
                self.owners[lower] = outcome.key
            return name
        raise OutputError("cannot find a free report name", source=base)  # pragma: no cover

    def write(self, outcome: Outcome) -> Entry:
        """Write one outcome: reports, then its JSON Lines line, then its manifest entry."""
        if self.resuming:
            self.order.append(outcome.key)
        unmapped = json.loads(json.dumps(list(outcome.unmapped), default=str))
        if unmapped:
            _append(self.unmapped, unmapped_line(outcome.input, outcome.record, unmapped))
        if outcome.error is not None:
            _append(self.errors, error_line(outcome.input, outcome.record, outcome.error))
            entry = Entry(key=outcome.key, input=outcome.input, record=outcome.record,
                          input_digest=outcome.digest, knowledge_digest=outcome.knowledge,
                          status="refused", error=outcome.error, unmapped=unmapped)
        else:
            assert outcome.line is not None
            name = self._claim(outcome)
            for fmt, text in outcome.texts.items():
                write_text_atomic(self.report_path(name, fmt), text)
            self._drop_stale(outcome.key, name)
            offset = self.results.stat().st_size if self.results.exists() else 0
            _append(self.results, outcome.line)
            entry = Entry(key=outcome.key, input=outcome.input, record=outcome.record,
                          input_digest=outcome.digest, knowledge_digest=outcome.knowledge,
                          status="evaluated", name=name, formats=list(outcome.texts),
                          line_sha=sha256(outcome.line.encode())[:32], unmapped=unmapped)
            if self._offsets is not None and entry.line_sha:
                self._offsets[entry.line_sha] = offset
        _append(self.manifest, entry.model_dump_json() + "\n")
        if self.resuming:  # a fresh run keeps no per-input state beyond the names in use
            self.entries[entry.key] = entry
        return entry

    def _drop_stale(self, key: str, name: str) -> None:
        """Remove the reports an earlier run wrote for this input under another name."""
        previous = self.entries.get(key)
        if previous is None or previous.name is None or previous.name == name:
            return
        for fmt in previous.formats:
            path = self.report_path(previous.name, fmt)
            if str(path.resolve()).lower() not in self.protected:
                path.unlink(missing_ok=True)
        if self.owners.get(previous.name.lower()) == key:
            del self.owners[previous.name.lower()]

    def finish(self) -> None:
        """After a resumed run: rewrite the JSON Lines files in input order, once each."""
        if not self.resuming:
            return
        index = self._index()
        with self.results.open("rb") if self.results.exists() else open(os.devnull, "rb") as old, \
                atomic_writer(self.results) as results, atomic_writer(self.errors) as errors, \
                atomic_writer(self.unmapped) as unmapped:
            for key in self.order:
                entry = self.entries[key]
                if entry.unmapped:
                    unmapped.write(unmapped_line(entry.input, entry.record, entry.unmapped))
                if entry.status == "refused":
                    errors.write(error_line(entry.input, entry.record, entry.error or ""))
                elif entry.line_sha in index:
                    results.write(self._read_line(old, entry.line_sha or ""))
        if self.unmapped.stat().st_size == 0:
            self.unmapped.unlink()
        # the manifest last: until it is replaced, the old one still describes the files
        with atomic_writer(self.manifest) as manifest:
            for key in self.order:
                manifest.write(self.entries[key].model_dump_json() + "\n")


def unmapped_line(input_: str, record: int | None, unmapped: list[Any]) -> str:
    return json.dumps({"input": input_, "record": record, "unmapped": unmapped},
                      ensure_ascii=False) + "\n"


def error_line(input_: str, record: int | None, error: str) -> str:
    return json.dumps({"input": input_, "record": record, "error": error},
                      ensure_ascii=False) + "\n"


# ----------------------------------------------------------------------------- the batch
Mapper = Callable[[Callable[[Any, Any], Any], Iterable[Any], Any], Iterator[Any]]


def local_mapper(jobs: int) -> Mapper:
    def run(fn: Callable[[Any, Any], Any], items: Iterable[Any], recommender: Any
            ) -> Iterator[Any]:
        return ordered_map(fn, items, recommender, jobs)

    return run


def run_batch(sources: Iterable[Source], recommender: Any, task: RenderTask,
              out: OutputDir | None, mapper: Mapper | None = None, *,
              on_outcome: Callable[[Outcome], None] | None = None,
              on_result: Callable[[str], None] | None = None,
              on_refused: Callable[[], None] | None = None,
              on_step: Callable[[], None] | None = None) -> Counts:
    """Evaluate every source in order and write its outputs; returns the counts.

    Without ``out`` nothing is written: ``on_outcome`` receives each outcome.
    ``on_result`` receives every result line (also those of skipped, up-to-date
    inputs) and ``on_refused`` is called for every refused input, so that a
    cohort summary covers the whole batch.
    """
    counts = Counts()

    def items() -> Iterator[Source | Ready]:
        for source in sources:
            entry = out.up_to_date(source) if out is not None else None
            yield Ready(entry) if entry is not None else source

    for done in (mapper or local_mapper(1))(task, items(), recommender):
        if isinstance(done, Entry):
            assert out is not None
            out.keep(done)
            counts.skipped += 1
            if done.status == "refused":
                counts.skipped_refused += 1
                if on_refused is not None:
                    on_refused()
            elif on_result is not None:
                on_result(out.cached_line(done))
        else:
            if out is not None:
                out.write(done)
            if on_outcome is not None:
                on_outcome(done)
            if done.error is not None:
                counts.refused += 1
                if on_refused is not None:
                    on_refused()
            else:
                counts.evaluated += 1
                if on_result is not None and done.line is not None:
                    on_result(done.line)
        if on_step is not None:
            on_step()
    if out is not None:
        out.finish()
    return counts
