"""`regimen schema` accepts what the profile loader accepts and refuses what it refuses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from regimen.cli import cli
from regimen.errors import ProfileError
from regimen.profile import load_profile, profile_schema

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))


@pytest.fixture(scope="module")
def schema(kb) -> dict[str, Any]:
    return profile_schema(kb.vocabulary)


def _validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_cli_prints_the_schema_with_its_identity() -> None:
    done = CliRunner().invoke(cli, ["schema"])
    assert done.exit_code == 0
    printed = json.loads(done.output)
    assert printed["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert printed["$id"] == "urn:regimen:schema:profile:2"


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_every_example_is_valid(schema, kb, path: Path) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    load_profile(path, kb.vocabulary)
    errors = [e.message for e in _validator(schema).iter_errors(json.loads(json.dumps(
        data, default=str)))]
    assert errors == []


def _fields(schema: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    out = [("profile." + name, field) for name, field in schema["properties"].items()]
    for model, definition in schema["$defs"].items():
        out += [(f"{model}.{name}", field)
                for name, field in definition.get("properties", {}).items()]
    return out


def test_every_field_has_a_description(schema) -> None:
    assert [name for name, field in _fields(schema) if not field.get("description")] == []


def test_terms_are_enumerated(schema, kb) -> None:
    tme = schema["$defs"]["Biomarkers"]["properties"]["tme"]["anyOf"][1]["anyOf"][0]["enum"]
    assert tme == sorted(kb.vocabulary.tme)
    taxa = schema["$defs"]["Biomarkers"]["properties"]["microbiome"]["propertyNames"]
    assert set(kb.vocabulary.microbiome) <= set(taxa["anyOf"][0]["enum"])


ACCEPTED: list[dict[str, Any]] = [
    {"tumor": {"type": "COAD"}},
    {"tumour": {"type": "IHCH"}, "therapies": [{"regimen": "FOLFOX"}]},
    {"tumour": {"type": "COAD"}, "therapies": [{"agents": ["FOLFOX", "Keytruda"],
                                                "response": "pd"}]},
    {"tumour": {"type": "COAD"}, "biomarkers": {"tme": "Immune Hot", "msi": "dMMR",
                                                "microbiome": {"F. nucleatum": "HIGH"}}},
    {"tumour": {"type": "COAD"}, "ctdna": [{"date": "2025-01-01", "tumor_fraction": 0.1}]},
    {"tumour": {"type": "COAD"}, "alterations": [{"gene": "KRAS", "type": "Amplification"}]},
]

REFUSED: list[dict[str, Any]] = [
    {},
    {"tumour": {"type": "COAD"}, "tumor": {"type": "COAD"}},
    {"tumour": {"type": "COAD"}, "colour": "blue"},
    {"tumour": {"type": "COAD"}, "biomarkers": {"tme": ["not-a-term"]}},
    {"tumour": {"type": "COAD"}, "alterations": [{"gene": "KRAS", "vaf": 31}]},
    {"tumour": {"type": "COAD"}, "therapies": [{"start": "2025-01-01"}]},
    {"tumour": {"type": "COAD"}, "therapies": [{"agents": ["oxaliplatin"], "response": "XX"}]},
    {"tumour": {"type": "COAD"}, "clinical": {"conditions": ["pregnant"]}},
    {"tumour": {"type": "COAD"}, "ctdna": [{"date": "2025-01-01", "tumour_fraction": 0.1,
                                            "tumor_fraction": 0.1}]},
]


@pytest.mark.parametrize("data", ACCEPTED)
def test_schema_and_loader_both_accept(schema, kb, data: dict[str, Any]) -> None:
    load_profile(data, kb.vocabulary)
    assert [e.message for e in _validator(schema).iter_errors(data)] == []


@pytest.mark.parametrize("data", REFUSED)
def test_schema_and_loader_both_refuse(schema, kb, data: dict[str, Any]) -> None:
    with pytest.raises(ProfileError):
        load_profile(data, kb.vocabulary)
    assert list(_validator(schema).iter_errors(data)) != []
