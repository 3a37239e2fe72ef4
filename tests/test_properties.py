"""Safety invariants over generated profiles (hypothesis).

The generator spans every field and every vocabulary term the knowledge base
uses: tumour types, genes with the changes and types the rules name,
expression levels, TME and microbiome terms, therapy histories with
responses, ctDNA series, organoid results and clinical conditions.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
from typing import Any

import html5lib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from regimen import Recommender, load_knowledge
from regimen.evaluate.rank import TIERS
from regimen.knowledge import walk_conditions
from regimen.render import render

KB = load_knowledge()
REC = Recommender(KB)
VOCAB = KB.vocabulary

TUMOURS = sorted(c for c, t in VOCAB.tumours.items() if t.gi and t.parent is not None)
GENES = sorted(KB.used_genes() | {"SMAD4", "ZNF217"})
CHANGES: dict[str, list[str]] = {}
for _rule in KB.rules:
    for _cond in walk_conditions(_rule.when):
        for _spec in (_cond.alteration, _cond.ctdna):
            if _spec is not None and _spec.gene and _spec.change:
                for _gene in _spec.gene:
                    CHANGES.setdefault(_gene, []).extend(_spec.change)
CHANGES = {g: sorted(set(c)) for g, c in CHANGES.items()}
ALT_TYPES = ["mutation", "amplification", "loss", "fusion", "promoter-methylation", "wild-type"]
AGENTS = sorted(KB.agents)
DRUGS = sorted(a.id for a in KB.agents.values() if a.kind == "drug")
HOSTILE_TEXT = st.sampled_from(['<script>alert(1)</script>', 'A & B "quoted"', "O'Brien <b>",
                                "TB-1", "plain", "</title><img src=x>"])

EXAMPLES = int(os.environ.get("REGIMEN_PROPERTY_EXAMPLES", "40"))
settings.register_profile("regimen", deadline=None, max_examples=EXAMPLES,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("regimen")


@st.composite
def alterations(draw: Any) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for gene in draw(st.lists(st.sampled_from(GENES), max_size=6, unique=True)):
        if gene in CHANGES and draw(st.booleans()):
            entry: dict[str, Any] = {"gene": gene, "change": draw(st.sampled_from(CHANGES[gene]))}
        else:
            entry = {"gene": gene, "type": draw(st.sampled_from(ALT_TYPES))}
        if draw(st.booleans()):
            entry["vaf"] = draw(st.floats(0, 1))
        if draw(st.integers(0, 4)) == 0:
            entry["origin"] = "germline"
        out[gene] = entry
    return list(out.values())


DATES = st.dates(dt.date(2023, 1, 1), dt.date(2026, 6, 30))


@st.composite
def therapies(draw: Any) -> list[dict[str, Any]]:
    lines = []
    for _ in range(draw(st.integers(0, 3))):
        start = draw(DATES)
        line: dict[str, Any] = {
            "agents": draw(st.lists(st.sampled_from(AGENTS), min_size=1, max_size=3, unique=True)),
            "start": start.isoformat(),
        }
        if draw(st.booleans()):
            line["end"] = (start + dt.timedelta(days=draw(st.integers(0, 400)))).isoformat()
            line["response"] = draw(st.sampled_from(VOCAB.responses))
        lines.append(line)
    return lines


@st.composite
def ctdna(draw: Any) -> list[dict[str, Any]]:
    dates = draw(st.lists(DATES, max_size=5, unique=True))
    draws = []
    for date in dates:
        entry: dict[str, Any] = {"date": date.isoformat()}
        if draw(st.booleans()):
            entry["tumour_fraction"] = draw(st.floats(0, 0.5))
        variants = {}
        for gene in draw(st.lists(st.sampled_from(sorted(CHANGES) or GENES), max_size=3,
                                  unique=True)):
            change = draw(st.sampled_from(CHANGES[gene])) if gene in CHANGES else None
            variants[gene] = {"gene": gene, "vaf": draw(st.floats(0, 0.3)),
                              **({"change": change} if change else {})}
        entry["variants"] = list(variants.values())
        draws.append(entry)
    return draws


@st.composite
def profiles(draw: Any) -> dict[str, Any]:
    profile: dict[str, Any] = {
        "id": draw(HOSTILE_TEXT),
        "tumour": {"type": draw(st.sampled_from(TUMOURS)), "stage": draw(HOSTILE_TEXT)},
        "alterations": draw(alterations()),
        "biomarkers": {
            "msi": draw(st.sampled_from([*VOCAB.msi_values, None])),
            "tmb": draw(st.one_of(st.none(), st.floats(0, 100))),
            "pdl1_cps": draw(st.one_of(st.none(), st.floats(0, 100))),
            "expression": draw(st.dictionaries(st.sampled_from(GENES),
                                               st.sampled_from(VOCAB.levels), max_size=6)),
            "tme": draw(st.lists(st.sampled_from(sorted(VOCAB.tme)), max_size=4, unique=True)),
            "microbiome": draw(st.dictionaries(st.sampled_from(sorted(VOCAB.microbiome)),
                                               st.sampled_from(VOCAB.microbiome_levels))),
            "afp": draw(st.one_of(st.none(), st.floats(0, 5000))),
            "her2_ihc": draw(st.sampled_from([None, "0", "1+", "2+", "3+"])),
            "her2_status": draw(st.sampled_from([None, "positive", "negative"])),
            "cldn18_2": draw(st.sampled_from([None, "positive", "negative"])),
        },
        "therapies": draw(therapies()),
        "ctdna": draw(ctdna()),
        "drug_sensitivity": [
            {"agent": a, "result": draw(st.sampled_from(VOCAB.sensitivity_results))}
            for a in draw(st.lists(st.sampled_from(DRUGS), max_size=3, unique=True))],
        "clinical": {"conditions": draw(st.lists(st.sampled_from(sorted(VOCAB.conditions)),
                                                 max_size=2, unique=True))},
    }
    profile["biomarkers"] = {k: v for k, v in profile["biomarkers"].items() if v is not None}
    return profile


def shuffled(profile: dict[str, Any], seed: int) -> dict[str, Any]:
    rnd = random.Random(seed)
    copy = json.loads(json.dumps(profile))
    for key in ("alterations", "therapies", "ctdna", "drug_sensitivity"):
        rnd.shuffle(copy[key])
    for therapy in copy["therapies"]:
        rnd.shuffle(therapy["agents"])
    for draw_ in copy["ctdna"]:
        rnd.shuffle(draw_["variants"])
    markers = copy["biomarkers"]
    rnd.shuffle(markers["tme"])
    for key in ("expression", "microbiome"):
        items = list(markers[key].items())
        rnd.shuffle(items)
        markers[key] = dict(items)
    rnd.shuffle(copy["clinical"]["conditions"])
    return copy


def blocked(agent: str, avoided: set[str]) -> bool:
    return agent in avoided or any(c in avoided for c in KB.classes_of(agent))


@given(profiles())
def test_evaluation_invariants(profile: dict[str, Any]) -> None:
    result = REC.evaluate(profile)

    # every recommendation, avoid and caution cites a source, with real reference numbers
    for item in [*result.recommendations, *result.avoid, *result.cautions]:
        assert item.citations, item
        for cite in item.citations:
            source = KB.sources[cite.source]
            if not source.is_review:
                assert not cite.refs  # a trial or approval: no numbered reference list
                continue
            for ref in cite.refs:
                assert 1 <= ref <= source.max_ref
                if source.has_reference_list:
                    assert ref in source.references

    # nothing is both recommended and avoided (an avoid does not block an option that holds
    # one of its except_with agents or classes: the approved combination lifts it)
    for rec in result.recommendations:
        present = set(rec.agents) | {c for a in rec.agents for c in KB.classes_of(a)}
        for item in result.avoid:
            if present & KB.expand(item.except_with):
                continue
            avoided = KB.expand(item.agents)
            assert not any(blocked(a, avoided) for a in rec.agents), (rec.id, item.id)

    # nothing the tumour progressed on is recommended, unless deliberately re-used
    progressed = {a for t in result.patient.therapies if t.response == "PD" for a in t.agents}
    for rec in result.recommendations:
        for agent in set(rec.agents) & progressed:
            rule = KB.rules_by_id[rec.rules[0]]
            assert agent in rule.then.option.rechallenge, (rec.id, agent)
            assert any(f"re-uses {agent}" in c for c in rec.cautions)

    # rank follows tier, then score; score is the sum of its shown parts and never below zero
    keys = [(TIERS.index(r.tier), -r.score) for r in result.recommendations]
    assert keys == sorted(keys)
    assert [r.rank for r in result.recommendations] == list(range(1, len(keys) + 1))
    for rec in result.recommendations:
        assert rec.score == sum(rec.score_breakdown.values())
        assert rec.score >= 0, rec.id

    # no investigational (or trial-stage) option is ever above an applicable standard one
    tiers = [r.tier for r in result.recommendations]
    if "standard" in tiers:
        last_standard = max(i for i, t in enumerate(tiers) if t == "standard")
        assert all(t == "standard" for t in tiers[:last_standard + 1]), tiers
    assert [o.id for o in result.summary.standard] == [
        r.id for r in result.recommendations if r.tier == "standard"][:3]

    # deterministic, and independent of the order of the input's lists
    text = result.to_json()
    assert REC.evaluate(profile).to_json() == text
    assert REC.evaluate(shuffled(profile, 1)).to_json() == text


@given(profiles())
@settings(max_examples=15)
def test_every_format_renders_and_html_escapes_user_text(profile: dict[str, Any]) -> None:
    result = REC.evaluate(profile)
    for fmt in ("txt", "md", "json"):
        assert render(result, fmt)
    page = render(result, "html")
    html5lib.HTMLParser(strict=True, namespaceHTMLElements=False).parse(page)
    for text in (profile["id"], profile["tumour"]["stage"]):
        if any(ch in text for ch in "<>&"):
            assert text not in page
    assert "<script" not in page.lower()


@st.composite
def sparse_ctdna(draw: Any) -> list[dict[str, Any]]:
    """Draws that list arbitrary subsets of a pool of variants (new ones included)."""
    pool = [(gene, f"R{i + 1}W") for i, gene in enumerate(draw(st.lists(
        st.sampled_from(["TP53", "APC", "KRAS", "NRAS", "EGFR"]), min_size=1, max_size=12)))]
    out = []
    start = dt.date(2024, 1, 1)
    for i in range(draw(st.integers(1, 25))):
        listed = draw(st.lists(st.sampled_from(pool), unique=True, max_size=len(pool)))
        out.append({"date": (start + dt.timedelta(days=14 * i)).isoformat(),
                    "lod": draw(st.sampled_from([None, 0, 0.001])),
                    "tumour_fraction": draw(st.none() | st.sampled_from([0.0, 0.001, 0.05])),
                    "variants": [{"gene": g, "change": c,
                                  "vaf": draw(st.sampled_from([0.0, 0.0005, 0.01, 0.2]))}
                                 for g, c in listed]})
    return out


@given(sparse_ctdna())
def test_ctdna_output_is_linear_in_the_readings(draws: list[dict[str, Any]]) -> None:
    """Series points never exceed readings + variants + draws; events never copy series."""
    from regimen.evaluate.ctdna import derive_events, series
    from regimen.profile import Profile

    profile = Profile.model_validate({"tumour": {"type": "COADREAD"}, "ctdna": draws},
                                     context={"vocab": VOCAB})
    readings = sum(len(d.variants) for d in profile.ctdna)
    tracked = len({(v.gene, v.change) for d in profile.ctdna for v in d.variants})
    points = sum(len(s.points) for s in series(profile.ctdna, profile.settings.ctdna))
    assert points <= readings + tracked + len(profile.ctdna)
    events = derive_events(profile.ctdna, [], profile.settings.ctdna)
    assert len(events) <= tracked + len(profile.ctdna) + 3  # clearance/reappearance cycles
    for event in events:
        assert len(event.model_dump_json()) < 2000
    # detection is explicit with a limit of 0: a reading of exactly 0 is never detected
    for e in events:
        if e.event == "emergent-variant":
            assert e.value is None or e.value > 0


CONTROL = st.sampled_from(["\n", "\r", "\t", "\x1b", "\x07", "\x00", "\x7f", "\x85", "\u202e",
                           "\u2066", "\u2028"])


@given(st.text(max_size=20), CONTROL, st.text(max_size=20))
def test_control_characters_never_reach_a_report(before: str, control: str, after: str) -> None:
    from regimen.errors import ProfileError

    try:
        REC.evaluate({"id": (before + control + after)[:100], "tumour": {"type": "COADREAD"}})
    except ProfileError as exc:
        assert "control character" in str(exc) or "NUL" in str(exc)
    else:  # pragma: no cover - must not happen
        raise AssertionError("a control character was accepted")


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=60))
def test_markdown_rows_cannot_be_broken_by_user_text(stage: str) -> None:
    import contextlib

    from regimen.errors import ProfileError

    with contextlib.suppress(ProfileError):
        page = render(REC.evaluate({"id": "md", "tumour": {"type": "COADREAD", "stage": stage}}),
                      "md")
        rows = [line for line in page.splitlines() if line.startswith("| Tumour")]
        assert len(rows) == 1 and rows[0].count(" | ") == 1
        assert "<" not in rows[0] and "](" not in rows[0].replace("\\]", "")
