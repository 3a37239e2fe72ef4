"""Hostile and broken input: a table of bad files, each with exit code 2 and its message,
and fuzzing of the loader (the only outcomes are a profile or the package's input error)."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from regimen import load_knowledge
from regimen.cli import cli
from regimen.errors import InputError
from regimen.io.documents import MAX_BYTES, parse_text
from regimen.profile import profile_from_document, profile_from_text

VOCAB = load_knowledge().vocabulary

BOMB = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n" \
       "c: [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"

BAD_FILES: list[tuple[str, str, bytes, str]] = [
    ("unparsable-yaml", "p.yaml", b"tumour: {type: COADREAD\n", "p.yaml:2: cannot parse YAML"),
    ("unparsable-json", "p.json", b'{"tumour": {"type": "COADREAD"},\n}',
     "p.json:2: cannot parse JSON"),
    ("empty", "p.yaml", b"", "p.yaml: file is empty"),
    ("top-level-list", "p.yaml", b"- tumour: COADREAD\n", "a profile must be a mapping"),
    ("top-level-scalar", "p.yaml", b"just text\n", "a profile must be a mapping"),
    ("unknown-key", "p.yaml", b"tumour: {type: COADREAD}\nmutations: []\n",
     "p.yaml:2: mutations: unknown key 'mutations' (allowed keys here:"),
    ("unknown-tumour", "p.yaml", b"tumour: {type: glioma}\n",
     "tumour.type: unknown tumour type 'glioma': not an OncoTree code or name"),
    ("gene-typo", "p.yaml",
     b"tumour: {type: COADREAD}\nalterations: [{gene: BRAFF, change: V600E}]\n",
     "alterations[0].gene: unknown gene 'BRAFF': not an HGNC symbol, alias or previous "
     "symbol (did you mean BRAF?)"),
    ("agent-typo", "p.yaml", b"tumour: {type: COADREAD}\ntherapies: [{agents: [cetuximabb]}]\n",
     "therapies[0].agents: unknown agent 'cetuximabb' (did you mean cetuximab?)"),
    ("bad-level", "p.yaml", b"tumour: {type: COADREAD}\nbiomarkers: {expression: {GPX4: up}}\n",
     "biomarkers.expression.GPX4: 'up' is not allowed"),
    ("bad-term", "p.yaml", b"tumour: {type: COADREAD}\nbiomarkers: {tme: [hypoxia]}\n",
     "unknown tumour-microenvironment term 'hypoxia' (did you mean hypoxic?"),
    ("vaf-out-of-range", "p.yaml",
     b"tumour: {type: COADREAD}\nalterations: [{gene: KRAS, change: G12C, vaf: 31}]\n",
     "alterations[0].vaf: VAF is a fraction between 0 and 1; 31 looks like a percentage, "
     "write 0.31"),
    ("negative-tmb", "p.yaml", b"tumour: {type: COADREAD}\nbiomarkers: {tmb: -3}\n",
     "biomarkers.tmb: must be at least 0 (got -3)"),
    ("bad-date", "p.yaml", b"tumour: {type: COADREAD}\nctdna: [{date: 2025-13-01}]\n",
     "p.yaml:2: ctdna[0].date: cannot read '2025-13-01': month must be in 1..12"),
    ("impossible-date", "p.yaml", b"tumour: {type: COADREAD}\nctdna: [{date: 2025-02-30}]\n",
     "p.yaml:2: ctdna[0].date: cannot read '2025-02-30'"),
    ("not-a-date", "p.yaml", b"tumour: {type: COADREAD}\nctdna: [{date: last week}]\n",
     "ctdna[0].date: 'last week' is not a date; write dates as YYYY-MM-DD"),
    ("duplicate-ctdna-date", "p.yaml",
     b"tumour: {type: COADREAD}\nctdna:\n  - {date: 2025-01-01}\n  - {date: 2025-01-01}\n",
     "two ctDNA draws share the date 2025-01-01"),
    ("duplicate-key", "p.yaml", b"tumour: {type: COADREAD}\ntumour: {type: HCC}\n",
     "p.yaml:2: duplicate key 'tumour'"),
    ("alias-bomb", "p.yaml", BOMB.encode(), "YAML aliases (*name) are not accepted"),
    ("deep-nesting", "p.yaml", b"tumour: " + b"[" * 60 + b"]" * 60 + b"\n",
     "nested more than 20 levels deep"),
    ("non-utf8", "p.yaml", "tumour: {type: côlon}\n".encode("latin-1"), "file is not UTF-8 text"),
    ("nul-bytes", "p.yaml", b"tumour:\x00 {type: COADREAD}\n", "NUL bytes"),
    ("oversize", "p.yaml", b"#" * (MAX_BYTES + 1), "larger than the 1,000,000-byte limit"),
    # YAML 1.1 scalars are text, and the numeric fields refuse text (issue 11, defect 5)
    ("yaml11-sexagesimal", "p.yaml", b"tumour: {type: COADREAD}\nbiomarkers: {tmb: 4:20}\n",
     "biomarkers.tmb: expected a number, got '4:20'"),
    ("yaml11-boolean-word", "p.yaml",
     b"tumour: {type: COADREAD}\nalterations: [{gene: KRAS, change: G12C, vaf: on}]\n",
     "alterations[0].vaf: expected a number, got 'on'"),
    ("yaml11-octal", "p.yaml", b"tumour: {type: COADREAD}\nbiomarkers: {pdl1_cps: 010}\n",
     "biomarkers.pdl1_cps: expected a number, got '010'"),
    ("yaml11-hex", "p.yaml",
     b"tumour: {type: COADREAD}\ntherapies: [{agents: [oxaliplatin], line: 0x10}]\n",
     "therapies[0].line: expected a whole number, got '0x10'"),
    ("epoch-date", "p.yaml", b"tumour: {type: COADREAD}\nctdna: [{date: 1735689600}]\n",
     "ctdna[0].date: 1735689600 is not a date; write dates as YYYY-MM-DD"),
    ("date-and-time", "p.yaml",
     b"tumour: {type: COADREAD}\nctdna: [{date: 2025-01-01 10:00:00}]\n",
     "ctdna[0].date: '2025-01-01 10:00:00' is not a date; write dates as YYYY-MM-DD"),
    ("deep-flow-nesting", "p.yaml", b"[" * 400 + b"]" * 400 + b"\n",
     "nested more than 20 levels deep"),
    ("deep-flow-nesting-unclosed", "p.yaml", b"tumour: " + b"[" * 5000 + b"\n",
     "nested more than 20 levels deep"),
    ("too-many-expression-entries", "p.yaml",
     b"tumour: {type: COADREAD}\nbiomarkers:\n  expression:\n"
     + b"".join(b"    G%d: high\n" % i for i in range(501)),
     "biomarkers.expression: 501 entries; at most 500 are accepted"),
    ("too-many-alterations", "p.yaml",
     b"tumour: {type: COADREAD}\nalterations:\n" + b"  - {gene: KRAS, change: G12C}\n" * 501,
     "alterations: too many entries: at most 500"),
]


@pytest.mark.parametrize(("name", "filename", "content", "message"), BAD_FILES,
                         ids=[b[0] for b in BAD_FILES])
def test_bad_file_exit_2_with_message(tmp_path: Path, name: str, filename: str, content: bytes,
                                      message: str) -> None:
    path = tmp_path / filename
    path.write_bytes(content)
    out = tmp_path / "report.txt"
    result = CliRunner().invoke(cli, ["evaluate", str(path), "--output", str(out)])
    assert result.exit_code == 2, result.output
    assert result.output.startswith("Error: ")
    assert message in result.output
    assert "Traceback" not in result.output
    assert not out.exists(), "nothing may be written for a bad input"


def test_bad_file_on_stdin(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["evaluate", "-"], input=b"tumour: {type: HCC}\nfoo: 1\n")
    assert result.exit_code == 2
    assert result.output.startswith("Error: <stdin>:2: foo: unknown key 'foo'")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(raw: bytes) -> None:
    import io

    from regimen.profile import load_profile

    with contextlib.suppress(InputError):
        load_profile(io.BytesIO(raw), VOCAB)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=2000))
def test_arbitrary_text(text: str) -> None:
    for source in ("fuzz.yaml", "fuzz.json"):
        with contextlib.suppress(InputError):
            profile_from_text(text, VOCAB, source)


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20)
    | st.sampled_from(["COADREAD", "KRAS", "G12C", "high", "PD", "2025-01-01", "oxaliplatin"]),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["tumour", "type", "gene", "change", "alterations",
                                       "biomarkers", "expression", "therapies", "agents",
                                       "ctdna", "date", "vaf", "tme", "response", "id",
                                       "tumour_fraction", "variants", "clinical"])
                      | st.text(max_size=8), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=400, deadline=None)
@given(JSONISH)
def test_arbitrary_structures(data: Any) -> None:
    from regimen.io.documents import Document

    with contextlib.suppress(InputError):
        profile_from_document(Document(data, {}, "<fuzz>"), VOCAB)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(["type", "stage", "histology", "x"]), JSONISH, max_size=3))
def test_arbitrary_tumour_sections(tumour: dict) -> None:
    from regimen.io.documents import Document

    with contextlib.suppress(InputError):
        profile_from_document(Document({"tumour": tumour}, {}, "<fuzz>"), VOCAB)


def test_parse_text_never_expands_aliases_even_when_small() -> None:
    with pytest.raises(InputError):
        parse_text("a: &x 1\nb: *x\n", "small.yaml")


PROFILE_MESSAGES: list[tuple[str, str]] = [
    ("ctdna: [{date: 12/03/2025}]",
     "ctdna[0].date: '12/03/2025' is not a date; write dates as YYYY-MM-DD"),
    ("alterations: [{gene: KRAS, change: G12C, vaf: 31}]",
     "alterations[0].vaf: VAF is a fraction between 0 and 1; 31 looks like a percentage, "
     "write 0.31"),
    ("alterations: [{gene: KRAS, change: G12C, vaf: -0.2}]",
     "alterations[0].vaf: VAF is a fraction between 0 and 1; got -0.2"),
    ("therapies: [{agents: [oxaliplatin], response: XX}]",
     "therapies[0].response: 'XX' is not allowed; allowed: CR, PR, SD, PD"),
    ("alterations: [{gene: KRAS, type: mutated}]",
     "alterations[0].type: 'mutated' is not allowed; allowed: mutation, amplification, loss, "
     "fusion, promoter-methylation, wild-type, overexpression"),
    ("biomarkers: {tme: [Immune Hott]}",
     "biomarkers.tme: unknown tumour-microenvironment term 'Immune Hott' (did you mean "
     "immune-hot? allowed: "),
    ("alterations: [{gene: KRAS, change: G12C, type: wild-type}]",
     "alterations[0]: change 'G12C' contradicts type 'wild-type': wild-type means no change "
     "was found; drop the change or the type"),
    ("alterations: [{gene: KRAS, change: 'Q??zz'}]",
     "alterations[0].change: change 'Q??zz' is not a recognised variant notation;"),
    ("therapies: [{agents: [Tecentriqq]}]",
     "therapies[0].agents: unknown agent 'Tecentriqq' (did you mean atezolizumab?)"),
    ("therapies: [{agents: [oxaliplatin], line: 0}]",
     "therapies[0].line: must be at least 1 (got 0)"),
    ("biomarkers: {afp: '400'}",
     "biomarkers.afp: expected a number, got '400' (str); write it as a plain decimal number, "
     "e.g. 0.25 or 12"),
    ("biomarkers: {her2_ihc: 4+}",
     "biomarkers.her2_ihc: '4+' is not allowed; allowed: 0, 1+, 2+, 3+"),
    ("ctdna: [{date: 1735689600}]",
     "ctdna[0].date: 1735689600 is not a date; write dates as YYYY-MM-DD"),
]


@pytest.mark.parametrize(("body", "message"), PROFILE_MESSAGES)
def test_profile_messages_are_exact(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(f"tumour: {{type: COADREAD}}\n{body}\n")
    result = CliRunner().invoke(cli, ["evaluate", str(path)])
    assert result.exit_code == 2, result.output
    assert f"p.yaml:2: {message}" in result.output
    assert ";;" not in result.output and "; ;" not in result.output and "?;" not in result.output
    assert "Input should" not in result.output


@pytest.mark.parametrize("name", ["p.txt", "-"])
def test_tab_indented_json_is_read_as_json(tmp_path: Path, name: str) -> None:
    text = b'{\n\t"tumour": {\n\t\t"type": "COADREAD"\n\t}\n}\n'
    if name == "-":
        result = CliRunner().invoke(cli, ["evaluate", "-", "-f", "json"], input=text)
    else:
        (tmp_path / name).write_bytes(text)
        result = CliRunner().invoke(cli, ["evaluate", str(tmp_path / name), "-f", "json"])
    assert result.exit_code == 0, result.output
    assert '"tumour": "COADREAD' in result.output or '"COADREAD' in result.output


def test_endless_device_is_read_only_up_to_the_limit() -> None:
    from regimen.io.documents import read_document

    with pytest.raises(InputError, match="larger than the 1,000,000-byte limit"):
        read_document(Path("/dev/zero"))


def test_closed_stdin_exit_2() -> None:
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-m", "regimen", "evaluate", "-"],
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
                          preexec_fn=lambda: __import__("os").close(0))
    assert done.returncode == 2, done.stderr
    assert "standard input is closed" in done.stderr
    assert "Traceback" not in done.stderr


YAML11 = st.sampled_from(["4:20", "1:30:00", "on", "off", "yes", "no", "y", "010", "0o10",
                          "0x1F", "0b101", "1_000", "1735689600", "2025-01-01T00:00:00",
                          ".inf", "-.nan", "True", "~"])


@settings(max_examples=100, deadline=None)
@given(YAML11, st.sampled_from(["vaf", "tmb", "pdl1_cps", "line", "date"]))
def test_yaml11_scalars_never_become_other_numbers(scalar: str, field: str) -> None:
    """A YAML 1.1 scalar is either refused or keeps the value it was written as."""
    where = {"vaf": "alterations: [{gene: KRAS, change: G12C, vaf: %s}]",
             "tmb": "biomarkers: {tmb: %s}", "pdl1_cps": "biomarkers: {pdl1_cps: %s}",
             "line": "therapies: [{agents: [oxaliplatin], line: %s}]",
             "date": "ctdna: [{date: %s}]"}[field]
    text = "tumour: {type: COADREAD}\n" + where % scalar + "\n"
    try:
        profile = profile_from_text(text, VOCAB, "p.yaml")
    except InputError:
        return
    assert scalar == "~", f"{field}: {scalar!r} was accepted as {profile!r}"
