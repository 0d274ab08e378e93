"""Sweep plans: expansion into tasks, YAML, flags, and the errors for bad sweeps (no cluster needed)."""
import pandas as pd
import pytest

from core.cli import main
from core.errors import HybridlabError
from core.sweep import SweepPlan
from core.sweep.results import summarize
from core.sweep.task import metrics_row

BASE = {"model": "respiration", "data": {"name": "respiration-synthetic", "n": 30}, "train": {"epochs": 2}}


def test_configurations_seeds_and_folds_expand_to_every_combination():
    sweep = SweepPlan(BASE, {"global": {"roles": "all_global"}, "rb": {"roles": {"rb": "neural"}}},
                      seeds=[0, 1, 2], folds=3)
    tasks = sweep.tasks()
    assert len(tasks) == 2 * 3 * 3
    assert len({t.name for t in tasks}) == len(tasks)
    first = tasks[0]
    assert first.axes == {"configuration": "global", "seed": 0, "split": "kfold", "fold": 0}
    assert first.plan["split"] == {"kind": "kfold", "val_fraction": 0.2, "column": "temp", "folds": 3, "fold": 0,
                                  "calibration": 0.0}
    assert first.plan["train"]["seed"] == 0 and first.plan["roles"] == "all_global"
    folds = sorted(t.plan["split"]["fold"] for t in tasks if t.axes["configuration"] == "rb" and t.axes["seed"] == 2)
    assert folds == [0, 1, 2]


def test_grid_and_splits_are_axes_and_part_of_the_configuration_label():
    sweep = SweepPlan(BASE, seeds=[0], splits=["site", "temperature"],
                      grid={"lr": [0.01, 0.001], "network.hidden": [[8], [16, 8]]})
    tasks = sweep.tasks()
    assert len(tasks) == 2 * 2 * 2
    labels = {t.axes["configuration"] for t in tasks}
    assert "base-split=temperature-lr=0.001-hidden=16x8" in labels
    task = next(t for t in tasks if t.axes["configuration"] == "base-split=temperature-lr=0.001-hidden=16x8")
    assert task.plan["train"]["lr"] == 0.001 and task.plan["network"]["hidden"] == [16, 8]
    assert task.plan["split"]["kind"] == "temperature"


def test_sweep_plan_round_trips_through_yaml(tmp_path):
    sweep = SweepPlan(BASE, {"nn": {"model": "nn", "roles": None}, "default": {}}, seeds=[3, 4], grid={"lr": [0.1]})
    path = tmp_path / "sweep.yaml"
    path.write_text(sweep.to_yaml())
    again = SweepPlan.read(path)
    assert again.to_dict() == sweep.to_dict()
    assert [t.plan for t in again.tasks()] == [t.plan for t in sweep.tasks()]
    assert again.tasks()[0].plan["model"] == "nn"


@pytest.mark.parametrize("changes,message", [
    (dict(seeds=[0, 0]), "seeds repeat"),
    (dict(seeds=[]), "non-empty list"),
    (dict(seeds=[-1]), "seed"),
    (dict(folds=1), "folds"),
    (dict(folds=3, splits=["temperature"]), "folds run a k-fold split"),
    (dict(grid={"nonsense.lr": [1]}), "BLOCK one of"),
    (dict(grid={"lr": 0.1}), "non-empty list"),
    (dict(grid={"lr": [-1.0]}), "sweep configuration 'base'"),
    (dict(configurations={"x": {"roles": "no_such_preset"}}), "unknown preset 'no_such_preset'"),
    (dict(configurations={"x": "five_neural"}), "changes must be a mapping"),
])
def test_bad_sweeps_are_named_before_anything_runs(changes, message):
    with pytest.raises(HybridlabError, match=message):
        SweepPlan(**{"base": BASE, **changes})


