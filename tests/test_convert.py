"""`regimen convert`: the profiles an import produces, and what it could not map."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from regimen.cli import cli
from regimen.io.importers import import_path

ROOT = Path(__file__).resolve().parent.parent
IMPORTS = ROOT / "examples" / "imports"


def run(*args: object) -> object:
    return CliRunner().invoke(cli, ["convert", *map(str, args)])


def test_yaml_shows_the_imported_profile_with_its_source_and_unmapped_items() -> None:
    source = IMPORTS / "crc-phenopacket.json"
    (expected,) = list(import_path(source))
    result = run(source)
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(result.output) == expected.profile
    assert f"# source: {source} ({expected.source.record})" in result.output
    for item in expected.unmapped:
        assert f"# not mapped: {item.item}: " in result.output


def test_json_lines_feed_batch_one_profile_a_line(tmp_path: Path) -> None:
    study = IMPORTS / "cbioportal-gi-study"
    expected = [item.profile for item in import_path(study)]
    result = run(study, "--to", "jsonl")
    assert result.exit_code == 0, result.output
    assert [json.loads(line) for line in result.output.splitlines()] == expected
    assert len(expected) == 6
    out = tmp_path / "cohort.jsonl"
    assert run(study, "--to", "jsonl", "-o", out).exit_code == 0
    batch = CliRunner().invoke(cli, ["batch", str(out), "--quiet"])
    assert batch.exit_code == 0, batch.output
    assert len(batch.stdout.splitlines()) == 6


def test_json_lists_sources_and_unmapped_items() -> None:
    bundle = IMPORTS / "gastric-fhir-bundle.json"
    expected = list(import_path(bundle))
    result = run(bundle, "--to", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert [d["profile"] for d in data] == [e.profile for e in expected]
    assert [d["unmapped"] for d in data] == [[u.model_dump() for u in e.unmapped]
                                             for e in expected]
    assert all(d["unmapped"] for d in data)


def test_malformed_input_is_refused_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bundle.json"
    bad.write_text('{"resourceType": "Bundle", "entry": [', encoding="utf-8")
    result = run(bad, "--from", "fhir")
    assert result.exit_code == 2
    assert str(bad) in result.output
    assert "Traceback" not in result.output
