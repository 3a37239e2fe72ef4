"""Digests of a set of files (the knowledge files, regimen's own sources), remembered by
the files' status so that a cold command does not read and hash them all again.

A cache key must change whenever any file it covers changes, so the digest is a SHA-256
over every file's name and bytes. Reading and hashing the ~150 files costs a cold
command several milliseconds; their status (size, modification and change times, inode)
costs a fraction of that. The digest is therefore kept in the cache
(:mod:`regimen.io.cache`) under the list of the files' status, and served only when
every file still has exactly that status. Any write to a file changes its change time
(``st_ctime_ns``, which no user call can set back), so an edited file is hashed again.

A file changed within the last :data:`SETTLE_SECONDS` could still be written again
within the same tick of the file system's clock without its status changing (git calls
such an entry "racily clean"): while any file is that recent, the digest is computed
and not remembered. Every failure (an unreadable status, no cache) means: hash the files.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from . import cache

SETTLE_SECONDS = 2.0
"""How old the newest change to a file must be before a digest over it is remembered."""

KIND = "digest"
"""The cache entry kind (one entry per set of files)."""

Reader = Callable[[Path], bytes]


def files_digest(name: str, base: Path, paths: Sequence[Path], *, salt: str = "",
                 read: Reader = Path.read_bytes) -> str:
    """SHA-256 (hex) over ``salt``, then each path's name relative to ``base`` and its bytes
    (as ``read`` gives them), in order: remembered per ``name`` by the files' status.

    Errors from ``read`` propagate (the caller decides what an unreadable file means).
    """
    signature = _signature(paths)
    if signature is None:
        return _digest(base, paths, salt, read)
    status, newest = signature
    entry = cache.entry_path(KIND, name)
    key = hashlib.sha256(f"{salt}\n{status}".encode()).hexdigest()
    found = cache.load(entry, key)
    if isinstance(found, str):
        return found
    value = _digest(base, paths, salt, read)
    if newest < time.time() - SETTLE_SECONDS:
        cache.store(entry, key, value)
    return value


def _digest(base: Path, paths: Sequence[Path], salt: str, read: Reader) -> str:
    digest = hashlib.sha256(salt.encode())
    for path in paths:
        digest.update(path.relative_to(base).as_posix().encode())
        digest.update(read(path))
    return digest.hexdigest()


def _signature(paths: Sequence[Path]) -> tuple[str, float] | None:
    """Every file's path and status as text, and the newest change time (seconds); None
    when a status cannot be read. (The entry is per set of files, under ``name``, so the
    full paths are as good a name as the relative ones, and cheaper.)"""
    parts = []
    newest = 0
    try:
        for path in paths:
            info = os.stat(path)
            parts.append(f"{path}\0{info.st_size}\0{info.st_mtime_ns}\0{info.st_ctime_ns}\0"
                         f"{info.st_ino}")
            newest = max(newest, info.st_mtime_ns, info.st_ctime_ns)
    except OSError:
        return None
    return "\n".join(parts), newest / 1e9