def test_unknown_keys_and_bad_files_are_named(tmp_path):
    with pytest.raises(HybridlabError, match="seedz"):
        SweepPlan.from_dict({"base": BASE, "seedz": [1]})
    bad = tmp_path / "bad.yaml"
    bad.write_text("base: [unclosed")
    with pytest.raises(HybridlabError, match="bad.yaml: not valid YAML"):
        SweepPlan.read(bad)
    with pytest.raises(HybridlabError, match="no such sweep plan"):
        SweepPlan.read(tmp_path / "missing.yaml")


def test_flags_stand_for_a_sweep(capsys):
    assert main(["sweep", "--model", "respiration,nn", "--roles", "all_global,default", "--seeds", "2",
                 "--folds", "3", "--grid", "lr=0.01,0.001", "--n-sites", "30", "--dump-plan"]) == 0
    sweep = SweepPlan.from_dict(__import__("yaml").safe_load(capsys.readouterr().out))
    assert list(sweep.configurations) == ["respiration-all_global", "respiration-default", "nn"]
    assert sweep.seeds == [0, 1] and sweep.folds == 3 and sweep.grid == {"lr": [0.01, 0.001]}
    assert len(sweep.tasks()) == 3 * 2 * 3 * 2


@pytest.mark.parametrize("args,message", [
    (["--seeds", "0"], "--seeds must be at least 1"),
    (["--roles", "{bad json"], "--roles: invalid JSON"),
    (["--grid", "lr"], "--grid expects SETTING=V1,V2"),
    (["--plan", "x.yaml", "--epochs", "3"], "--plan describes the whole sweep"),
    (["--workers", "0"], "--workers must be at least 1"),
    (["--workers", "100000"], "--workers must be at most"),  # refused before 100,000 nannies start
    (["--threads-per-worker", "100000"], "--threads-per-worker must be at most"),
])
def test_bad_sweep_flags_give_one_line_and_exit_2(tmp_path, capsys, args, message):
    assert main(["sweep", "--model", "respiration", "--n-sites", "30", "--out", str(tmp_path / "s"), *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err
    assert not (tmp_path / "s").exists()  # nothing written for a refused sweep


def test_out_with_foreign_files_is_refused_before_any_run(tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert main(["sweep", "--model", "respiration", "--n-sites", "30", "--out", str(tmp_path)]) == 2
    assert "not a hybridlab sweep" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_summary_gives_mean_and_sample_sd_and_lists_failures():
    rows = [{"name": f"a{s}", "configuration": "a", "seed": s, "status": "finished", "error": "",
             "mean_val_kge": v, "val_kge_reco": v, "train_kge_reco": v} for s, v in enumerate([0.5, 0.7])]
    rows += [{"name": "b0", "configuration": "b", "seed": 0, "status": "failed", "error": "boom"}]
    summary = summarize(pd.DataFrame(rows))
    a = summary["configurations"]["a"]
    assert a["mean_val_kge"]["mean"] == pytest.approx(0.6)
    assert a["mean_val_kge"]["sd"] == pytest.approx(0.1414213, abs=1e-6)
    assert a["targets"]["reco"]["val_kge"]["n"] == 2
    assert summary["finished"] == 2 and summary["failed"] == 1
    assert summary["failures"] == [{"name": "b0", "error": "boom"}]


def test_metrics_row_flattens_targets_and_recovery():
    metrics = {"mean_val_kge": 0.8, "epochs_run": 3, "best_epoch": 2, "train_seconds": 1.0,
               "targets": {"reco": {"train": {"kge": 0.9, "r": 0.95}, "val": {"kge": 0.8, "r": float("nan")}}},
               "parameter_recovery": {"rb": {"r": 0.9, "r_val": 0.85}, "q10": {"learned": 1.4, "true": 1.5}}}
    row = metrics_row(metrics)
    assert row["val_kge_reco"] == 0.8 and row["train_r_reco"] == 0.95 and row["val_r_reco"] is None
    assert row["recovery_r_rb"] == 0.9 and row["recovery_r_val_rb"] == 0.85
    assert row["learned_q10"] == 1.4 and row["true_q10"] == 1.5
