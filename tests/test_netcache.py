"""The rule network kept in the cache: built once per knowledge base and code, read back
with exactly the behaviour of a fresh build, never served for other rules."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from regimen import Recommender
from regimen.engine.experta import engine as engine_module
from regimen.engine.experta import netcache
from regimen.engine.experta.engine import Engine
from regimen.evaluate.ctdna import derive_events
from regimen.evaluate.facts import profile_facts
from regimen.io.resources import knowledge_dir
from regimen.knowledge import KnowledgeBase
from regimen.knowledge.loader import cache_key, load_knowledge

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


@pytest.fixture
def builds(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the networks built (rather than read from the cache)."""
    calls: list[int] = []
    real = engine_module.compile_rules

    def counting(kb: KnowledgeBase) -> dict[str, Any]:
        calls.append(len(kb.rules))
        return real(kb)

    monkeypatch.setattr(engine_module, "compile_rules", counting)
    return calls


def _entries(directory: Path) -> list[Path]:
    return sorted(directory.glob(f"{netcache.KIND}-*.pickle"))


def _firings(engine: Engine, kb: KnowledgeBase, example: Path) -> list[Any]:
    profile = Recommender(kb).load(example)
    events = derive_events(profile.ctdna, profile.therapies, profile.settings.ctdna)
    return engine.run(profile_facts(profile, kb, events))


def test_the_network_is_built_once_and_read_back(cache_dir: Path, builds: list[int]) -> None:
    kb = load_knowledge()
    first = Engine(kb)
    assert len(builds) == 1 and len(_entries(cache_dir)) == 1
    second = Engine(load_knowledge())
    assert len(builds) == 1  # read from the cache
    assert second._engine.network is not None and first._engine.network is None
    assert sorted(r.__name__ for r in second._engine.get_rules()) == \
        sorted(r.__name__ for r in first._engine.get_rules())


def test_a_network_read_back_fires_exactly_like_a_fresh_one(cache_dir: Path,
                                                           builds: list[int]) -> None:
    kb = load_knowledge()
    fresh = Engine(kb)
    cached = Engine(kb)
    assert len(builds) == 1 and cached._engine.network is not None
    fired = 0
    for example in EXAMPLES:
        expected = _firings(fresh, kb, example)
        assert _firings(cached, kb, example) == expected, example.name
        assert _firings(cached, kb, example) == expected, example.name  # after a reset too
        fired += len(expected)
    assert fired > len(EXAMPLES)


def test_the_command_output_is_the_same_with_the_network_cached(
        cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from regimen.cli import cli

    example = str(ROOT / "examples" / "crc-kras-g12c.yaml")
    monkeypatch.setenv("REGIMEN_CACHE_DIR", "off")
    uncached = CliRunner().invoke(cli, ["evaluate", example, "-f", "json"])
    monkeypatch.setenv("REGIMEN_CACHE_DIR", str(cache_dir))
    runs = [CliRunner().invoke(cli, ["evaluate", example, "-f", "json"]) for _ in range(2)]
    assert len(_entries(cache_dir)) == 1
    assert uncached.exit_code == 0, uncached.output
    assert [r.output for r in runs] == [uncached.output] * 2


def test_a_changed_rule_file_gets_a_new_network(cache_dir: Path, tmp_path: Path,
                                                builds: list[int]) -> None:
    root = tmp_path / "kb"
    shutil.copytree(knowledge_dir(), root)
    before = Engine(load_knowledge(root))
    first = sorted((root / "rules").glob("*.yaml"))[0]
    text = first.read_text(encoding="utf-8")
    start = text.index("\n  - id: ", text.index("rules:"))
    end = text.index("\n  - id: ", start + 1)
    first.write_text(text[:start] + text[end:], encoding="utf-8")  # one rule fewer
    kb = load_knowledge(root)
    after = Engine(kb)
    assert builds == [len(kb.rules) + 1, len(kb.rules)]
    assert after._engine.network is None
    assert len(after._engine.get_rules()) == len(before._engine.get_rules()) - 1
    assert len(_entries(cache_dir)) == 1  # one entry per directory, replaced


def test_rules_changed_in_memory_are_never_served_the_stored_network(
        cache_dir: Path, builds: list[int]) -> None:
    kb = load_knowledge()
    Engine(kb)
    assert cache_key(kb) is not None
    dropped = kb.rules.pop()
    assert cache_key(kb) is None
    engine = Engine(kb)
    assert len(builds) == 2 and engine._engine.network is None
    assert dropped.id not in {r.__name__.removeprefix("rule_")
                              for r in engine._engine.get_rules()}
    kb.rules.append(dropped.model_copy())  # equal, but not the rule that was loaded
    assert cache_key(kb) is None


def test_a_knowledge_base_built_by_hand_has_no_entry(cache_dir: Path, builds: list[int]) -> None:
    loaded = load_knowledge()
    kb = KnowledgeBase(root=loaded.root, manifest=loaded.manifest, sources=loaded.sources,
                       vocabulary=loaded.vocabulary, agents=loaded.agents,
                       mechanisms=loaded.mechanisms, rules=list(loaded.rules),
                       rule_files=loaded.rule_files, exclusions=loaded.exclusions,
                       digest=loaded.digest)
    assert cache_key(kb) is None
    Engine(kb)
    Engine(kb)
    assert len(builds) == 2 and not _entries(cache_dir)


def test_cache_off_stores_no_network(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                     builds: list[int]) -> None:
    monkeypatch.setenv("REGIMEN_CACHE_DIR", "off")
    kb = load_knowledge()
    assert cache_key(kb) is None
    Engine(kb)
    Engine(kb)
    assert len(builds) == 2


@pytest.mark.parametrize("garbage", [b"", b"not a pickle", b"\x80\x05K\x01."])
def test_a_corrupt_entry_is_ignored_and_rebuilt(cache_dir: Path, builds: list[int],
                                                garbage: bytes) -> None:
    kb = load_knowledge()
    Engine(kb)
    (entry,) = _entries(cache_dir)
    entry.write_bytes(garbage)
    assert Engine(kb)._engine.network is None
    assert len(builds) == 2
    assert Engine(kb)._engine.network is not None  # written again
    assert len(builds) == 2


def test_an_entry_pickled_for_another_key_is_not_served(cache_dir: Path,
                                                        builds: list[int]) -> None:
    kb = load_knowledge()
    Engine(kb)
    (entry,) = _entries(cache_dir)
    path, key = netcache._entry(kb)  # type: ignore[misc]
    assert path == entry
    from regimen.io import cache

    cache.store(path, key.replace("experta", "another engine"), cache.load(path, key))
    assert Engine(kb)._engine.network is None


def test_the_knowledge_option_has_its_own_network(cache_dir: Path, tmp_path: Path,
                                                   builds: list[int]) -> None:
    root = tmp_path / "kb"
    shutil.copytree(knowledge_dir(), root)
    Engine(load_knowledge())
    Engine(load_knowledge(root))
    assert len(_entries(cache_dir)) == 2 and len(builds) == 2
    Engine(load_knowledge(root))
    Engine(load_knowledge())
    assert len(builds) == 2


def test_a_network_that_refers_to_an_engine_is_not_stored(cache_dir: Path) -> None:
    kb = load_knowledge()
    engine = Engine(kb)
    for entry in _entries(cache_dir):
        entry.unlink()
    netcache.store(kb, {"r": engine._engine}, engine._engine.matcher)
    assert not _entries(cache_dir)
