from __future__ import annotations

import json
import shutil
import subprocess
import sys
import types
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from regimen import Recommender
from regimen.cli import cli
from regimen.cohort.batch import count_inputs, evaluate_many, expand_inputs, safe_name

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
FORMATS = ("json", "html", "md", "txt")


@pytest.fixture(autouse=True)
def shared_recommender(monkeypatch: pytest.MonkeyPatch, recommender: Recommender) -> None:
    """Every command in these tests uses the session's compiled knowledge base."""
    monkeypatch.setattr("regimen.cli._recommender", lambda knowledge_dir: recommender)
    monkeypatch.setattr("regimen.cohort.command._recommender", lambda knowledge_dir: recommender)


def run(*args: str) -> Any:
    return CliRunner().invoke(cli, [str(a) for a in args], catch_exceptions=False)


def evaluate_output(path: Path, fmt: str) -> str:
    result = run("evaluate", path, "--format", fmt)
    assert result.exit_code == 0, result.output
    return result.stdout


def cohort(tmp_path: Path, names: tuple[str, ...] = ("crc-kras-g12c.yaml", "hcc-sorafenib.yaml",
                                                     "pancreatic-stroma.yaml")) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for name in names:
        shutil.copy(EXAMPLES / name, folder / name)
    return folder


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines(keepends=True)


def test_batch_equals_single_evaluate_runs_byte_for_byte(tmp_path: Path) -> None:
    inputs = cohort(tmp_path)
    out = tmp_path / "out"
    result = run("batch", inputs, "--out", out, *[a for f in FORMATS for a in ("-f", f)])
    assert result.exit_code == 0, result.output
    assert "evaluated 3, refused 0, skipped 0" in result.stderr
    profiles = sorted(inputs.glob("*.yaml"))
    results = lines(out / "results.jsonl")
    assert len(results) == len(profiles)
    for profile, line in zip(profiles, results, strict=True):
        name = yaml.safe_load(profile.read_text())["id"]
        for fmt in FORMATS:
            assert (out / f"{name}.{fmt}").read_text(encoding="utf-8") == \
                evaluate_output(profile, fmt), (profile, fmt)
        # one compact line holding exactly the JSON `evaluate --format json` prints
        assert line.endswith("\n") and line.count("\n") == 1
        assert json.loads(line) == json.loads(evaluate_output(profile, "json"))
        assert line == json.dumps(json.loads(line), ensure_ascii=False,
                                  separators=(",", ":")) + "\n"
    assert (out / "errors.jsonl").read_text() == ""


def test_bad_profiles_go_to_errors_with_the_evaluate_message(tmp_path: Path) -> None:
    inputs = cohort(tmp_path, ("crc-kras-g12c.yaml",))
    (inputs / "b-unknown-tumour.yaml").write_text("id: B\ntumour: {type: not-a-tumour}\n")
    (inputs / "c-broken.yaml").write_text("id: C\ntumour: [unclosed\n")
    out = tmp_path / "out"
    result = run("batch", inputs, "--out", out, "-f", "json")
    assert result.exit_code == 2
    assert "evaluated 1, refused 2, skipped 0" in result.stderr
    assert "2 profiles were refused" in result.stderr
    errors = [json.loads(line) for line in lines(out / "errors.jsonl")]
    assert [Path(e["input"]).name for e in errors] == ["b-unknown-tumour.yaml", "c-broken.yaml"]
    for error in errors:
        assert error["record"] is None
        single = run("evaluate", error["input"])
        assert single.exit_code == 2
        assert single.stderr == f"Error: {error['error']}\n"
    assert len(lines(out / "results.jsonl")) == 1
    assert sorted(p.name for p in out.glob("*.json")) == ["EX-CRC-01.json"]


