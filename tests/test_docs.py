"""The documentation is tested: every command and option is in the README with help text,
the README's Python runs, and the docstrings' examples run (doctest)."""

from __future__ import annotations

import doctest
import importlib
import os
import pkgutil
import re
from pathlib import Path

import click
import pytest

import regimen
from regimen.cli import cli

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _commands(command: click.Command, path: tuple[str, ...] = ()) -> list[
        tuple[tuple[str, ...], click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            found += _commands(command.commands[name], (*path, name))
    return found


COMMANDS = [(p, c) for p, c in _commands(cli) if p]
GLOBAL_OPTIONS = {"--help", "--knowledge"}
"""Documented once in the README's prose rather than on every command's line."""


def _readme_lines(path: tuple[str, ...]) -> list[str]:
    prefix = "regimen " + " ".join(path)
    return [line for line in README.splitlines()
            if line.startswith(prefix + " ") or line == prefix]


@pytest.mark.parametrize(("path", "command"), COMMANDS, ids=[" ".join(p) for p, _ in COMMANDS])
def test_command_is_documented_with_help(path: tuple[str, ...], command: click.Command) -> None:
    assert (command.help or "").strip(), f"regimen {' '.join(path)} has no help text"
    if isinstance(command, click.Group):
        return
    lines = _readme_lines(path)
    assert lines, f"README shows no 'regimen {' '.join(path)}' line"
    for param in command.params:
        if not isinstance(param, click.Option):
            continue
        long_name = max(param.opts, key=len)
        assert (param.help or "").strip(), f"{long_name} of {' '.join(path)} has no help"
        if long_name in GLOBAL_OPTIONS:
            assert f"`{long_name}" in README, long_name
            continue
        assert any(long_name in line for line in lines), \
            f"README's 'regimen {' '.join(path)}' line does not show {long_name}"


def test_version_option_is_documented() -> None:
    assert "regimen --version" in README


def _python_snippets() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, flags=re.DOTALL)


def test_readme_has_python_snippets() -> None:
    assert _python_snippets()


@pytest.mark.parametrize("index", range(len(_python_snippets())))
def test_readme_python_snippet_runs(index: int, capsys) -> None:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        namespace: dict[str, object] = {}
        exec(compile(_python_snippets()[index], f"README.md python #{index + 1}", "exec"),
             namespace)
    finally:
        os.chdir(cwd)
    assert capsys.readouterr().out.strip(), "the snippet printed nothing"


MODULES = sorted(m.name for m in pkgutil.walk_packages(regimen.__path__, "regimen.")
                 if m.name != "regimen.__main__")


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        module = importlib.import_module(name)
        failures, _ = doctest.testmod(module, optionflags=doctest.ELLIPSIS, verbose=False)
    finally:
        os.chdir(cwd)
    assert failures == 0, f"{failures} doctest failure(s) in {name}"


def test_public_api_has_doctests() -> None:
    finder = doctest.DocTestFinder()
    tests = [t for name in ("regimen", "regimen.api") for t in
             finder.find(importlib.import_module(name)) if t.examples]
    assert tests
