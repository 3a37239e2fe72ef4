from __future__ import annotations

import json

import html5lib
from click.testing import CliRunner

from regimen.cli import cli
from regimen.knowledge import Condition
from regimen.tools.summary import summarise_knowledge


def test_summary_lists_every_mechanism_and_option(kb) -> None:
    summary = summarise_knowledge(kb)
    assert {m.id for m in summary.mechanisms} == set(kb.mechanisms)
    listed = {o.id for m in summary.mechanisms for o in m.options} | {
        o.id for o in summary.other_options}
    assert listed == {r.option_id for r in kb.rules if r.stage == "option"}
    for mechanism in summary.mechanisms:
        assert mechanism.triggered_by, mechanism.id
        for option in mechanism.options:
            assert option.citations


def test_summary_for_a_tumour_orders_by_match(kb) -> None:
    summary = summarise_knowledge(kb, "HCC")
    for mechanism in summary.mechanisms:
        matches = [o.tumour_match for o in mechanism.options]
        order = ["exact", "same-organ", "gi-general", "pan-tumour", "other-gi", "non-gi"]
        assert [order.index(m) for m in matches] == sorted(order.index(m) for m in matches)


def test_describe_condition() -> None:
    cond = Condition.model_validate({"not": {"alteration": {"gene": ["KRAS", "NRAS"],
                                                            "type": "any"}}})
    assert cond.describe() == "not (KRAS/NRAS tested)"
    cond = Condition.model_validate({"therapy": {"class": "anti-egfr-antibody",
                                                 "response": "PD"}})
    assert cond.describe() == "prior therapy anti-egfr-antibody with response PD"


def test_summary_cli_formats(tmp_path) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["knowledge", "summary", "--tumour", "gastric", "-f", "json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["tumour"] == "STAD"
    page = tmp_path / "summary.html"
    result = runner.invoke(cli, ["knowledge", "summary", "-o", str(page)])
    assert result.exit_code == 0
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(page.read_text())
    bad = runner.invoke(cli, ["knowledge", "summary", "--tumour", "brain"])
    assert bad.exit_code == 2
    assert "--tumour: 'brain' (BRAIN, CNS/Brain) belongs to the CNS/Brain organ system" in \
        bad.output


def test_summary_lists_the_preferences_with_their_conditions(kb) -> None:
    summary = summarise_knowledge(kb, "COADREAD")
    rules = [r for r in kb.rules if r.stage == "preference"]
    assert [p.id for p in summary.preferences] == sorted(r.id for r in rules)
    msi = next(p for p in summary.preferences if p.id == "soc-crc.msi-h-checkpoint-blockade-first")
    assert msi.agents == ["anti-pd-1-pd-l1"]
    assert "msi = MSI-H" in msi.when[0] and "not (prior therapy anti-pd-1-pd-l1)" in msi.when[0]
    assert {c.source for c in msi.citations} == {"keynote-177", "checkmate-8hw",
                                                 "braf-msi-ici-meta-analysis-2021"}
    runner = CliRunner()
    for fmt, heading in (("txt", "ORDER OF STANDARD OPTIONS"),
                         ("md", "## Order of standard options"),
                         ("html", '<section id="preferences">')):
        out = runner.invoke(cli, ["knowledge", "summary", "--tumour", "COADREAD", "-f", fmt])
        assert out.exit_code == 0, out.output
        assert heading in out.output
