"""Exit codes and exact messages of the command line."""

from __future__ import annotations

import json
import os
import re
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
    assert result.output == (f"Error: {bad}:4: alterations[0].gene: unknown gene 'KRASS': "
                             "not an HGNC symbol, alias or previous symbol "
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


def test_explain_ids_are_case_insensitive_and_printed_in_the_report(runner: CliRunner,
                                                                    recommender) -> None:
    result = recommender.evaluate(PROFILE)
    report = runner.invoke(cli, ["evaluate", PROFILE]).output
    for rec in result.recommendations:
        assert f"      id:        {rec.id}\n" in report
    top = result.recommendations[0]
    upper = runner.invoke(cli, ["explain", PROFILE, top.id.upper()])
    assert upper.exit_code == 0, upper.output
    assert upper.output == runner.invoke(cli, ["explain", PROFILE, top.id]).output


def test_explain_unknown_id_names_the_closest_ids_only(runner: CliRunner, recommender) -> None:
    result = recommender.evaluate(PROFILE)
    top = result.recommendations[0].id
    known = {r.id for r in result.recommendations} | {a.id for a in result.avoid} \
        | {c.id for c in result.cautions} | {m.id for m in result.mechanisms}
    typo = top[:-1] + ("x" if top[-1] != "x" else "y")
    bad = runner.invoke(cli, ["explain", PROFILE, typo])
    assert bad.exit_code == 2
    assert f"closest: {top}" in bad.output
    assert len(bad.output.splitlines()) == 1
    shown = [k for k in known if k in bad.output and k != top]
    assert len(shown) <= 4  # the closest few, never the whole list
    nothing = runner.invoke(cli, ["explain", PROFILE, "zzzzzzzzzzzz"])
    assert nothing.exit_code == 2 and "closest" not in nothing.output
    assert "prints each option's id" in nothing.output


def test_schema(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.output)
    assert "tumour" in schema["properties"]
    assert schema["oneOf"] == [{"required": ["tumour"]}, {"required": ["tumor"]}]


def test_version_names_package_knowledge_and_reference_data(runner: CliRunner) -> None:
    from regimen import __version__
    from regimen.knowledge.reference import data_versions

    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == f"regimen {__version__}"
    assert lines[1].startswith("knowledge: regimen-gi-resistance ")
    assert lines[2:] == [f"reference {name}: {version}"
                         for name, version in data_versions().items()]
    assert any("oncotree_2025_10_03" in line for line in lines)


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
    reviews = {"gi-resistance-2025", "ici-resistance-2025", "ferroptosis-2025"}
    assert reviews <= {s["key"] for s in report["sources"]}
    # trials, approvals and meta-analyses are listed as one item each, encoded when cited
    standard = [s for s in report["sources"] if s["key"] not in reviews]
    assert len(standard) == 60
    for source in standard:
        assert [i["kind"] for i in source["items"]] in (["trial"], ["approval"], ["meta-analysis"])
        assert source["unaccounted"] == 0, source["key"]


def test_timeline_help_is_plain_english(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["timeline", "--help"])
    assert result.exit_code == 0
    text = " ".join(result.output.split())
    assert "became to be" not in text
    assert "which agents came to be avoided" in text


@pytest.mark.parametrize("args", [["knowledge", "list", "rules"],
                                  ["evaluate", PROFILE, "--format", "json"]])
def test_closed_pipe_exits_141_quietly(args: list[str]) -> None:
    import subprocess
    import sys

    # the reader is gone before regimen writes anything, as with `regimen ... | head -1`
    # when head has already exited: no "internal error", no traceback, the SIGPIPE code
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.run([sys.executable, "-m", "regimen", *args], stdout=write_end,
                              stderr=subprocess.PIPE, text=True, timeout=120, check=False)
    finally:
        os.close(write_end)
    assert proc.returncode == 141, proc.stderr
    assert proc.stderr == ""


@pytest.mark.parametrize("command", ["evaluate", "timeline"])
def test_name_like_profile_id_warns(runner: CliRunner, tmp_path: Path, command: str) -> None:
    named = tmp_path / "named.yaml"
    named.write_text("id: Müller, Hans\ntumour: {type: COADREAD}\n", encoding="utf-8")
    result = runner.invoke(cli, [command, str(named)])
    assert result.exit_code == 0, result.output
    assert "warning: the profile id 'Müller, Hans' looks like a person's name" in result.output
    plain = runner.invoke(cli, [command, PROFILE])
    assert "looks like a person's name" not in plain.output


def _warned_kb(mini_kb) -> Path:
    """A small knowledge directory whose lint gives warnings (and errors: mechanisms that
    no rule of this one-rule base derives)."""
    root = mini_kb([{"id": "t.efflux", "stage": "mechanism",
                     "when": [{"expression": {"gene": "ABCB1", "level": "high"}}],
                     "then": {"mechanism": "drug-efflux", "confidence": "high"},
                     "cite": {"source": "gi-resistance-2025", "refs": [], "where": "3.1.3"}}])
    (root / "lint-baseline.txt").unlink(missing_ok=True)
    return root


def test_knowledge_lint_shipped_shows_no_known_warning(runner: CliRunner) -> None:
    # errors (exit 1) are test_knowledge_lint_shipped_is_clean's business; here: no warning
    # outside the shipped baseline
    result = runner.invoke(cli, ["knowledge", "lint"])
    assert result.exit_code in (0, 1), result.output
    lines = result.output.splitlines()
    assert not [x for x in lines if x.startswith("warning:")], "a new lint warning"
    assert re.fullmatch(r"\d+ rules, \d+ errors, (\d+) warnings \(0 new, \1 known from "
                        r"lint-baseline\.txt\)", lines[-1]), lines[-1]


def test_knowledge_lint_quiet_and_baseline(runner: CliRunner, mini_kb, tmp_path: Path) -> None:
    root = _warned_kb(mini_kb)
    every = runner.invoke(cli, ["knowledge", "lint", "--knowledge", str(root)])
    assert every.exit_code == 1, every.output
    warnings = [x for x in every.output.splitlines() if x.startswith("warning:")]
    errors = [x for x in every.output.splitlines() if x.startswith("error:")]
    assert len(warnings) >= 2 and errors
    assert "(" not in every.output.splitlines()[-1]  # no baseline in this directory

    # --quiet: errors (never hidden) and the count line
    quiet = runner.invoke(cli, ["knowledge", "lint", "--knowledge", str(root), "--quiet"])
    assert quiet.exit_code == 1
    assert quiet.output.splitlines() == [*errors, every.output.splitlines()[-1]]

    # a baseline with all warnings but the first: only that one is shown, as new
    baseline = tmp_path / "baseline.txt"
    baseline.write_text("# reviewed\n\n" + "\n".join(warnings[1:]) + "\n", encoding="utf-8")
    partial = runner.invoke(cli, ["knowledge", "lint", "--knowledge", str(root),
                                  "--baseline", str(baseline)])
    assert partial.exit_code == 1
    assert [x for x in partial.output.splitlines() if x.startswith("error:")] == errors
    assert [x for x in partial.output.splitlines() if x.startswith("warning:")] == warnings[:1]
    assert f"(1 new, {len(warnings) - 1} known from baseline.txt)" in partial.output

    # --update-baseline writes the directory's own baseline, used by default afterwards
    update = runner.invoke(cli, ["knowledge", "lint", "--knowledge", str(root),
                                 "--update-baseline"])
    assert update.exit_code == 1  # the errors remain: they are never baselined
    assert "error:" not in (root / "lint-baseline.txt").read_text(encoding="utf-8")
    written = (root / "lint-baseline.txt").read_text(encoding="utf-8")
    assert sorted(x for x in written.splitlines() if x.startswith("warning:")) == \
        sorted(warnings)
    again = runner.invoke(cli, ["knowledge", "lint", "--knowledge", str(root)])
    assert not [x for x in again.output.splitlines() if x.startswith("warning:")]
    assert f"(0 new, {len(warnings)} known from lint-baseline.txt)" in again.output
    shown = runner.invoke(cli, ["knowledge", "lint", "--knowledge", str(root), "--no-baseline"])
    assert [x for x in shown.output.splitlines() if x.startswith("warning:")] == warnings

    missing = runner.invoke(cli, ["knowledge", "lint", "--knowledge", str(root),
                                  "--baseline", str(tmp_path / "nope.txt")])
    assert missing.exit_code == 2
    assert "lint baseline not found" in missing.output


@pytest.mark.parametrize(("shell", "marker"), [
    ("bash", "complete -o nosort -F _regimen_completion regimen"),
    ("zsh", "compdef _regimen_completion regimen"),
    ("fish", "complete --no-files --command regimen"),
])
def test_shell_completion_script_is_produced(runner: CliRunner, shell: str, marker: str) -> None:
    # the commands the README gives: _REGIMEN_COMPLETE=<shell>_source regimen
    result = runner.invoke(cli, [], prog_name="regimen",
                           env={"_REGIMEN_COMPLETE": f"{shell}_source"})
    assert result.exit_code == 0, result.output
    assert "_regimen_completion" in result.output
    assert marker in result.output
    assert f"_REGIMEN_COMPLETE={shell}_complete" in result.output


def test_shell_completion_completes_subcommands(runner: CliRunner) -> None:
    result = runner.invoke(cli, [], prog_name="regimen",
                           env={"_REGIMEN_COMPLETE": "bash_complete",
                                "COMP_WORDS": "regimen knowledge l", "COMP_CWORD": "2"})
    assert result.exit_code == 0
    assert result.output.splitlines() == ["plain,lint", "plain,list"]
