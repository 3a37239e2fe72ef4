"""The fast paths change nothing: over 500 generated profiles, evaluation with the knowledge
base parsed by the pure-Python YAML loader and no cache gives byte-identical JSON to
evaluation with the libyaml loader and the knowledge base read back from the cache; and the
two YAML paths read every profile and knowledge file into the same data and line maps."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest
import yaml
from conftest import benchmark_module

from regimen import Recommender
from regimen.io import documents
from regimen.io.resources import knowledge_dir
from regimen.knowledge import loader
from regimen.knowledge.loader import load_knowledge

ROOT = Path(__file__).resolve().parent.parent
COUNT = 500

pytestmark = pytest.mark.skipif(not documents.LIBYAML, reason="PyYAML built without libyaml")


def _generator() -> ModuleType:
    return benchmark_module("profiles.py", "bench_profiles")


@pytest.fixture(scope="module")
def recommenders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Recommender, Recommender]:
    mp = pytest.MonkeyPatch()
    try:
        mp.setenv("REGIMEN_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))
        mp.setattr(documents, "LIBYAML", False)
        slow = load_knowledge(use_cache=False)
        mp.setattr(documents, "LIBYAML", True)
        load_knowledge()  # fills the cache

        def refuse(root: Path, digest: str) -> None:
            raise AssertionError("expected the cached knowledge base")

        mp.setattr(loader, "_load", refuse)
        fast = load_knowledge()
    finally:
        mp.undo()
    return Recommender(slow), Recommender(fast)


def test_generated_profiles_evaluate_identically(
        recommenders: tuple[Recommender, Recommender]) -> None:
    slow, fast = recommenders
    profiles = _generator().ProfileGenerator(slow.kb).profiles(COUNT, seed=2026)
    assert len(profiles) >= 500
    fired = 0
    for profile in profiles:
        expected = slow.evaluate(profile).to_json()
        assert fast.evaluate(profile).to_json() == expected, profile["id"]
        fired += expected.count('"rule"')
    assert fired > COUNT  # the profiles do make rules fire


def test_generated_profiles_parse_identically_as_yaml() -> None:
    gen = _generator()
    profiles = gen.ProfileGenerator(load_knowledge()).profiles(COUNT, seed=7)
    for profile in [*profiles, gen.long_ctdna(20, 5), gen.many_alterations(50)]:
        text = yaml.safe_dump(profile, sort_keys=False)
        fast = documents._parse_yaml_c(text, "p.yaml")
        slow = documents._parse_yaml_python(text, "p.yaml")
        assert fast is not None
        assert (fast.data, fast.lines) == (slow.data, slow.lines)


def test_knowledge_and_example_files_parse_identically() -> None:
    paths = sorted(knowledge_dir().rglob("*.yaml")) + sorted((ROOT / "examples").glob("*.yaml"))
    assert len(paths) > 20
    for path in paths:
        text = documents.decode(path.read_bytes(), str(path))
        fast = documents._parse_yaml_c(text, str(path))
        slow = documents._parse_yaml_python(text, str(path))
        assert fast is not None, path
        assert (fast.data, fast.lines) == (slow.data, slow.lines), path
        assert [type(v) for v in _leaves(fast.data)] == [type(v) for v in _leaves(slow.data)]


def _leaves(value: object) -> list[object]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]
