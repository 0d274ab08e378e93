"""A run: plan -> execute -> run folder -> load and predict."""
import json

import numpy as np
import pandas as pd
import pytest

from core import RunPlan, execute, list_runs, load_run
from core.errors import DataError, HybridlabError
from core.run.store import COMPLETE

SMALL_DATA = {"name": "respiration-synthetic", "n": 40, "seed": 1}  # the small_resp fixture's data
SMALL = {"hidden": [16, 16], "activation": "tanh", "dropout": 0.0}


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    plan = RunPlan(model="respiration", data=SMALL_DATA, network=SMALL,
                   train={"optimizer": "adam", "lr": 0.01, "batch_size": 128, "epochs": 5, "patience": 5})
    out = tmp_path_factory.mktemp("runs") / "run"
    run = execute(plan, out=out)
    return run, out


def test_run_directory_has_all_files_and_metric_keys(saved):
    run, out = saved
    for name in ("plan.yaml", "config.json", "history.csv", "metrics.json", "predictions.parquet",
                 "parameters.parquet", "model.pt", COMPLETE):
        assert (out / name).is_file(), name
    m = json.loads((out / "metrics.json").read_text())
    assert {"model", "roles", "split", "seed", "epochs_run", "best_epoch", "train_seconds", "seconds_per_epoch",
            "targets", "mean_val_kge", "diagnostics", "parameter_recovery"} <= set(m)
    assert set(m["targets"]["reco"]["val"]) >= {"kge", "r", "alpha", "beta", "nse", "rmse", "n"}
    assert m["roles"] == {"rb": "neural", "q10": "global", "t_ref": "fixed"}
    assert set(m["parameter_recovery"]["rb"]) >= {"r", "rmse"}
    assert set(m["parameter_recovery"]["q10"]) == {"learned", "true", "rel_error"}
    hist = pd.read_csv(out / "history.csv")
    assert len(hist) == m["epochs_run"]
    pred = pd.read_parquet(out / "predictions.parquet")
    assert list(pred.columns) == ["id", "split", "reco_obs", "reco_pred"]
    assert set(pred["split"]) == {"train", "val"}
    par = pd.read_parquet(out / "parameters.parquet")
    assert list(par.columns) == ["id", "split", "rb", "q10", "t_ref"]
    assert list_runs(out.parent) == [out]
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no partial folder left


def test_config_names_the_model_and_no_code(saved):
    _, out = saved
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["name"] == "respiration" and "function" not in config["model"]
    assert RunPlan.from_dict(config["plan"]) == RunPlan.read(out)


def test_save_load_predict_gives_identical_predictions(saved, small_resp):
    run, out = saved
    loaded = load_run(out)
    assert loaded.plan == run.plan
    res = loaded.predict(small_resp.frame)
    assert np.array_equal(res["reco_pred"].to_numpy(), run.predictions["reco_pred"].to_numpy())
    assert np.array_equal(res["rb"].to_numpy(), run.parameters["rb"].to_numpy())
    with pytest.raises(DataError, match="lacks column.*temp"):
        loaded.predict(small_resp.frame.drop(columns=["temp"]))


def test_a_folder_without_the_completion_marker_is_refused(saved, tmp_path):
    import shutil
    _, out = saved
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / COMPLETE).unlink()
    with pytest.raises(HybridlabError, match="incomplete"):
        load_run(copy)
    with pytest.raises(HybridlabError, match="not a hybridlab run"):
        execute(RunPlan(data=SMALL_DATA, train={"epochs": 1}), out=copy)


def test_neural_network_run_round_trips(tmp_path, small_resp):
    plan = RunPlan(model="nn", data=SMALL_DATA, network=SMALL, train={"batch_size": 256, "epochs": 3, "patience": 3})
    run = execute(plan, out=tmp_path / "nn")
    assert run.metrics["model"] == "nn" and "parameter_recovery" not in run.metrics
    res = load_run(tmp_path / "nn").predict(small_resp.frame)
    assert np.array_equal(res["reco_pred"].to_numpy(), run.predictions["reco_pred"].to_numpy())


def test_target_missing_in_a_split_is_named(tmp_path, small_resp):
    frame = small_resp.frame.copy()
    frame.loc[:, "reco"] = np.nan
    frame.loc[:1, "reco"] = [1.0, 2.0]  # two observations, both from site 0
    frame.to_csv(tmp_path / "fluxes.csv", index=False)
    data = {"path": str(tmp_path / "fluxes.csv"),
            "columns": {"id": "site_id", "targets": {"reco": "reco"}, "forcing": {"temp": "temp"}}}
    with pytest.raises(DataError, match="target 'reco'.*in the (training|validation) split"):
        execute(RunPlan(data=data, train={"epochs": 1}))


@pytest.mark.slow
def test_respiration_example_recovers_the_truth():
    """Q10 within 5 %, Rb with r >= 0.95, with the model's recommended settings."""
    run = execute(RunPlan(model="respiration"))
    rec = run.metrics["parameter_recovery"]
    assert rec["q10"]["rel_error"] < 0.05
    assert rec["rb"]["r"] >= 0.95
    assert run.metrics["targets"]["reco"]["val"]["kge"] > 0.9
