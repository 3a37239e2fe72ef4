from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from regimen import Recommender
from regimen.evaluate.rank import tumour_match

CITE = {"source": "gi-resistance-2025", "refs": [30], "where": "3.1.3"}
ROOT = Path(__file__).resolve().parent.parent


def option(rule_id: str, agents: list[str], *, evidence: str = "phase-2",
           studied_in: list[str] | None = None, rechallenge: list[str] | None = None,
           when: list | None = None) -> dict:
    return {"id": rule_id, "stage": "option",
            "when": when or [{"tumour": ["GI"]}],
            "then": {"confidence": "moderate",
                     "option": {"id": rule_id.split(".")[1], "label": rule_id,
                                "agents": agents, "strategy": "s", "evidence": evidence,
                                "studied_in": studied_in or ["COADREAD"],
                                "rechallenge": rechallenge or []}},
            "cite": CITE}


def avoid(rule_id: str, agents: list[str]) -> dict:
    return {"id": rule_id, "stage": "avoid", "when": [{"tumour": ["GI"]}],
            "then": {"avoid": {"agents": agents, "reason": "because"}}, "cite": CITE}


@pytest.mark.parametrize(("patient", "studied", "level"), [
    ("COAD", ["COADREAD"], "exact"),
    ("COADREAD", ["READ"], "exact"),
    ("STAD", ["STAD"], "exact"),
    ("ESCC", ["STAD"], "same-organ"),
    ("HCC", ["GI"], "gi-general"),
    ("HCC", ["PAAD"], "other-gi"),
    ("PAAD", ["MEL"], "non-gi"),
    ("PAAD", ["MEL", "COADREAD"], "other-gi"),
    ("PAAD", ["SOLID"], "pan-tumour"),
    ("PAAD", ["SOLID", "MEL"], "pan-tumour"),
])
def test_tumour_match(kb, patient: str, studied: list[str], level: str) -> None:
    assert tumour_match(kb, patient, studied) == level


def test_avoided_agent_is_never_recommended(mini_kb) -> None:
    rec = Recommender(mini_kb([option("t.cetux", ["cetuximab"]),
                               option("t.pani", ["panitumumab"]),
                               option("t.venet", ["venetoclax"]),
                               avoid("t.no-anti-egfr", ["anti-egfr-antibody"])]))
    result = rec.evaluate({"tumour": {"type": "COAD"}})
    assert [r.id for r in result.recommendations] == ["venet"]
    assert sorted(d.id for d in result.dropped) == ["cetux", "pani"]
    assert "which this evaluation says to avoid" in result.dropped[0].reason


def test_progressed_agent_dropped_unless_rechallenge(mini_kb) -> None:
    rec = Recommender(mini_kb([
        option("t.plain", ["sorafenib"], studied_in=["HCC"]),
        option("t.reverse", ["sulfasalazine", "sorafenib"], studied_in=["HCC"],
               rechallenge=["sorafenib"]),
    ]))
    result = rec.evaluate({"tumour": {"type": "HCC"}, "therapies": [
        {"agents": ["sorafenib"], "start": "2025-01-01", "end": "2025-06-01", "response": "PD"}]})
    assert [r.id for r in result.recommendations] == ["reverse"]
    assert "progressed on sorafenib" in result.dropped[0].reason
    assert any("re-uses sorafenib" in c for c in result.recommendations[0].cautions)


def test_score_is_sum_of_parts_and_rank_follows_score(mini_kb) -> None:
    rec = Recommender(mini_kb([
        option("t.a", ["venetoclax"], evidence="phase-1-2", studied_in=["HCC"]),
        option("t.b", ["galunisertib"], evidence="phase-2", studied_in=["PAAD"]),
        option("t.c", ["sotorasib"], evidence="phase-3", studied_in=["COADREAD"]),
        option("t.d", ["tariquidar"], evidence="mechanistic", studied_in=["MEL"]),
    ]))
    result = rec.evaluate({"tumour": {"type": "COAD"},
                           "drug_sensitivity": [{"agent": "tariquidar", "result": "sensitive"}]})
    scores = [r.score for r in result.recommendations]
    assert scores == sorted(scores, reverse=True)
    assert [r.rank for r in result.recommendations] == [1, 2, 3, 4]
    for rec_ in result.recommendations:
        assert rec_.score == sum(rec_.score_breakdown.values())
    by_id = {r.id: r for r in result.recommendations}
    assert by_id["c"].score_breakdown["evidence"] == 45
    assert by_id["c"].tumour_match == "exact" and not by_id["c"].extrapolated
    assert by_id["d"].score_breakdown["organoid"] == 8
    assert by_id["d"].extrapolation.startswith("extrapolated from outside the GI tract")


def test_organoid_resistance_lowers_score(mini_kb) -> None:
    rec = Recommender(mini_kb([option("t.a", ["paclitaxel"])]))
    base = rec.evaluate({"tumour": {"type": "COAD"}}).recommendations[0]
    resistant = rec.evaluate({"tumour": {"type": "COAD"}, "drug_sensitivity": [
        {"agent": "paclitaxel", "result": "resistant"}]}).recommendations[0]
    assert resistant.score_breakdown["organoid"] == -12
    assert resistant.score_breakdown["cautions"] == -4
    assert resistant.score == base.score - 16


def test_ties_break_on_a_fixed_key(mini_kb) -> None:
    rec = Recommender(mini_kb([option("t.zeta", ["venetoclax"]),
                               option("t.alpha", ["tariquidar"])]))
    result = rec.evaluate({"tumour": {"type": "COAD"}})
    assert [r.id for r in result.recommendations] == ["alpha", "zeta"]


def test_json_is_byte_identical_across_runs_and_hash_seeds() -> None:
    profile = ROOT / "tests" / "data" / "issue_format.yaml"
    outputs = set()
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run([sys.executable, "-m", "regimen.cli", "evaluate", str(profile),
                              "--format", "json"], capture_output=True, env=env, check=True)
        outputs.add(out.stdout)
    assert len(outputs) == 1
    data = json.loads(outputs.pop())
    assert data["schema_version"] == 2


def test_backbone_blunted_by_unaddressed_mechanism_is_not_penalised(mini_kb) -> None:
    mech = {"id": "t.mech", "stage": "mechanism", "when": [{"tme": "hypoxic"}],
            "then": {"mechanism": "drug-efflux", "confidence": "low"}, "cite": CITE}
    with_backbone = option("t.withbackbone", ["venetoclax", "paclitaxel"])
    with_backbone["then"]["option"]["backbone"] = ["paclitaxel"]
    plain = option("t.plain", ["paclitaxel"])
    rec = Recommender(mini_kb([mech, with_backbone, plain]))
    result = rec.evaluate({"tumour": {"type": "COAD"}, "biomarkers": {"tme": ["hypoxic"]}})
    by_id = {r.id: r for r in result.recommendations}
    blunt = [c for c in by_id["plain"].cautions if "blunts" in c]
    assert blunt == ["active mechanism drug-efflux blunts paclitaxel"]
    assert not any("blunts" in c for c in by_id["withbackbone"].cautions)