def test_internal_fault_exits_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inputs = cohort(tmp_path, ("crc-kras-g12c.yaml",))

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(Recommender, "evaluate", broken)
    result = CliRunner().invoke(cli, ["batch", str(inputs), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "internal error: RuntimeError: boom" in result.output


def test_resume_skips_up_to_date_and_redoes_changed(tmp_path: Path) -> None:
    inputs = cohort(tmp_path)
    out = tmp_path / "out"
    first = run("batch", inputs, "--out", out, "-f", "json")
    assert first.exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    again = run("batch", inputs, "--out", out, "-f", "json")
    assert "evaluated 0, refused 0, skipped 3" in again.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before

    # a changed input is redone; the others are kept; results.jsonl stays one line each
    changed = inputs / "hcc-sorafenib.yaml"
    changed.write_text(changed.read_text().replace("id: EX-HCC-01", "id: EX-HCC-01b"))
    third = run("batch", inputs, "--out", out, "-f", "json")
    assert "evaluated 1, refused 0, skipped 2" in third.stderr
    results = [json.loads(line) for line in lines(out / "results.jsonl")]
    assert [r["profile_id"] for r in results] == ["EX-CRC-01", "EX-HCC-01b", "EX-PDAC-01"]
    assert (out / "EX-HCC-01b.json").read_text() == evaluate_output(changed, "json")
    assert len(lines(out / "manifest.jsonl")) == 3

    # another knowledge digest makes an entry stale
    manifest = lines(out / "manifest.jsonl")
    entry = json.loads(manifest[0])
    entry["knowledge_digest"] = "000000000000"
    manifest[0] = json.dumps(entry) + "\n"
    (out / "manifest.jsonl").write_text("".join(manifest))
    fourth = run("batch", inputs, "--out", out, "-f", "json")
    assert "evaluated 1, refused 0, skipped 2" in fourth.stderr

    # a new format is missing from every entry: all are redone
    fifth = run("batch", inputs, "--out", out, "-f", "json", "-f", "md")
    assert "evaluated 3, refused 0, skipped 0" in fifth.stderr
    assert (out / "EX-CRC-01.md").exists()


def test_interrupted_run_resumes_without_duplicates(tmp_path: Path) -> None:
    inputs = cohort(tmp_path)
    out = tmp_path / "out"
    assert run("batch", inputs, "--out", out, "-f", "json").exit_code == 0
    complete = (out / "results.jsonl").read_bytes()
    # as if stopped after the second result line was appended, before its manifest line,
    # in the middle of writing the third result line
    manifest = lines(out / "manifest.jsonl")
    (out / "manifest.jsonl").write_text(manifest[0] + manifest[1][:40])
    results = lines(out / "results.jsonl")
    (out / "results.jsonl").write_text(results[0] + results[1] + results[2][:100])
    (out / "EX-PDAC-01.json").unlink()
    again = run("batch", inputs, "--out", out, "-f", "json")
    assert again.exit_code == 0
    assert "evaluated 2, refused 0, skipped 1" in again.stderr
    assert (out / "results.jsonl").read_bytes() == complete
    assert [json.loads(line)["name"] for line in lines(out / "manifest.jsonl")] == \
        ["EX-CRC-01", "EX-HCC-01", "EX-PDAC-01"]
    assert not [p for p in out.iterdir() if p.name.endswith(".tmp")]


def test_jobs_2_keeps_input_order_and_bytes(tmp_path: Path) -> None:
    names = tuple(sorted(p.name for p in EXAMPLES.glob("*.yaml")))
    inputs = cohort(tmp_path, names)
    one, two = tmp_path / "one", tmp_path / "two"
    assert run("batch", inputs, "--out", one, "-f", "json", "-f", "html").exit_code == 0
    result = run("batch", inputs, "--out", two, "-f", "json", "-f", "html", "--jobs", "2")
    assert result.exit_code == 0, result.output
    for path in one.iterdir():
        assert (two / path.name).read_bytes() == path.read_bytes(), path.name
    assert sorted(p.name for p in one.iterdir()) == sorted(p.name for p in two.iterdir())


def test_evaluate_many_is_ordered_with_errors_in_place(recommender: Recommender,
                                                       tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("tumour: {type: nowhere}\n")
    paths = [EXAMPLES / "pancreatic-stroma.yaml", bad, EXAMPLES / "crc-kras-g12c.yaml",
             EXAMPLES / "hcc-sorafenib.yaml"]
    for jobs in (1, 2):
        items = list(evaluate_many(recommender, paths, jobs=jobs))
        assert [i.input for i in items] == [str(p) for p in paths]
        assert [i.result.profile_id if i.result else None for i in items] == \
            ["EX-PDAC-01", None, "EX-CRC-01", "EX-HCC-01"]
        assert items[1].error is not None and str(bad) in items[1].error
        assert items[0].result == recommender.evaluate(paths[0])


def test_jsonl_records_are_numbered_by_line(tmp_path: Path) -> None:
    good = yaml.safe_load((EXAMPLES / "crc-kras-g12c.yaml").read_text())
    no_id = {k: v for k, v in good.items() if k != "id"}
    text = "\n".join([json.dumps(good, default=str), "", json.dumps(no_id, default=str),
                      '{"tumour": {"type": "COAD"}, "bogus": 1}', "{not json"]) + "\n"
    source = tmp_path / "cohort.jsonl"
    source.write_text(text)
    assert count_inputs([source]) == 4
    out = tmp_path / "out"
    result = run("batch", source, "--out", out, "-f", "json")
    assert result.exit_code == 2
    assert "evaluated 2, refused 2" in result.stderr
    errors = [json.loads(line) for line in lines(out / "errors.jsonl")]
    assert [(e["input"], e["record"]) for e in errors] == [(str(source), 4), (str(source), 5)]
    assert errors[0]["error"].startswith(f"{source}:4: bogus: unknown key 'bogus'")
    assert errors[1]["error"].startswith(f"{source}:5: cannot parse JSON")
    assert sorted(p.name for p in out.glob("*.json")) == ["EX-CRC-01.json", "cohort-3.json"]
    results = [json.loads(line) for line in lines(out / "results.jsonl")]
    assert results[1]["profile_id"] is None
    assert results[0]["recommendations"] == results[1]["recommendations"]


def test_mixed_inputs_globs_and_directories_in_order(tmp_path: Path) -> None:
    inputs = cohort(tmp_path)
    nested = inputs / "more" / "deeper"
    nested.mkdir(parents=True)
    shutil.copy(EXAMPLES / "escc-cisplatin.yaml", nested / "escc.yml")
    (inputs / "notes.txt").write_text("not a profile")
    sources = list(expand_inputs([str(EXAMPLES / "crc-msi-high.yaml"), str(inputs),
                                  str(EXAMPLES / "gastric-*.yaml"),
                                  str(EXAMPLES / "crc-msi-high.yaml"), str(tmp_path / "x*.yaml")]))
    names = [Path(s.input).name for s in sources]
    # a directory's own files (sorted) come before its subdirectories; each file once
    assert names == ["crc-msi-high.yaml", "crc-kras-g12c.yaml", "hcc-sorafenib.yaml",
                     "pancreatic-stroma.yaml", "escc.yml", "gastric-paclitaxel-efflux.yaml",
                     "x*.yaml"]
    assert sources[-1].error is not None and "no file matches" in sources[-1].error
    assert count_inputs([str(EXAMPLES / "crc-msi-high.yaml"), str(inputs),
                         str(EXAMPLES / "gastric-*.yaml"), str(tmp_path / "x*.yaml")]) == 7


def test_report_names_are_safe_unique_and_never_an_input(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    profile = yaml.safe_load((EXAMPLES / "crc-kras-g12c.yaml").read_text())
    for stem, pid in (("a", "../../escape"), ("b", "../../escape"), ("c", "same")):
        (folder / f"{stem}.yaml").write_text(yaml.safe_dump({**profile, "id": pid}))
    # the output directory lies inside the input directory (it is not searched), and an
    # input given by name lies in the output directory with a report's name
    out = folder / "out"
    out.mkdir()
    (out / "same.json").write_text(json.dumps({**profile, "id": "other"}, default=str))
    original = (out / "same.json").read_bytes()
    result = run("batch", folder, out / "same.json", "--out", out, "-f", "json")
    assert result.exit_code == 0, result.output
    assert (out / "same.json").read_bytes() == original
    made = [json.loads(line)["name"] for line in lines(out / "manifest.jsonl")]
    assert made == ["escape", "escape-2", "same-2", "other"]
    assert all((out / f"{name}.json").exists() for name in made)
    assert safe_name("..") == "profile" and safe_name("a b/c") == "a_b_c"
    rerun = run("batch", folder, out / "same.json", "--out", out, "-f", "json")
    assert "skipped 4" in rerun.stderr
    refused = run("batch", folder, "--out", folder)
    assert refused.exit_code == 2 and "also an input directory" in refused.stderr


def test_without_out_streams_results_to_stdout(tmp_path: Path) -> None:
    inputs = cohort(tmp_path, ("crc-kras-g12c.yaml",))
    (inputs / "z.yaml").write_text("tumour: {type: nowhere}\n")
    result = run("batch", inputs, "--quiet")
    assert result.exit_code == 2
    assert json.loads(result.stdout) == json.loads(evaluate_output(inputs / "crc-kras-g12c.yaml",
                                                                   "json"))
    assert "refused: " in result.stderr and "1 profile was refused" in result.stderr


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run("batch").exit_code == 2
    assert run("batch", EXAMPLES, "-f", "json").exit_code == 2
    bad_summary = run("batch", EXAMPLES, "--summary", tmp_path / "s.pdf")
    assert bad_summary.exit_code == 2 and "summary format" in bad_summary.stderr


class FakeImported:
    def __init__(self, profile: dict[str, Any], source: str, unmapped: list[Any]) -> None:
        self.profile, self.source, self.unmapped = profile, source, unmapped


def test_importer_sources_plug_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    profile = yaml.safe_load((EXAMPLES / "crc-kras-g12c.yaml").read_text())
    study = tmp_path / "study"
    study.mkdir()
    (study / "data_clinical_patient.txt").write_text("#fake\n")

    def detect(path: Path) -> str | None:
        return "cbioportal" if Path(path).is_dir() and Path(path).name == "study" else None

    def import_path(path: Path, fmt: str | None = None) -> Iterator[FakeImported]:
        yield FakeImported({**profile, "id": "S1"}, f"{path}:S1", ["timeline row 3"])
        yield FakeImported({"tumour": {"type": "nowhere"}}, f"{path}:S2", [])

    module = types.ModuleType("regimen.io.importers")
    module.detect = detect  # type: ignore[attr-defined]
    module.import_path = import_path  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "regimen.io.importers", module)
    out = tmp_path / "out"
    result = run("batch", tmp_path, "--out", out, "-f", "json")
    assert result.exit_code == 2
    assert "evaluated 1, refused 1" in result.stderr
    assert json.loads((out / "S1.json").read_text())["profile_id"] == "S1"
    error = json.loads((out / "errors.jsonl").read_text())
    assert (error["input"], error["record"]) == (str(study), 2)
    assert json.loads((out / "unmapped.jsonl").read_text())["unmapped"] == ["timeline row 3"]
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    again = run("batch", tmp_path, "--out", out, "-f", "json")
    assert "evaluated 0, refused 0, skipped 2" in again.stderr
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_progress_library_not_imported_by_other_commands() -> None:
    code = ("import sys; from click.testing import CliRunner; from regimen.cli import cli; "
            "r = CliRunner().invoke(cli, ['schema']); assert r.exit_code == 0; "
            "r = CliRunner().invoke(cli, ['batch', '--help']); assert r.exit_code == 0; "
            "print('tqdm' in sys.modules, 'distributed' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "False False"


def test_ctrl_c_leaves_complete_files_and_a_rerun_finishes(tmp_path: Path) -> None:
    import signal
    import time

    records = []
    for copy in range(6):
        for path in sorted(EXAMPLES.glob("*.yaml")):
            profile = yaml.safe_load(path.read_text())
            records.append(json.dumps({**profile, "id": f"{profile['id']}-{copy}"}, default=str))
    source = tmp_path / "cohort.jsonl"
    source.write_text("\n".join(records) + "\n")
    out = tmp_path / "out"
    child = subprocess.Popen(
        [sys.executable, "-c", "from regimen.cli import main; main()", "batch", str(source),
         "--out", str(out), "-f", "json", "-f", "html"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=ROOT)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        results = out / "results.jsonl"
        if results.exists() and results.read_bytes().count(b"\n") >= 3:
            break
        time.sleep(0.05)
    child.send_signal(signal.SIGINT)
    _, stderr = child.communicate(timeout=60)
    assert child.returncode == 130, stderr  # Ctrl-C: 128 + SIGINT (issue 11)
    assert b"Traceback" not in stderr
    assert not [p.name for p in out.iterdir() if p.name.startswith(".")]
    for name in ("results.jsonl", "manifest.jsonl"):
        text = (out / name).read_text()
        assert text.endswith("\n")
        [json.loads(line) for line in text.splitlines()]
    done = [json.loads(line) for line in lines(out / "manifest.jsonl")]
    assert 3 <= len(done) < len(records)
    for entry in done:
        assert json.loads((out / f"{entry['name']}.json").read_text())["profile_id"] == \
            entry["name"]
    rerun = run("batch", source, "--out", out, "-f", "json", "-f", "html")
    assert rerun.exit_code == 0
    assert f"skipped {len(done)}" in rerun.stderr
    fresh = tmp_path / "fresh"
    assert run("batch", source, "--out", fresh, "-f", "json", "-f", "html").exit_code == 0
    for path in fresh.iterdir():
        assert (out / path.name).read_bytes() == path.read_bytes(), path.name
