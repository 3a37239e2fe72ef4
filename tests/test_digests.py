"""A digest over files is the SHA-256 of their names and bytes, remembered by the files'
status only once they have settled, and computed again as soon as one changes."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from regimen.io import digests
from regimen.io.digests import files_digest


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    base = tmp_path / "kb"
    (base / "rules").mkdir(parents=True)
    paths = [base / "a.yaml", base / "rules" / "b.yaml"]
    paths[0].write_text("first: 1\n")
    paths[1].write_text("second: 2\n")
    return paths


class Reads:
    """A reader that counts the files it read."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, path: Path) -> bytes:
        self.count += 1
        return path.read_bytes()


def _expected(base: Path, paths: list[Path], salt: str = "") -> str:
    digest = hashlib.sha256(salt.encode())
    for path in paths:
        digest.update(path.relative_to(base).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def test_the_digest_covers_names_and_bytes_in_order(cache_dir: Path, files: list[Path]) -> None:
    base = files[0].parent
    assert files_digest("kb", base, files) == _expected(base, files)
    assert files_digest("kb", base, files, salt="v2") == _expected(base, files, "v2")
    assert files_digest("kb", base, files[::-1]) == _expected(base, files[::-1])
    assert len({_expected(base, files), _expected(base, files, "v2"),
                _expected(base, files[::-1])}) == 3


def test_settled_files_are_not_read_again(cache_dir: Path, files: list[Path],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(digests, "SETTLE_SECONDS", -60.0)  # everything counts as settled
    base = files[0].parent
    reads = Reads()
    first = files_digest("kb", base, files, read=reads)
    assert reads.count == 2
    assert files_digest("kb", base, files, read=reads) == first
    assert reads.count == 2  # served from the remembered digest
    # another salt is another key: hashed again
    assert files_digest("kb", base, files, salt="x", read=reads) == _expected(base, files, "x")
    assert reads.count == 4


def test_an_edited_file_is_hashed_again_even_at_the_same_size_and_time(
        cache_dir: Path, files: list[Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(digests, "SETTLE_SECONDS", -60.0)
    base = files[0].parent
    reads = Reads()
    first = files_digest("kb", base, files, read=reads)
    before = files[1].stat()
    files[1].write_text("second: 3\n")  # same size
    os.utime(files[1], ns=(before.st_atime_ns, before.st_mtime_ns))  # same modification time
    changed = files_digest("kb", base, files, read=reads)
    assert changed != first
    assert changed == _expected(base, files)
    assert reads.count == 4


def test_recent_files_are_hashed_every_time(cache_dir: Path, files: list[Path]) -> None:
    base = files[0].parent
    reads = Reads()
    files_digest("kb", base, files, read=reads)
    files_digest("kb", base, files, read=reads)
    assert reads.count == 4  # written just now: never remembered
    assert not cache_dir.exists() or not list(cache_dir.glob("digest-*"))


def test_without_a_cache_or_a_status_the_files_are_hashed(
        files: list[Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("REGIMEN_CACHE_DIR", "off")
    monkeypatch.setattr(digests, "SETTLE_SECONDS", -60.0)
    base = files[0].parent
    reads = Reads()
    files_digest("kb", base, files, read=reads)
    files_digest("kb", base, files, read=reads)
    assert reads.count == 4
    missing = [*files, base / "gone.yaml"]
    with pytest.raises(FileNotFoundError):
        files_digest("kb", base, missing)  # the reader's error reaches the caller
