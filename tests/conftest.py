from __future__ import annotations

import atexit
import importlib.util
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from regimen import Recommender, load_knowledge
from regimen.io.resources import knowledge_dir
from regimen.knowledge import KnowledgeBase

ROOT = Path(__file__).resolve().parent.parent

# the tests (and the commands they start) use a cache of their own, never the user's
_CACHE = tempfile.mkdtemp(prefix="regimen-test-cache-")
os.environ["REGIMEN_CACHE_DIR"] = _CACHE
atexit.register(shutil.rmtree, _CACHE, True)
EXAMPLES = ROOT / "examples"


class NoAliasDumper(yaml.SafeDumper):
    def ignore_aliases(self, data: Any) -> bool:
        return True


@pytest.fixture(scope="session")
def kb() -> KnowledgeBase:
    return load_knowledge()


@pytest.fixture(scope="session")
def recommender(kb: KnowledgeBase) -> Recommender:
    return Recommender(kb)


def base_profile(**extra: Any) -> dict[str, Any]:
    profile: dict[str, Any] = {"id": "test", "tumour": {"type": "COADREAD"}}
    profile.update(extra)
    return profile


@pytest.fixture
def write_yaml(tmp_path: Path) -> Callable[[Any, str], Path]:
    def write(data: Any, name: str = "profile.yaml") -> Path:
        path = tmp_path / name
        if isinstance(data, str | bytes):
            path.write_bytes(data.encode() if isinstance(data, str) else data)
        else:
            path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
        return path

    return write


@pytest.fixture
def mini_kb(tmp_path: Path) -> Callable[[list[dict[str, Any]]], Path]:
    """A knowledge directory with the shipped sources/vocabulary/agents/mechanisms and the
    given rules only, so that engine tests do not depend on the shipped rules."""

    def make(rules: list[dict[str, Any]]) -> Path:
        root = tmp_path / "kb"
        if root.exists():
            shutil.rmtree(root)
        shutil.copytree(knowledge_dir(), root,
                        ignore=shutil.ignore_patterns("rules", "exclusions*", "standard"))
        (root / "rules").mkdir()
        (root / "rules" / "test.yaml").write_text(
            yaml.dump({"rules": rules}, Dumper=NoAliasDumper, sort_keys=False), encoding="utf-8")
        return root

    return make


def benchmark_module(filename: str, name: str) -> ModuleType:
    """A module of ``benchmarks/`` (not a package), loaded once under ``name``."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(
        name, Path(__file__).resolve().parent.parent / "benchmarks" / filename)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty knowledge cache directory for this test (``REGIMEN_CACHE_DIR``)."""
    directory = tmp_path / "cache"
    monkeypatch.setenv("REGIMEN_CACHE_DIR", str(directory))
    return directory
