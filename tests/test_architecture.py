"""The layout's promises: registries are complete, experta stays behind the engine seam,
imports stay lazy, and the package's entry points work."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import BaseModel

from regimen.engine.base import FactRecord, Firing
from regimen.knowledge.conditions import (
    BY_FACT,
    REGISTRY,
    REQUIRED,
    Condition,
    ConditionKind,
)
from regimen.render import formats

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "regimen"


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                          text=True, cwd=ROOT)
    return done.stdout.strip()


@pytest.mark.parametrize("kind", sorted(REGISTRY))
def test_every_condition_kind_defines_every_method(kind: str) -> None:
    cls = REGISTRY[kind]
    assert cls.kind == kind
    required = (*REQUIRED, "describe_fact") if cls.fact is not None else REQUIRED
    missing = [name for name in required
               if getattr(cls, name) is getattr(ConditionKind, name)]
    assert not missing, f"condition kind {kind!r} lacks {missing}"


def test_every_condition_kind_is_a_field_of_condition() -> None:
    keys = {field.alias or name for name, field in Condition.model_fields.items()}
    assert keys == set(REGISTRY)


def test_every_condition_kind_has_an_experta_compile_entry() -> None:
    from regimen.engine.experta.compile import COMPILERS

    assert set(COMPILERS) == set(REGISTRY)


def test_each_fact_kind_is_described_by_one_condition_kind() -> None:
    facts = [cls.fact for cls in REGISTRY.values() if cls.fact is not None]
    assert len(facts) == len(set(facts)) == len(BY_FACT)


def test_engine_types_carry_plain_values(recommender) -> None:
    from regimen.evaluate.ctdna import derive_events
    from regimen.evaluate.facts import profile_facts

    profile = recommender.load(ROOT / "examples" / "crc-kras-g12c.yaml")
    events = derive_events(profile.ctdna, profile.therapies, profile.settings.ctdna)
    firings = recommender.engine.run(profile_facts(profile, recommender.kb, events))
    assert firings and all(isinstance(f, Firing) for f in firings)
    plain = (str, int, float, bool, type(None), tuple)
    for firing in firings:
        for fact in (*firing.matched, firing.derived):
            assert type(fact) is FactRecord
            assert all(isinstance(v, plain) for _, v in fact.values), fact


def test_import_regimen_imports_no_experta_and_no_jinja() -> None:
    code = ("import sys, regimen; from regimen import Recommender, Profile, Result, "
            "KnowledgeBase, load_knowledge, render; "
            "print(sorted(m for m in ('experta', 'jinja2') if m in sys.modules))")
    assert _run(code) == "[]"


def test_help_imports_nothing_heavy() -> None:
    code = ("import sys; from click.testing import CliRunner; from regimen.cli import cli; "
            "r = CliRunner().invoke(cli, ['--help']); assert r.exit_code == 0, r.output; "
            "print(sorted(m for m in ('experta', 'jinja2', 'pydantic', 'regimen.api', "
            "'regimen.evaluate.rank') if m in sys.modules))")
    assert _run(code) == "[]"


def test_only_engine_experta_imports_experta() -> None:
    """Outside engine/experta/, experta appears in no import and no name (text only)."""
    import ast

    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if "engine/experta" in path.as_posix():
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or "", *(a.name for a in node.names)]
            elif isinstance(node, ast.Name):
                names = [node.id]
            elif isinstance(node, ast.Attribute):
                names = [node.attr]
            if any("experta" in name.lower() for name in names):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders


EAGER_ANNOTATIONS = ("regimen.models", "regimen.profile", "regimen.result",
                     "regimen.knowledge.conditions", "regimen.knowledge.language",
                     "regimen.knowledge.regimens")
"""The model modules every evaluation imports: their annotations are objects, not strings
(pydantic would compile each string annotation as the class is created)."""


@pytest.mark.parametrize("name", EAGER_ANNOTATIONS)
def test_model_modules_of_an_evaluation_keep_annotations_as_objects(name: str) -> None:
    module = importlib.import_module(name)
    models = [cls for cls in vars(module).values() if isinstance(cls, type)
              and issubclass(cls, BaseModel) and cls.__module__ == name]
    assert models
    strings = [f"{cls.__name__}.{field}" for cls in models
               for field, annotation in vars(cls).get("__annotations__", {}).items()
               if isinstance(annotation, str)]
    assert strings == []


def test_python_dash_m_regimen() -> None:
    done = subprocess.run([sys.executable, "-m", "regimen", "--version"], check=True,
                          capture_output=True, text=True, cwd=ROOT)
    assert "regimen" in done.stdout


def test_regimen_render_is_callable(recommender) -> None:
    import regimen

    result = recommender.evaluate(ROOT / "examples" / "crc-kras-g12c.yaml")
    assert regimen.render(result, "json") == result.to_json()
    assert regimen.render(result, "html").lstrip().startswith("<!DOCTYPE html>")


def test_format_registry_feeds_every_format_option() -> None:
    import click

    from regimen.cli import cli

    def walk(command: click.Command, path: tuple[str, ...]) -> list[tuple[tuple[str, ...],
                                                                          click.Option]]:
        found = [(path, p) for p in command.params
                 if isinstance(p, click.Option) and "--format" in p.opts]
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                found += walk(sub, (*path, name))
        return found

    options = walk(cli, ())
    assert len(options) == 8
    for path, option in options:
        assert isinstance(option.type, click.Choice)
        assert set(option.type.choices) <= set(formats.FORMATS), path
        assert tuple(option.type.choices) in formats.DOCUMENTS.values(), path


def test_templates_exist_for_every_templated_format() -> None:
    templates = ROOT / "templates"
    for document, names in formats.DOCUMENTS.items():
        if document == "table":
            continue
        template = {"batch-report": "report"}.get(document, document)
        for name in names:
            if formats.FORMATS[name].templated:
                assert (templates / f"{template}.{name}.j2").is_file(), (document, name)


def test_output_failure_is_an_output_error_with_exit_2(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from regimen.cli import cli
    from regimen.errors import OutputError

    assert OutputError.exit_code == 2
    target = tmp_path / "missing-dir" / "out.txt"
    result = CliRunner().invoke(cli, ["schema", "--output", str(target)])
    assert result.exit_code == 2
    assert "directory does not exist" in result.output


def test_engine_backends_are_found_by_folder() -> None:
    from regimen import engine
    from regimen.errors import InputError

    assert engine.available() == ["experta"]
    assert engine.backend().name == "experta"
    with pytest.raises(InputError, match="unknown engine backend 'clips'"):
        engine.backend("clips")


LAYERS = ["errors", "startup", "models", "io", "knowledge", "profile", "result", "engine",
          "evaluate", "render", "api", "cohort", "tools", "cli"]
"""The package's layers, lowest first: a module imports (at import time) only from its own
layer or the layers before it. Imports inside functions are lazy and not bound by this."""


def _module_level_imports(path: Path) -> list[str]:
    import ast

    package = list(path.relative_to(ROOT).with_suffix("").parts)[:-1]  # "." resolves here
    targets = []
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[:len(package) - node.level + 1]
                module = [*base, *(node.module.split(".") if node.module else [])]
                names = [module] if node.module else [[*module, a.name] for a in node.names]
                targets += [".".join(m) for m in names]
            elif node.module and node.module.startswith("regimen"):
                targets.append(node.module)
        elif isinstance(node, ast.Import):
            targets += [a.name for a in node.names if a.name.startswith("regimen")]
    return targets


def test_modules_import_only_from_lower_layers() -> None:
    wrong = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[0] in ("__init__", "__main__"):
            continue
        layer = LAYERS.index(parts[0])
        for target in _module_level_imports(path):
            target_parts = target.split(".")
            if len(target_parts) < 2 or target_parts[1] not in LAYERS:
                continue
            if LAYERS.index(target_parts[1]) > layer:
                wrong.append(f"{path.relative_to(ROOT)} imports {target}")
    assert not wrong


@pytest.mark.parametrize("args", [["schema"], ["knowledge", "list"], ["knowledge", "list",
                                                                       "agents"]])
def test_schema_and_knowledge_list_import_no_engine_and_no_templates(args: list[str]) -> None:
    code = ("import sys; from click.testing import CliRunner; from regimen.cli import cli; "
            f"r = CliRunner().invoke(cli, {args!r}); assert r.exit_code == 0, r.output; "
            "print(sorted(m for m in ('experta', 'jinja2', 'regimen.engine', 'regimen.api', "
            "'regimen.render.jinja') if m in sys.modules))")
    assert _run(code) == "[]"


def test_a_json_report_imports_no_templates() -> None:
    code = ("import sys; from click.testing import CliRunner; from regimen.cli import cli; "
            "r = CliRunner().invoke(cli, ['evaluate', 'examples/crc-kras-g12c.yaml', "
            "'--format', 'json']); assert r.exit_code == 0, r.output; "
            "assert r.output.lstrip().startswith('{'); "
            "print(sorted(m for m in ('jinja2', 'markupsafe', 'regimen.render.jinja', "
            "'regimen.render.chart') if m in sys.modules))")
    assert _run(code) == "[]"
