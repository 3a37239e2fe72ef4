"""A per-user cache of pure, expensive results (the validated knowledge base, compiled
templates), so that a cold ``regimen`` command does not redo them.

The directory is ``$REGIMEN_CACHE_DIR``, else ``$XDG_CACHE_HOME/regimen``, else
``~/.cache/regimen``; ``REGIMEN_CACHE_DIR=off`` turns caching off. Each entry
stores the key it was built for and is served only when that key matches, so a
changed input never gets a stale answer. Entries are written atomically; an
unreadable, corrupt or foreign entry is ignored (and rebuilt by the caller).
Nothing here is required for correctness: every failure means "no cache".
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any

_FORMAT = 1
"""Bumped when the layout of a cache entry changes."""

_source_digest: str | None = None


def cache_dir() -> Path | None:
    """The cache directory, or None when caching is off (it may not exist yet)."""
    chosen = os.environ.get("REGIMEN_CACHE_DIR")
    if chosen is not None:
        if chosen.strip().lower() in ("off", "0", "none", "false", ""):
            return None
        return Path(chosen).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".cache"
    return base / "regimen"


def code_digest() -> str:
    """Digest of regimen's version, its source files and the Python and pydantic versions.

    Part of every key: a cached object is only valid for the code that built it
    (a source checkout can change without a version bump).
    """
    global _source_digest
    if _source_digest is None:
        import pydantic
        import pydantic_core

        from .. import __version__
        from .digests import files_digest

        package = Path(__file__).resolve().parent.parent
        _source_digest = files_digest(
            f"code:{package}", package, sorted(package.rglob("*.py")),
            salt=f"{_FORMAT}|{__version__}|{sys.version}|{pydantic.VERSION}|"
                 f"{pydantic_core.__version__}")
    return _source_digest


def entry_path(kind: str, name: str) -> Path | None:
    """Where the entry ``kind`` for ``name`` (e.g. a knowledge directory) lives."""
    directory = cache_dir()
    if directory is None:
        return None
    return directory / f"{kind}-{hashlib.sha256(name.encode()).hexdigest()[:16]}.pickle"


def load(path: Path | None, key: str) -> Any | None:
    """The object stored at ``path`` for ``key``; None when absent, stale, corrupt or unsafe."""
    if path is None:
        return None
    try:
        with path.open("rb") as handle:
            info = os.fstat(handle.fileno())
            if hasattr(os, "getuid") and (info.st_uid != os.getuid() or info.st_mode & 0o022):
                return None  # written by someone else: never unpickle it
            stored = pickle.load(handle)
    except Exception:  # absent, truncated, from another version of a class: rebuild
        return None
    if not (isinstance(stored, tuple) and len(stored) == 3 and stored[0] == _FORMAT
            and stored[1] == key):
        return None
    return stored[2]


def store(path: Path | None, key: str, value: Any) -> None:
    """Write ``value`` for ``key`` atomically; a cache that cannot be written is skipped."""
    if path is None:
        return
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            pickle.dump((_FORMAT, key, value), handle, protocol=pickle.HIGHEST_PROTOCOL)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
        tmp = None
    except (OSError, pickle.PicklingError, TypeError, AttributeError, RecursionError):
        pass
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
