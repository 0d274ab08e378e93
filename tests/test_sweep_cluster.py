"""Sweeps on real Dask clusters: an embedded LocalCluster, and `dask scheduler` with `dask worker`
subprocesses (one of them killed mid-sweep); resume after an interrupt; same metrics as in-process."""
import json
import signal
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from cluster_support import ENV
from cluster_support import wait_for as _wait
from core.cli import main
from core.datasets import load_data
from core.run.loaded import load_run

pytestmark = pytest.mark.slow

SMALL = ["--model", "respiration", "--n-sites", "40", "--epochs", "4"]


def _cli(*args, **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "core", *args], env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, **kwargs)


def test_sweep_on_external_scheduler_writes_rows_runs_and_summary(tmp_path, dask_cluster):
    address, _ = dask_cluster
    out = tmp_path / "sweep"
    code = main(["sweep", *SMALL, "--roles", "all_global,default", "--seeds", "2", "--pack-seeds", "--scheduler", address,
                 "--out", str(out), "--quiet"])
    assert code == 0
    table = pd.read_parquet(out / "sweep.parquet")
    assert len(table) == 4 and set(table["status"]) == {"finished"}
    assert set(table["configuration"]) == {"all_global", "default"} and sorted(set(table["seed"])) == [0, 1]
    assert {"val_kge_reco", "train_kge_reco", "duration_s", "worker", "epochs", "error"} <= set(table.columns)
    assert table["worker"].str.startswith("tcp://").all()
    assert "recovery_r_rb" in table and table.loc[table["configuration"] == "default", "recovery_r_rb"].notna().all()
    soil = load_data("respiration-synthetic", n=40).frame.head(5)
    # each configuration's two seeds trained as one ensemble run: predict gives their mean and sd
    assert sorted(set(table["run"])) == ["all_global__seeds0-1", "default__seeds0-1"]
    for name in set(table["run"]):
        predicted = load_run(out / "runs" / name).predict(soil)
        assert len(predicted) == 5 and predicted["reco_pred"].notna().all() and (predicted["reco_sd"] >= 0).all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["configurations"]["default"]["mean_val_kge"]["n"] == 2
    assert "± " in (out / "summary.md").read_text()
    assert (out / "summary.png").read_bytes()[:4] == b"\x89PNG"


def test_a_worker_killed_mid_sweep_loses_no_run(tmp_path, dask_cluster):
    address, workers = dask_cluster
    out = tmp_path / "sweep"
    sweep = _cli("sweep", "--model", "respiration", "--n-sites", "150", "--epochs", "40", "--patience", "1000",
                 "--seeds", "6", "--scheduler", address, "--out", str(out))
    _wait(lambda: sum(1 for _ in out.glob("runs/.*partial*")) or any((out / "runs").glob("*/.complete"))
          if (out / "runs").is_dir() else False, 120, "the first run to start writing")
    workers[0].kill()
    output, _ = sweep.communicate(timeout=300)
    assert sweep.returncode == 0, output
    table = pd.read_parquet(out / "sweep.parquet")
    assert len(table) == 6 and (table["status"] == "finished").all(), table[["name", "status", "error"]]
    assert len(list((out / "runs").glob("*/.complete"))) == 6


def test_interrupted_sweep_resumes_without_training_finished_runs_again(tmp_path):
    out = tmp_path / "sweep"
    args = ["sweep", "--model", "respiration", "--n-sites", "100", "--epochs", "60", "--patience", "1000",
            "--seeds", "5", "--workers", "1", "--out", str(out)]
    first = _cli(*args)
    _wait(lambda: len(list(out.glob("runs/*/.complete"))) >= 2, 240, "two finished runs")
    first.send_signal(signal.SIGINT)
    output, _ = first.communicate(timeout=120)
    assert first.returncode == 130, output
    assert "run the same command again to resume" in output
    finished = {p.parent.name: p.stat().st_mtime_ns for p in out.glob("runs/*/.complete")}
    assert 2 <= len(finished) < 5
    # rows of runs that finished before the interrupt; a run that ended during it has its folder
    assert set(pd.read_parquet(out / "sweep.parquet")["name"]) <= set(finished)
    second = _cli(*args)
    output, _ = second.communicate(timeout=300)
    assert second.returncode == 0, output
    assert f"{len(finished)} finished before" in output
    for name, mtime in finished.items():
        assert (out / "runs" / name / ".complete").stat().st_mtime_ns == mtime, f"{name} was trained again"
    table = pd.read_parquet(out / "sweep.parquet")
    assert len(table) == 5 and table["name"].is_unique and (table["status"] == "finished").all()


def test_same_plan_and_seed_give_the_same_metrics_in_process_and_on_a_worker(tmp_path):
    import torch

    from core.run.execute import execute
    from core.sweep import ExecutorOptions, SweepPlan, run_sweep

    plan = {"model": "respiration", "data": {"name": "respiration-synthetic", "n": 40}, "train": {"epochs": 6}}
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        local = execute({**plan, "train": {"epochs": 6, "seed": 3}}).metrics
    finally:
        torch.set_num_threads(threads)
    options = ExecutorOptions(workers=1, torch_threads=1)  # one thread, as in process: the same summation order
    outcome = run_sweep(SweepPlan(plan, seeds=[3]), tmp_path / "sweep", options=options)
    row = outcome.table.iloc[0]
    assert row["status"] == "finished"
    assert row["mean_val_kge"] == pytest.approx(local["mean_val_kge"], abs=1e-6)
    for split in ("train", "val"):
        for part in ("kge", "r", "alpha", "beta", "rmse"):
            assert row[f"{split}_{part}_reco"] == pytest.approx(local["targets"]["reco"][split][part], abs=1e-6)


def test_user_csv_with_column_map_sweeps_and_a_failing_configuration_is_recorded(tmp_path, capsys):
    frame = load_data("respiration-synthetic", n=40, seed=2).frame
    frame = frame.rename(columns={"reco": "R_eco", "temp": "air_temp", "site_id": "plot"})
    path = tmp_path / "my_fluxes.csv"
    frame.to_csv(path, index=False)
    mapping = {"id": "plot", "predictors": ["moisture", "soil_n", "clay", "elev"], "forcing": {"temp": "air_temp"},
               "targets": {"reco": "R_eco"}}
    base = {"model": "respiration", "data": {"path": str(path), "columns": mapping}, "train": {"epochs": 3}}
    plan_file = tmp_path / "sweep.yaml"
    plan_file.write_text(yaml.safe_dump({
        "base": base, "seeds": [0, 1],
        "configurations": {"default": {}, "broken": {"split": {"kind": "temperature", "column": "no_such_column"}}}}))
    out = tmp_path / "sweep"
    code = main(["sweep", "--plan", str(plan_file), "--workers", "2", "--out", str(out), "--quiet"])
    assert code == 1
    err = capsys.readouterr().err
    assert "failed: broken__seed0: temperature split: column 'no_such_column' not found" in err
    table = pd.read_parquet(out / "sweep.parquet")
    assert (table.loc[table["configuration"] == "default", "status"] == "finished").all()
    assert (table.loc[table["configuration"] == "broken", "status"] == "failed").all()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["failed"] == 2 and summary["configurations"]["default"]["finished"] == 2
    assert "## Failed runs" in (out / "summary.md").read_text()
