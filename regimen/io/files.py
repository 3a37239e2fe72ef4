"""Write files atomically: a reader never sees a half-written report."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from ..errors import OutputError


@contextmanager
def atomic_writer(path: Path) -> Iterator[IO[str]]:
    """Write ``path`` via a temporary file in the same directory, then rename.

    An existing file is replaced only once the new content is complete; on any
    error the temporary file is removed and the old file is left untouched.
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
        raise OutputError(f"cannot write: {exc.strerror}", source=str(path),
                         hint="choose a writable --output path") from None


def write_bytes_atomic(path: Path, data: bytes) -> None:
    """Like :func:`write_text_atomic`, for binary output such as a PDF."""
    try:
        with atomic_writer(path) as handle:
            handle.flush()
            handle.buffer.write(data)  # type: ignore[attr-defined]
    except OSError as exc:
        raise OutputError(f"cannot write: {exc.strerror}", source=str(path),
                         hint="choose a writable --output path") from None
