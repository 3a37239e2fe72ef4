"""Exit codes and exact messages of the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from regimen.cli import cli

DATA = Path(__file__).parent / "data"
PROFILE = str(DATA / "issue_format.yaml")


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_help_on_every_command(runner: CliRunner) -> None:
    for args in ([], ["evaluate"], ["explain"], ["timeline"], ["schema"], ["knowledge"],
                 ["knowledge", "lint"], ["knowledge", "list"], ["knowledge", "coverage"]):
        result = runner.invoke(cli, [*args, "--help"])
        assert result.exit_code == 0, args
        assert "Usage:" in result.output


def test_evaluate_txt_default(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["evaluate", PROFILE])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("REGIMEN REPORT - TB-2026-014")


def test_evaluate_json_matches_api(runner: CliRunner, recommender) -> None:
    result = runner.invoke(cli, ["evaluate", PROFILE, "--format", "json"])
    assert result.exit_code == 0
    assert json.loads(result.output) == recommender.evaluate(PROFILE).to_dict()


def test_top_limits_recommendations(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["evaluate", PROFILE, "-f", "json", "--top", "1"])
    assert len(json.loads(result.output)["recommendations"]) == 1


def test_stdin(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["evaluate", "-", "-f", "json"],
                           input=Path(PROFILE).read_bytes())
    assert result.exit_code == 0
    assert json.loads(result.output)["profile_id"] == "TB-2026-014"


def test_output_file_written_atomically(runner: CliRunner, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    result = runner.invoke(cli, ["evaluate", PROFILE, "--output", str(out)])
    assert result.exit_code == 0
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert [p.name for p in tmp_path.iterdir()] == ["report.html"]


def test_refuses_to_overwrite_input(runner: CliRunner, tmp_path: Path) -> None:
    profile = tmp_path / "p.yaml"
    profile.write_text(Path(PROFILE).read_text())
    before = profile.read_bytes()
    result = runner.invoke(cli, ["evaluate", str(profile), "--output", str(profile)])
    assert result.exit_code == 2
    assert "refusing to overwrite" in result.output
    assert profile.read_bytes() == before


def test_bad_profile_exit_2_without_traceback(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("tumour:\n  type: COADREAD\nalterations:\n  - {gene: KRASS, change: G12C}\n")
    result = runner.invoke(cli, ["evaluate", str(bad)])
    assert result.exit_code == 2
    assert result.output == (f"Error: {bad}:4: alterations[0].gene: unknown gene 'KRASS' "
                             "(did you mean KRAS?)\n")
    assert "Traceback" not in result.output


def test_bad_output_leaves_existing_report(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("tumour: {type: brain}\n")
    out = tmp_path / "report.txt"
    out.write_text("previous report")
    result = runner.invoke(cli, ["evaluate", str(bad), "-o", str(out)])
    assert result.exit_code == 2
    assert out.read_text() == "previous report"


def test_unwritable_output_is_a_clear_error(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(cli, ["evaluate", PROFILE, "-o", str(tmp_path / "no" / "r.txt")])
    assert result.exit_code == 2
    assert "directory does not exist" in result.output


def test_missing_file(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["evaluate", "nope.yaml"])
    assert result.exit_code == 2
    assert result.output == "Error: nope.yaml: no such file (check the path)\n"


def test_usage_errors_exit_2(runner: CliRunner) -> None:
    assert runner.invoke(cli, ["evaluate"]).exit_code == 2
    assert runner.invoke(cli, ["evaluate", PROFILE, "--format", "docx"]).exit_code == 2
    assert runner.invoke(cli, ["evaluate", PROFILE, "--top", "0"]).exit_code == 2
    result = runner.invoke(cli, ["evaluate", PROFILE, "--as-of", "yesterday"])
    assert result.exit_code == 2
    assert "'yesterday' is not a date" in result.output


def test_internal_fault_exit_1(runner: CliRunner, monkeypatch) -> None:
    import regimen.api

    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(regimen.api.Recommender, "evaluate", broken)
    result = runner.invoke(cli, ["evaluate", PROFILE])
    assert result.exit_code == 1
    assert "internal error: ZeroDivisionError: boom" in result.output
    assert "Traceback" not in result.output


def test_explain_one_and_unknown(runner: CliRunner, recommender) -> None:
    top = recommender.evaluate(PROFILE).recommendations[0]
    result = runner.invoke(cli, ["explain", PROFILE, top.id])
    assert result.exit_code == 0
    assert f"RECOMMENDATION {top.id}" in result.output
    assert f"rule {top.rules[0]}" in result.output
    bad = runner.invoke(cli, ["explain", PROFILE, "no-such-id"])
    assert bad.exit_code == 2
    assert "nothing called 'no-such-id'" in bad.output


def test_schema(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert "tumour" in schema["properties"]
    assert schema["required"] == ["tumour"]


def test_knowledge_list(runner: CliRunner, kb) -> None:
    result = runner.invoke(cli, ["knowledge", "list", "rules", "-f", "json"])
    assert result.exit_code == 0
    assert len(json.loads(result.output)) == len(kb.rules)
    sources = runner.invoke(cli, ["knowledge", "list", "sources"])
    assert "ferroptosis-2025" in sources.output


def test_knowledge_lint_shipped_is_clean(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["knowledge", "lint"])
    assert result.exit_code == 0, result.output
    assert " 0 errors" in result.output


def test_knowledge_lint_fails_on_broken_knowledge(runner: CliRunner, mini_kb) -> None:
    root = mini_kb([{"id": "t.bad", "stage": "mechanism",
                     "when": [{"expression": {"gene": "NOTAGENE1", "level": "high"}}],
                     "then": {"mechanism": "drug-efflux", "confidence": "high"},
                     "cite": {"source": "gi-resistance-2025", "refs": [999], "where": "9.9"}}])
    result = runner.invoke(cli, ["knowledge", "lint", "--knowledge", str(root)])
    assert result.exit_code == 1
    assert "cites reference 999, which gi-resistance-2025 does not have" in result.output
    assert "'9.9', which is not a section" in result.output
    assert "unknown gene: NOTAGENE1" in result.output


def test_custom_knowledge_broken_file_names_file_rule_field(runner: CliRunner, mini_kb) -> None:
    root = mini_kb([{"id": "t.bad", "stage": "mechanism", "when": [{"tme": "hypoxic"}],
                     "then": {"mechanism": "drug-efflux", "confidence": "sure"},
                     "cite": {"source": "gi-resistance-2025", "refs": [1], "where": "1"}}])
    result = runner.invoke(cli, ["evaluate", PROFILE, "--knowledge", str(root)])
    assert result.exit_code == 2
    assert "rules/test.yaml" in result.output
    assert "rule 't.bad'" in result.output
    assert "then.confidence" in result.output


def test_knowledge_coverage_shows_row_departures(runner: CliRunner) -> None:
    # an encoded row whose printed gene is deliberately not encoded (ABCC5 vs ABCG5)
    result = runner.invoke(cli, ["knowledge", "coverage"])
    assert result.exit_code == 0
    row = next(line for line in result.output.splitlines()
               if line.strip().startswith("Table 1 row 40 "))
    assert "ferroptosis-mech.abcg5" in row
    assert "; not encoded as printed: The printed gene \"ABCC5\" is not encoded" in row


def test_knowledge_coverage_json(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["knowledge", "coverage", "-f", "json"])
    assert result.exit_code == 0
    report = json.loads(result.output)
    assert {s["key"] for s in report["sources"]} == {
        "gi-resistance-2025", "ici-resistance-2025", "ferroptosis-2025"}
