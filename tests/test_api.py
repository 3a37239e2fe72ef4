from __future__ import annotations

import datetime as dt
import io
import json
import threading
from pathlib import Path

from regimen import Recommender, Result
from regimen.profile import load_profile

DATA = Path(__file__).parent / "data"
PROFILE = DATA / "issue_format.yaml"


def test_evaluate_accepts_path_str_dict_model_stream(recommender, kb) -> None:
    expected = recommender.evaluate(PROFILE).to_json()
    assert recommender.evaluate(str(PROFILE)).to_json() == expected
    model = load_profile(PROFILE, kb.vocabulary)
    assert recommender.evaluate(model).to_json() == expected
    assert recommender.evaluate(model.model_dump(mode="json", exclude_none=True)).to_json() \
        == expected
    assert recommender.evaluate(io.BytesIO(PROFILE.read_bytes())).to_json() == expected


def test_result_to_dict_is_json_contract(recommender) -> None:
    result = recommender.evaluate(PROFILE)
    assert isinstance(result, Result)
    data = result.to_dict()
    assert json.loads(result.to_json()) == data
    for key in ("schema_version", "profile_id", "knowledge", "mechanisms", "recommendations",
                "avoid", "cautions", "suggested_tests", "trace"):
        assert key in data
    rec = data["recommendations"][0]
    for key in ("rank", "id", "label", "agents", "strategy", "evidence_level", "studied_in",
                "tumour_match", "score", "score_breakdown", "addresses", "citations",
                "cautions"):
        assert key in rec
    assert all(r["citations"] for r in data["recommendations"])


def test_as_of_uses_only_what_was_known(recommender) -> None:
    profile = {"tumour": {"type": "COADREAD"},
               "therapies": [{"agents": ["cetuximab"], "start": "2025-01-01",
                              "end": "2025-06-01", "response": "PD"}],
               "ctdna": [{"date": "2025-01-05", "tumour_fraction": 0.1},
                         {"date": "2025-05-01", "tumour_fraction": 0.2}]}
    early = recommender.evaluate(profile, as_of=dt.date(2025, 2, 1))
    assert early.as_of == dt.date(2025, 2, 1)
    assert early.patient.therapies[0].response is None
    assert early.patient.therapies[0].end is None
    assert early.ctdna.draws == 1
    late = recommender.evaluate(profile)
    assert late.patient.therapies[0].response == "PD"


def test_not_considered_lists_unused_genes_and_agents(recommender) -> None:
    result = recommender.evaluate({"tumour": {"type": "COADREAD"},
                                   "alterations": [{"gene": "ZNF217", "type": "amplification"}],
                                   "therapies": [{"agents": ["binimetinib"]}]})
    listed = {n.item: n.reason for n in result.not_considered}
    assert listed["ZNF217 amplification"] == "no rule reads ZNF217"
    assert "agent binimetinib" in listed


def test_not_considered_lists_descriptive_fields_no_rule_reads(recommender) -> None:
    result = recommender.evaluate({
        "tumour": {"type": "COADREAD", "stage": "II", "histology": "mucinous adenocarcinoma"},
        "therapies": [{"agents": ["FOLFOX"], "setting": "adjuvant", "best_response": "SD",
                       "response": "PD", "start": "2025-01-01", "end": "2025-06-01"}],
        "ctdna": [{"date": "2025-02-01", "assay": "Guardant360",
                   "variants": [{"gene": "KRAS", "change": "G12D", "vaf": 0.1}]}],
        "drug_sensitivity": [{"agent": "oxaliplatin", "result": "resistant",
                              "assay": "patient-derived organoid", "date": "2025-03-01"}],
        "clinical": {"ecog": 2}})
    listed = {n.item: n.reason for n in result.not_considered}
    assert listed["tumour stage II"].startswith("shown in the report; no rule reads the stage")
    assert listed["tumour histology mucinous adenocarcinoma"].startswith("no rule reads")
    assert listed["ctDNA assay Guardant360"] == "no rule reads the assay name"
    assert "organoid oxaliplatin: patient-derived organoid on 2025-03-01" in listed
    setting = [k for k in listed if k.startswith("therapy setting adjuvant (")]
    assert setting and "oxaliplatin" in setting[0]
    assert any(k.startswith("best response SD (") for k in listed)
    assert listed["ECOG 2"].startswith("no rule reads performance status")
    # nothing is listed when those fields are not given
    bare = recommender.evaluate({"tumour": {"type": "COADREAD"}})
    assert bare.not_considered == []


def test_threads_share_one_recommender(recommender) -> None:
    expected = recommender.evaluate(PROFILE).to_json()
    outputs: list[str] = []

    def work() -> None:
        outputs.append(recommender.evaluate(PROFILE).to_json())

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outputs == [expected] * 4


def test_custom_knowledge_directory(mini_kb) -> None:
    root = mini_kb([{"id": "t.only", "stage": "mechanism", "when": [{"tme": "hypoxic"}],
                     "then": {"mechanism": "drug-efflux", "confidence": "low"},
                     "cite": {"source": "gi-resistance-2025", "refs": [87], "where": "3.2.1"}}])
    rec = Recommender(root)
    assert len(rec.kb.rules) == 1
    result = rec.evaluate({"tumour": {"type": "STAD"}, "biomarkers": {"tme": ["hypoxic"]}})
    assert [m.id for m in result.mechanisms] == ["drug-efflux"]
    assert result.knowledge.rules == 1
