from __future__ import annotations

import os
from pathlib import Path

import pytest

from regimen.errors import InputError
from regimen.io.documents import MAX_BYTES, MAX_DEPTH, parse_text, read_document
from regimen.io.files import write_text_atomic


def test_line_numbers_are_recorded() -> None:
    doc = parse_text("a:\n  b:\n    - 1\n    - 2\n", "x.yaml")
    assert doc.data == {"a": {"b": [1, 2]}}
    assert doc.line_of(("a", "b", 1)) == 4
    assert doc.line_of(("a", "missing")) == 2


def test_aliases_are_refused() -> None:
    bomb = "a: &a [1, 2]\nb: [*a, *a]\n"
    with pytest.raises(InputError, match="aliases") as info:
        parse_text(bomb, "bomb.yaml")
    assert info.value.line == 2


def test_billion_laughs_is_refused_quickly() -> None:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, 10):
        prev = f"*a{i - 1}"
        lines.append(f"a{i}: &a{i} [{', '.join([prev] * 9)}]")
    with pytest.raises(InputError, match="aliases"):
        parse_text("\n".join(lines) + "\n", "laughs.yaml")


def test_deep_nesting_is_refused() -> None:
    text = "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5)
    with pytest.raises(InputError, match="nested more than"):
        parse_text(text, "deep.yaml")
    with pytest.raises(InputError, match="nested more than"):
        parse_text(text, "deep.json")


def test_duplicate_keys_are_refused() -> None:
    with pytest.raises(InputError, match="duplicate key 'tumour'") as info:
        parse_text("tumour: 1\ntumour: 2\n", "dup.yaml")
    assert info.value.line == 2
    with pytest.raises(InputError, match="duplicate key"):
        parse_text('{"a": 1, "a": 2}', "dup.json")


def test_yaml_syntax_error_has_line() -> None:
    with pytest.raises(InputError, match="cannot parse YAML") as info:
        parse_text("tumour:\n  type: [COADREAD\nother: 1\n", "bad.yaml")
    assert info.value.line is not None


def test_json_syntax_error_has_line() -> None:
    with pytest.raises(InputError, match="cannot parse JSON") as info:
        parse_text('{\n"a": 1,\n}', "bad.json")
    assert info.value.line == 3


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("   \n")
    with pytest.raises(InputError, match="file is empty"):
        read_document(path)


def test_oversize_file_rejected_before_parsing(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_bytes(b"#" * (MAX_BYTES + 1))
    with pytest.raises(InputError, match="larger than the 1,000,000-byte limit"):
        read_document(path)


def test_non_utf8_bytes(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("tumour: {type: caf\xe9}\n".encode("latin-1"))
    with pytest.raises(InputError, match="not UTF-8"):
        read_document(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_document(tmp_path / "nope.yaml")
    with pytest.raises(InputError, match="is a directory"):
        read_document(tmp_path)


def test_control_character_is_an_input_error() -> None:
    # regression: found by fuzzing; the YAML reader raised before the parser's error handling
    with pytest.raises(InputError, match="special characters are not allowed"):
        parse_text("\x01", "ctrl.yaml")


def test_impossible_date_is_an_input_error() -> None:
    with pytest.raises(InputError, match="cannot read '2025-02-30'"):
        parse_text("date: 2025-02-30\n", "d.yaml")


def test_atomic_write_replaces_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text("old")
    write_text_atomic(path, "new content")
    assert path.read_text() == "new content"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_write_failure_keeps_old_file(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "out.txt"
    path.write_text("old")

    def boom(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(InputError, match="No space left"):
        write_text_atomic(path, "new")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]


def test_atomic_write_to_missing_directory(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="directory does not exist"):
        write_text_atomic(tmp_path / "nope" / "out.txt", "x")
