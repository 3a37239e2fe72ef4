"""Regression tests for issue 11 (hardening, round two): special output files, umask,
signals, limits, hostile text, YAML 1.1 scalars, streams and odd API arguments."""

from __future__ import annotations

import os
import signal
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from regimen.cli import cli
from regimen.errors import OutputError
from regimen.io.files import write_text_atomic

ROOT = Path(__file__).resolve().parent.parent
PROFILE = str(ROOT / "examples" / "crc-kras-g12c.yaml")


def run(*args: str, **kwargs: object) -> object:
    return CliRunner().invoke(cli, list(args), **kwargs)  # type: ignore[arg-type]


# -- defect 2: --output onto a device, a FIFO or a symlink ------------------------------

def _writes_devices_directly() -> None:
    """Fail (before touching a device) on code that would replace the device by a file."""
    from regimen.io.files import _target

    assert _target(Path("/dev/null")) == (Path("/dev/null"), "direct")


def test_output_to_dev_null_keeps_the_device() -> None:
    _writes_devices_directly()
    before = os.stat("/dev/null")
    result = run("evaluate", PROFILE, "--output", "/dev/null", "--format", "txt")
    assert result.exit_code == 0, result.output
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode)
    assert (after.st_mode, after.st_rdev) == (before.st_mode, before.st_rdev)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full on this system")
def test_output_to_dev_full_fails_with_exit_2() -> None:
    _writes_devices_directly()
    result = run("evaluate", PROFILE, "--output", "/dev/full", "--format", "txt")
    assert result.exit_code == 2, result.output
    assert "cannot write" in result.output
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


def test_output_to_a_fifo_writes_into_the_pipe(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def reader() -> None:
        with open(fifo, "rb") as handle:
            received.append(handle.read())

    thread = threading.Thread(target=reader)
    thread.start()
    result = run("evaluate", PROFILE, "--output", str(fifo), "--format", "json")
    thread.join(timeout=30)
    assert result.exit_code == 0, result.output
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO was replaced"
    assert received and received[0].startswith(b"{")


def test_output_dash_is_standard_output() -> None:
    result = run("evaluate", PROFILE, "--output", "-", "--format", "json")
    assert result.exit_code == 0
    assert result.output.startswith("{")
    assert not Path("-").exists()


def test_output_through_a_symlink_keeps_the_link_and_writes_the_target(tmp_path: Path) -> None:
    target = tmp_path / "real.txt"
    target.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(target)
    result = run("evaluate", PROFILE, "--output", str(link))
    assert result.exit_code == 0, result.output
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() not in ("", "old")


def test_output_onto_a_socket_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(path))
        with pytest.raises(OutputError, match="special file"):
            write_text_atomic(path, "x")
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
    finally:
        server.close()


# -- defect 10: the umask and an existing file's mode -------------------------------------

