from __future__ import annotations

import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from regimen import Recommender
from regimen.cli import cli

distributed = pytest.importorskip(
    "distributed", reason="dask[distributed] is not installed: pip install 'regimen[dask]'")

ROOT = Path(__file__).resolve().parent.parent


def test_dask_cluster_output_is_byte_identical_to_local(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch,
                                                         recommender: Recommender) -> None:
    monkeypatch.setattr("regimen.cohort.command._recommender", lambda knowledge_dir: recommender)
    inputs = tmp_path / "in"
    inputs.mkdir()
    for path in sorted((ROOT / "examples").glob("*.yaml")):
        (inputs / path.name).write_bytes(path.read_bytes())
    (inputs / "zz-bad.yaml").write_text("tumour: {type: nowhere}\n")
    args = [str(inputs), "-f", "json", "-f", "md", "--quiet"]
    runner = CliRunner()
    local = runner.invoke(cli, ["batch", *args, "--out", str(tmp_path / "local"),
                                "--summary", str(tmp_path / "local.json")])
    assert local.exit_code == 2, local.output
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the cluster's own start-up notices
        with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster:
            monkeypatch.setenv("REGIMEN_DASK_SCHEDULER", cluster.scheduler_address)
            remote = runner.invoke(cli, ["batch", *args, "--out", str(tmp_path / "dask"),
                                         "--summary", str(tmp_path / "dask.json")])
            assert remote.exit_code == 2, remote.output
            # the partitions were really evaluated on the two workers
            with distributed.Client(cluster.scheduler_address) as client:
                plugins = client.run(lambda dask_worker: sorted(dask_worker.plugins))
    assert len(plugins) == 2
    assert all("regimen-recommender" in names for names in plugins.values())
    local_files = sorted(p.name for p in (tmp_path / "local").iterdir())
    assert local_files == sorted(p.name for p in (tmp_path / "dask").iterdir())
    assert "results.jsonl" in local_files and "EX-CRC-01.md" in local_files
    for name in local_files:
        assert (tmp_path / "dask" / name).read_bytes() == \
            (tmp_path / "local" / name).read_bytes(), name
    assert (tmp_path / "dask.json").read_bytes() == (tmp_path / "local.json").read_bytes()


def test_unreachable_scheduler_is_a_usage_error(recommender: Recommender) -> None:
    from regimen.cohort.batch import RenderTask
    from regimen.cohort.dask_backend import dask_mapper
    from regimen.errors import InputError

    run = dask_mapper("tcp://127.0.0.1:1", timeout="1s")
    with pytest.raises(InputError, match="cannot reach the Dask scheduler"):
        list(run(RenderTask(("json",)), [], recommender))
