"""The knowledge-base cache: served only for exactly the files (and code) it was built from,
rebuilt when corrupt, off on request, one entry per knowledge directory."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from regimen.cli import cli
from regimen.io import cache
from regimen.io.resources import knowledge_dir
from regimen.knowledge import loader
from regimen.knowledge.loader import knowledge_files, load_knowledge

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "crc-kras-g12c.yaml"


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    root = tmp_path / "kb"
    shutil.copytree(knowledge_dir(), root)
    return root


def _entries(directory: Path) -> list[Path]:
    return sorted(directory.glob("knowledge-*.pickle"))


def _no_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(root: Path, digest: str) -> None:
        raise AssertionError("the knowledge base was parsed instead of read from the cache")

    monkeypatch.setattr(loader, "_load", refuse)


def test_second_load_is_served_from_the_cache(cache_dir: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = load_knowledge()
    assert len(_entries(cache_dir)) == 1
    _no_parsing(monkeypatch)
    cached = load_knowledge()
    assert cached.digest == fresh.digest
    assert [r.model_dump() for r in cached.rules] == [r.model_dump() for r in fresh.rules]
    assert cached.vocabulary.gene("kras") == "KRAS"
    assert cached.used_genes() == fresh.used_genes()


def test_digest_covers_every_file_in_reading_order(cache_dir: Path) -> None:
    root = knowledge_dir()
    digest = hashlib.sha256()
    for path in knowledge_files(root):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(path.read_bytes())
    assert load_knowledge().digest == digest.hexdigest()[:12]
    assert load_knowledge().digest == load_knowledge(use_cache=False).digest


def test_a_changed_file_is_never_served_stale(cache_dir: Path, kb_copy: Path) -> None:
    before = load_knowledge(kb_copy)
    manifest = kb_copy / "manifest.yaml"
    text = manifest.read_text(encoding="utf-8")
    assert before.version in text
    manifest.write_text(text.replace(before.version, "9.9.9-test", 1), encoding="utf-8")
    after = load_knowledge(kb_copy)
    assert after.version == "9.9.9-test"
    assert after.digest != before.digest
    assert len(_entries(cache_dir)) == 1  # one entry per directory, replaced


def test_a_new_rule_file_changes_the_key(cache_dir: Path, kb_copy: Path) -> None:
    before = load_knowledge(kb_copy)
    first = sorted((kb_copy / "rules").glob("*.yaml"))[0]
    text = first.read_text(encoding="utf-8")
    first.unlink()
    (kb_copy / "rules" / "zz-moved.yaml").write_text(text, encoding="utf-8")
    after = load_knowledge(kb_copy)
    assert after.digest != before.digest
    assert set(after.rule_files.values()) - set(before.rule_files.values()) == {"zz-moved.yaml"}


@pytest.mark.parametrize("garbage", [b"", b"not a pickle", b"\x80\x05K\x01.",
                                     b"\x80\x04\x95\x00\x00\x00\x00\x00\x00\x00\x00"])
def test_a_corrupt_entry_is_ignored_and_rebuilt(cache_dir: Path, garbage: bytes,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = load_knowledge()
    (entry,) = _entries(cache_dir)
    entry.write_bytes(garbage)
    rebuilt = load_knowledge()
    assert rebuilt.digest == fresh.digest and len(rebuilt.rules) == len(fresh.rules)
    _no_parsing(monkeypatch)  # the entry was written again and now serves
    assert load_knowledge().digest == fresh.digest


def test_an_entry_for_another_key_is_not_served(cache_dir: Path) -> None:
    load_knowledge()
    (entry,) = _entries(cache_dir)
    assert cache.load(entry, "some other key") is None


def test_an_entry_writable_by_others_is_not_trusted(cache_dir: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    load_knowledge()
    (entry,) = _entries(cache_dir)
    os.chmod(entry, 0o666)
    calls: list[Path] = []
    real = loader._load

    def counting(root: Path, digest: str) -> object:
        calls.append(root)
        return real(root, digest)

    monkeypatch.setattr(loader, "_load", counting)
    load_knowledge()
    assert len(calls) == 1


def test_cache_off_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REGIMEN_CACHE_DIR", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_dir() is None
    load_knowledge()
    assert not (tmp_path / "xdg").exists() and not (tmp_path / "home").exists()


def test_cache_dir_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REGIMEN_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_dir() == tmp_path / "xdg" / "regimen"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache.cache_dir() == tmp_path / "home" / ".cache" / "regimen"


def test_an_unwritable_cache_dir_is_not_an_error(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("REGIMEN_CACHE_DIR", str(blocker / "cache"))
    assert len(load_knowledge().rules) > 100


def test_knowledge_option_has_its_own_entry(cache_dir: Path, kb_copy: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    shipped = runner.invoke(cli, ["evaluate", str(EXAMPLE), "-f", "json"])
    assert shipped.exit_code == 0, shipped.output
    (kb_copy / "manifest.yaml").write_text(
        (kb_copy / "manifest.yaml").read_text(encoding="utf-8") + "\n", encoding="utf-8")
    other = runner.invoke(cli, ["evaluate", str(EXAMPLE), "-f", "json",
                                "--knowledge", str(kb_copy)])
    assert other.exit_code == 0, other.output
    assert len(_entries(cache_dir)) == 2
    _no_parsing(monkeypatch)
    again = runner.invoke(cli, ["evaluate", str(EXAMPLE), "-f", "json",
                                "--knowledge", str(kb_copy)])
    assert again.output == other.output
    assert load_knowledge(kb_copy).root == kb_copy


def test_templates_are_compiled_once_into_the_cache(cache_dir: Path) -> None:
    from regimen.render import jinja

    jinja._ENVS.clear()
    try:
        first = CliRunner().invoke(cli, ["evaluate", str(EXAMPLE)])
        assert first.exit_code == 0, first.output
        assert list(cache_dir.glob("jinja-*-plain/*"))
        jinja._ENVS.clear()
        second = CliRunner().invoke(cli, ["evaluate", str(EXAMPLE)])
        assert second.output == first.output
    finally:
        jinja._ENVS.clear()