def test_new_report_honours_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        write_text_atomic(tmp_path / "r.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "r.txt").st_mode) == 0o600


def test_existing_report_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "r.txt"
    path.write_text("old")
    path.chmod(0o640)
    write_text_atomic(path, "new")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert path.read_text() == "new"


# -- defects 16 and 19: output names that cannot be files ---------------------------------

def test_overlong_output_name_exit_2(tmp_path: Path) -> None:
    result = run("evaluate", PROFILE, "--output", str(tmp_path / ("x" * 300 + ".txt")))
    assert result.exit_code == 2, result.output
    assert "255-byte limit" in result.output
    assert "Traceback" not in result.output


def test_output_with_trailing_slash_exit_2(tmp_path: Path) -> None:
    result = run("evaluate", PROFILE, "--output", str(tmp_path / "missing") + "/")
    assert result.exit_code == 2, result.output
    assert "ends with a path separator" in result.output
    assert not (tmp_path / "missing").exists()


# -- defects 14 and 20: signals ------------------------------------------------------------

SIGNAL_CHILD = """
import os, signal, sys
from pathlib import Path
from regimen.__main__ import install_signal_handlers
from regimen.io.files import atomic_writer
install_signal_handlers()
with atomic_writer(Path(sys.argv[1]) / "out.txt") as handle:
    handle.write("partial")
    os.kill(os.getpid(), int(sys.argv[2]))
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_signal_during_a_write_leaves_no_temporary_file(tmp_path: Path, signum: int) -> None:
    done = subprocess.run([sys.executable, "-c", SIGNAL_CHILD, str(tmp_path), str(int(signum))],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 128 + signum, done.stderr
    assert list(tmp_path.iterdir()) == []
    assert "Traceback" not in done.stderr


def test_ctrl_c_during_start_up_exits_130_without_traceback() -> None:
    code = ("import os, signal, sys\n"
            "sys.argv = ['regimen', 'evaluate', sys.argv[1]]\n"
            "import regimen.__main__ as m\n"
            "m.install_signal_handlers()\n"
            "os.kill(os.getpid(), signal.SIGINT)\n"
            "m.main()\n")
    done = subprocess.run([sys.executable, "-c", code, PROFILE], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip() == "regimen: interrupted"


def test_entry_point_is_the_signal_safe_main() -> None:
    text = (ROOT / "pyproject.toml").read_text()
    assert 'regimen = "regimen.__main__:main"' in text


# -- defect 15: messages echo at most ~200 characters of a value --------------------------

def test_long_values_are_cut_in_messages(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("id: " + "x" * 1_000_003 + "\ntumour: {type: COADREAD}\n")
    result = run("evaluate", str(path))
    assert result.exit_code == 2
    assert len(result.output) < 1500, len(result.output)
    path.write_text("tumour: {type: COADREAD}\nalterations: [{gene: " + "Q" * 5000 + "}]\n")
    result = run("evaluate", str(path))
    assert result.exit_code == 2
    assert "characters)" in result.output
    assert len(result.output) < 1500


# -- defect 4: a limit of detection of 0 -------------------------------------------------

@pytest.mark.parametrize("where", ["draw", "default"])
def test_lod_zero_sees_clearance_and_reappearance(recommender, where: str) -> None:
    draws = [{"date": "2025-01-01", "tumour_fraction": 0.1},
             {"date": "2025-03-01", "tumour_fraction": 0.0},
             {"date": "2025-05-01", "tumour_fraction": 0.3}]
    profile: dict = {"tumour": {"type": "COADREAD"}, "ctdna": draws}
    if where == "draw":
        for draw in draws:
            draw["lod"] = 0
    else:
        profile["settings"] = {"ctdna": {"default_lod": 0}}
    kinds = {e.event for e in recommender.evaluate(profile).ctdna.events}
    assert {"molecular-response", "clearance", "reappearance"} <= kinds, kinds


# -- defect 12: text streams, datetimes, profile text passed as a str ---------------------

def test_api_accepts_text_streams_and_datetimes(recommender) -> None:
    import datetime as dt
    import io

    with open(PROFILE, encoding="utf-8") as handle:
        from_text = recommender.evaluate(handle)
    text = Path(PROFILE).read_text(encoding="utf-8")
    from_string = recommender.evaluate(io.StringIO(text))
    assert from_text.to_dict() == from_string.to_dict() == recommender.evaluate(PROFILE).to_dict()
    when = recommender.evaluate(PROFILE, as_of=dt.datetime(2025, 6, 1, 12, 30))
    assert when.as_of == dt.date(2025, 6, 1)


def test_api_refuses_profile_text_passed_as_a_path(recommender) -> None:
    from regimen.errors import ProfileError

    with pytest.raises(ProfileError, match="looks like profile text"):
        recommender.evaluate("tumour: {type: COADREAD}\n")
    with pytest.raises(ProfileError, match="looks like profile text"):
        recommender.evaluate('{"tumour": {"type": "COADREAD"}}')


# -- defect 13: tuples and sets are validated like lists -----------------------------------

@pytest.mark.parametrize("kind", [tuple, set, frozenset])
def test_api_validates_tuples_and_sets(recommender, kind: type) -> None:
    from regimen.errors import ProfileError

    for profile in (
        {"tumour": {"type": "COADREAD"}, "therapies": [{"agents": kind(["Oxaliplatinn"])}]},
        {"tumour": {"type": "COADREAD"}, "biomarkers": {"tme": kind(["<b>NOT A TERM"])}},
        {"tumour": {"type": "COADREAD"}, "clinical": {"conditions": kind(["<b>NOT"])}},
    ):
        with pytest.raises(ProfileError):
            recommender.evaluate(profile)
    ok = recommender.evaluate({"tumour": {"type": "COADREAD"},
                               "therapies": [{"agents": kind(["Oxaliplatin"])}]})
    assert ok.patient.therapies[0].agents == ["oxaliplatin"]


def test_api_refuses_boolean_numbers(recommender) -> None:
    from regimen.errors import ProfileError

    with pytest.raises(ProfileError, match="expected a number"):
        recommender.evaluate({"tumour": {"type": "COADREAD"},
                              "alterations": [{"gene": "KRAS", "change": "G12C", "vaf": True}]})


# -- defect 9: free text per format --------------------------------------------------------

@pytest.mark.parametrize("evil", ["FAKE\nRANKED OPTIONS\n1. FAKE DRUG", "x\x1b[31mred",
                                  "bell\x07", "left\u202eright", "tab\there", "c1\x85"])
@pytest.mark.parametrize("field", ["id", "stage"])
def test_control_characters_in_text_fields_are_refused(recommender, evil: str,
                                                       field: str) -> None:
    from regimen.errors import ProfileError

    profile: dict = {"tumour": {"type": "COADREAD"}}
    if field == "id":
        profile["id"] = evil
    else:
        profile["tumour"]["stage"] = evil
    with pytest.raises(ProfileError, match=r"control character U\+"):
        recommender.evaluate(profile)


HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
           "[click](javascript:alert(1))", "a | b | c", "**bold** _it_ `code`", "# heading"]


@pytest.mark.parametrize("fmt", ["txt", "md", "html", "json"])
def test_hostile_text_is_inert_in_every_format(recommender, fmt: str) -> None:
    import json

    from regimen.render import render

    for evil in HOSTILE:
        result = recommender.evaluate({"id": evil[:100], "tumour": {"type": "COADREAD",
                                                                     "stage": evil}})
        page = render(result, fmt)
        if fmt == "json":
            assert json.loads(page)["profile_id"] == evil
        elif fmt == "txt":
            assert page.count("RANKED OPTIONS") <= 1
        else:
            assert "<script>" not in page and "<img" not in page
            assert 'href="javascript:' not in page
            if fmt == "md":
                assert "[click](javascript:" not in page
                table = [line for line in page.splitlines() if line.startswith("| Tumour")]
                assert len(table) == 1 and table[0].count(" | ") == 1, table


# -- defect 21: impossible and implausible dates -------------------------------------------

def test_response_date_before_start_is_refused(recommender) -> None:
    from regimen.errors import ProfileError

    with pytest.raises(ProfileError, match="response_date 2024-01-01 is before start"):
        recommender.evaluate({"tumour": {"type": "COADREAD"}, "therapies": [
            {"agents": ["oxaliplatin"], "start": "2025-01-01", "response_date": "2024-01-01",
             "response": "PD"}]})


def test_dates_decades_ahead_warn_in_result_and_on_stderr(recommender, tmp_path: Path) -> None:
    profile = {"tumour": {"type": "COADREAD"}, "therapies": [
        {"agents": ["oxaliplatin"], "start": "2025-01-01", "end": "2065-01-01"}]}
    result = recommender.evaluate(profile)
    assert result.warnings == ["therapies[0].end: 2065-01-01 is more than a year in the future; "
                               "check the year"]
    assert recommender.evaluate({"tumour": {"type": "COADREAD"}}).warnings == []
    import yaml

    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump(profile))
    done = CliRunner().invoke(cli, ["evaluate", str(path), "-o", str(tmp_path / "r.txt")])
    assert done.exit_code == 0
    assert "warning: therapies[0].end: 2065-01-01" in done.output


# -- defect 11: a --knowledge directory with cross-reference errors -----------------------

def _break_undeclared(d: Path) -> None:
    p = d / "rules" / "ferroptosis-mechanisms.yaml"
    p.write_text(p.read_text().replace("then: {mechanism: ferroptosis-resistance",
                                       "then: {mechanism: not-declared-mech", 1))


def _break_studied_in(d: Path) -> None:
    import re

    for p in sorted((d / "rules").glob("*.yaml")):
        text = p.read_text()
        if "studied_in: [" in text:
            p.write_text(re.sub(r"studied_in: \[[A-Z]+", "studied_in: [NOTATUMOUR", text, count=1))
            return


def _break_agents_list(d: Path) -> None:
    import yaml

    data = yaml.safe_load((d / "agents.yaml").read_text())
    (d / "agents.yaml").write_text(yaml.safe_dump(data["agents"]))


BROKEN_KNOWLEDGE = {
    "undeclared-mechanism": (_break_undeclared, "derives unknown mechanism 'not-declared-mech'"),
    "unknown-studied-in": (_break_studied_in, "unknown tumour codes: NOTATUMOUR"),
    "agents-as-list": (_break_agents_list, "expected a mapping with a 'agents' list"),
    "directory-named-yaml": (lambda d: (d / "rules" / "x.yaml").mkdir(), "is a directory"),
    "dangling-symlink": (lambda d: (d / "rules" / "y.yaml").symlink_to(d / "nowhere.yaml"),
                         "dangling symbolic link"),
}


@pytest.mark.parametrize("case", sorted(BROKEN_KNOWLEDGE))
def test_broken_knowledge_directory_exit_2_with_lint_message(tmp_path: Path, case: str) -> None:
    import shutil

    from regimen.io.resources import knowledge_dir

    directory = tmp_path / "kb"
    shutil.copytree(knowledge_dir(), directory)
    breaker, message = BROKEN_KNOWLEDGE[case]
    breaker(directory)
    for command in (["evaluate", PROFILE], ["explain", PROFILE], ["timeline", PROFILE]):
        result = run(*command, "--knowledge", str(directory))
        assert result.exit_code == 2, (command, result.output)
        assert message in result.output
        assert "internal error" not in result.output


# -- defect 8: README's limits table matches what is enforced -------------------------------

def _limits_table() -> dict[str, str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index("### Limits"):]
    rows = [line for line in section.splitlines()[3:] if line.startswith("| ")]
    table = {}
    for line in rows:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        table[cells[0]] = cells[1]
    return table


def _max_length(model: type, field: str) -> int:
    meta = model.model_fields[field].metadata  # type: ignore[attr-defined]
    return next(m.max_length for m in meta if getattr(m, "max_length", None) is not None)


def test_readme_limits_match_the_models() -> None:
    import re

    from regimen.errors import MAX_ECHO
    from regimen.io.documents import MAX_BYTES, MAX_DEPTH
    from regimen.io.files import NAME_MAX
    from regimen.knowledge.loader import KNOWLEDGE_MAX_BYTES
    from regimen.profile import Biomarkers, Clinical, CtdnaDraw, Profile, Therapy

    def number(cell: str) -> int:
        return int(re.match(r"[\d,]+", cell).group(0).replace(",", ""))  # type: ignore[union-attr]

    table = _limits_table()
    assert number(table["profile file size"]) == MAX_BYTES
    assert number(table["knowledge file size"]) == KNOWLEDGE_MAX_BYTES
    assert number(table["nesting depth"]) == MAX_DEPTH
    each = number(table["alterations, expression entries, microbiome entries, TME terms, "
                        "organoid results, variants per draw"])
    assert each == _max_length(Profile, "alterations") == _max_length(Biomarkers, "expression") \
        == _max_length(Biomarkers, "microbiome") == _max_length(Biomarkers, "tme") \
        == _max_length(Profile, "drug_sensitivity") == _max_length(CtdnaDraw, "variants")
    assert number(table["therapy lines"]) == _max_length(Profile, "therapies")
    assert number(table["agents per line"]) == _max_length(Therapy, "agents")
    assert number(table["ctDNA draws"]) == _max_length(Profile, "ctdna")
    assert number(table["clinical conditions"]) == _max_length(Clinical, "conditions")
    assert number(table["profile id"]) == _max_length(Profile, "id")
    assert number(table["value echoed in an error message"]) == MAX_ECHO
    assert number(table["--output file name"]) == NAME_MAX


@pytest.mark.parametrize(("field", "entry", "limit"), [
    ("expression", "high", 500), ("microbiome", "high", 500)])
def test_map_limits_enforced(recommender, field: str, entry: str, limit: int) -> None:
    from regimen.errors import ProfileError

    keys = [f"K{i}" for i in range(limit + 1)]
    with pytest.raises(ProfileError, match=f"{limit + 1} entries; at most {limit}"):
        recommender.evaluate({"tumour": {"type": "COADREAD"},
                              "biomarkers": {field: dict.fromkeys(keys, entry)}})
