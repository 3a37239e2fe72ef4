"""Write reports: atomically to regular files, straight to devices and pipes.

* a new path or an existing regular file: written to a temporary file in the same
  directory, then renamed over it (a reader never sees a half-written report).
  A new file gets the mode the umask allows (``0o666 & ~umask``); an existing
  file keeps its mode.
* a symbolic link: followed; its target is written atomically when it is a regular
  file (or does not exist yet in an existing directory), the link itself is kept.
* a character device (``/dev/stdout``, a terminal, ``/dev/null``) or a FIFO: written
  directly, never replaced.
* anything else (a directory, a block device, a socket): refused.

A SIGTERM, SIGHUP or SIGINT while writing removes the temporary file (the CLI
turns those signals into an exit; see :func:`regimen.cli.main`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from ..errors import OutputError

NAME_MAX = 255
"""Longest file name (one path component, in bytes) most file systems accept."""

_HINT = "choose a writable --output path"


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_output_path(text: str) -> None:
    """Refuse output paths that cannot name a file: too long, or ending in a separator."""
    if text.endswith(("/", os.sep)):
        raise OutputError("ends with a path separator; give a file name, not a directory",
                          source=text, hint=_HINT)
    for part in Path(text).parts:
        if len(os.fsencode(part)) > NAME_MAX:
            raise OutputError(
                f"a file name in this path is {len(os.fsencode(part)):,} bytes long, "
                f"longer than the {NAME_MAX}-byte limit of most file systems",
                source=text[:60] + "...", hint="choose a shorter --output name")


@contextmanager
def atomic_writer(path: Path) -> Iterator[IO[str]]:
    """Write ``path`` via a temporary file in the same directory, then rename.

    An existing file is replaced only once the new content is complete; on any
    error (or signal turned into an exit) the temporary file is removed and the
    old file is left untouched.
    """
    directory = path.parent if str(path.parent) else Path(".")
    if not directory.is_dir():
        raise OutputError("directory does not exist", source=str(directory),
                          hint="create it first or choose another --output path")
    if path.is_dir():
        raise OutputError("is a directory; give a file name", source=str(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise OutputError(f"cannot write here: {exc.strerror}", source=str(path),
                          hint=_HINT) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            mode = 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _target(path: Path) -> tuple[Path, str]:
    """Where to write and how: ``("atomic" | "direct")``; refuses other special files."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return path, "atomic"
    if stat.S_ISLNK(info.st_mode):
        target = Path(os.path.realpath(path))
        try:
            info = os.stat(target)
        except FileNotFoundError:
            if target.parent.is_dir():
                return target, "atomic"
            raise OutputError("is a symbolic link to a missing directory", source=str(path),
                              hint=_HINT) from None
        path = target
    if stat.S_ISREG(info.st_mode):
        return path, "atomic"
    if stat.S_ISCHR(info.st_mode) or stat.S_ISFIFO(info.st_mode):
        return path, "direct"
    if stat.S_ISDIR(info.st_mode):
        raise OutputError("is a directory; give a file name", source=str(path))
    raise OutputError("is a special file (not a regular file, a character device or a pipe); "
                      "refusing to write to it", source=str(path), hint=_HINT)


def write_text_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` as described in the module docstring."""
    write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` (a report, a PDF) to ``path`` as described in the module docstring."""
    check_output_path(str(path))
    try:
        target, how = _target(path)
        if how == "direct":
            with open(target, "wb") as raw:
                raw.write(data)
            return
        with atomic_writer(target) as handle:
            handle.flush()
            handle.buffer.write(data)  # type: ignore[attr-defined]
    except OSError as exc:
        if exc.errno == errno.ENAMETOOLONG:
            raise OutputError("path is too long for the file system", source=str(path)[:60],
                              hint="choose a shorter --output path") from None
        raise OutputError(f"cannot write: {exc.strerror}", source=str(path),
                          hint=_HINT) from None
