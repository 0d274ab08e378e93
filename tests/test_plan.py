"""The run plan: plain data, validated in one place, round trips through dict, JSON and YAML."""
import json
import os
import subprocess
import sys

import pytest

from core import RunPlan, execute
from core.cli import main
from core.errors import HybridlabError


def test_plan_round_trips_through_dict_json_and_yaml():
    plan = RunPlan(model="soc", roles="all_global", data={"name": "lucas-synthetic", "n": 300, "seed": 2},
                   bounds={"q_max": [5, 150]}, fixed={"in_frac": 0.4}, options={"feasibility_weight": 0},
                   targets=["soc", "moc"], split={"kind": "kfold", "folds": 4, "fold": 1},
                   train={"epochs": 3})
    assert RunPlan.from_dict(plan.to_dict()) == plan
    assert RunPlan.from_dict(json.loads(json.dumps(plan.to_dict()))) == plan
    assert RunPlan.from_text(plan.to_yaml()) == plan
    ps = plan.parameter_set()
    assert ps["q_max"].upper == 150 and ps["in_frac"].role == "fixed" and ps["in_frac"].fixed_value == 0.4


def test_left_out_settings_take_the_model_recommendations():
    plan = RunPlan.from_text("model: respiration\ntrain: {epochs: 7}\n")
    assert (plan.train.epochs, plan.train.batch_size, plan.train.optimizer) == (7, 256, "adam")
    assert plan.network.hidden == (32, 32) and plan.data.name == "respiration-synthetic"
    assert RunPlan(model="soc").train.batch_size == 2048  # the report's


@pytest.mark.parametrize("values,message", [
    ({"model": "soil9"}, "unknown model 'soil9'"),
    ({}, "'model' is required"),
    ({"model": "respiration", "epochs": 3}, "unknown key(s) 'epochs'"),
    ({"model": "respiration", "train": {"epoch": 3}}, "train: unknown key(s) 'epoch'"),
    ({"model": "respiration", "train": {"epochs": 0}}, "epochs must be at least 1"),
    ({"model": "respiration", "train": {"lr": "fast"}}, "learning rate must be a finite number"),
    ({"model": "respiration", "roles": {"qten": "neural"}}, "unknown parameter 'qten'"),
    ({"model": "respiration", "fixed": {"q10": 9}}, "fixed value 9 lies outside"),
    ({"model": "respiration", "bounds": {"q10": [3]}}, "bounds of 'q10' must be [lower, upper]"),
    ({"model": "respiration", "options": {"x_cap": 0.5}}, "has no option 'x_cap'"),
    ({"model": "soc", "options": {"feasibility_weight": "high"}}, "option 'feasibility_weight' must be a finite"),
    ({"model": "respiration", "data": {"name": "nowhere"}}, "unknown built-in data 'nowhere'"),
    ({"model": "respiration", "data": {"path": "a.csv"}}, "needs a column map"),
    ({"model": "respiration", "data": {"name": "respiration-synthetic", "n": -5}}, "n must be at least 2"),
    ({"model": "respiration", "split": {"kind": "random"}}, "unknown split 'random'"),
    ({"model": "respiration", "network": {"hidden": "8,x"}}, "hidden layer sizes"),
    ({"model": "nn"}, "has no built-in data"),
    ({"model": "nn", "data": {"name": "respiration-synthetic"}, "roles": "default"}, "no mechanistic parameters"),
])
def test_bad_plans_are_named_in_one_line(values, message):
    with pytest.raises(HybridlabError) as error:
        RunPlan.from_dict(values)
    assert message in str(error.value) and "\n" not in str(error.value)


def test_a_plan_crosses_a_process_boundary_as_a_dict(small_resp):
    plan = RunPlan(data={"name": "respiration-synthetic", "n": 40, "seed": 1}, network={"hidden": [8]},
                   train={"epochs": 2})
    assert execute(plan.to_dict()).metrics["targets"] == execute(plan).metrics["targets"]


def _val_kge(folder) -> float:
    return json.loads((folder / "metrics.json").read_text())["targets"]["reco"]["val"]["kge"]


@pytest.mark.slow
def test_dump_config_run_in_a_fresh_process_reproduces_the_flags(tmp_path, capsys):
    flags = ["--model", "respiration", "--n-sites", "30", "--epochs", "6", "--hidden", "16,8", "--seed", "3",
             "--bounds", "q10=1,3"]
    assert main(["train", *flags, "--dump-config"]) == 0
    (tmp_path / "run.yaml").write_text(capsys.readouterr().out)
    assert main(["train", *flags, "--out", str(tmp_path / "direct"), "--quiet"]) == 0
    env = {**os.environ, "PYTHONHASHSEED": "1"}
    subprocess.run([sys.executable, "-m", "core", "train", "--config", str(tmp_path / "run.yaml"), "--out",
                    str(tmp_path / "from_plan"), "--quiet"], check=True, env=env, capture_output=True)
    assert abs(_val_kge(tmp_path / "direct") - _val_kge(tmp_path / "from_plan")) <= 1e-6
    # a run folder re-runs from its plan alone
    assert main(["train", "--config", str(tmp_path / "from_plan"), "--out", str(tmp_path / "again"), "--quiet"]) == 0
    assert abs(_val_kge(tmp_path / "again") - _val_kge(tmp_path / "direct")) <= 1e-6


def test_a_file_plan_records_the_files_sha256_and_refuses_the_file_once_changed(tmp_path, capsys):
    import core

    frame = core.load_data("respiration-synthetic", n=6, seed=1).frame
    path = tmp_path / "fluxes.csv"
    frame.to_csv(path, index=False)
    columns = {"id": "site_id", "targets": {"reco": "reco"}, "forcing": {"temp": "temp"}, "predictors": ["moisture"]}
    run = execute({"model": "respiration", "data": {"path": str(path), "columns": columns}, "train": {"epochs": 1}},
                  out=tmp_path / "run")
    recorded = json.loads((tmp_path / "run" / "config.json").read_text())["data"]
    assert len(recorded["sha256"]) == 64 and run is not None
    plan = RunPlan.from_dict({"model": "respiration", "data": recorded, "train": {"epochs": 1}})
    assert RunPlan.from_dict(plan.to_dict()).data.sha256 == recorded["sha256"]
    execute(plan, out=tmp_path / "again")  # the same file trains again
    frame.assign(reco=frame["reco"] * 2).to_csv(path, index=False)
    with pytest.raises(HybridlabError, match="fluxes.csv: the file changed since this plan was written"):
        execute(plan, out=tmp_path / "changed")
    assert not (tmp_path / "changed").exists()
    with pytest.raises(HybridlabError, match="data: sha256 must be the 64 hex digits"):
        RunPlan.from_dict({"model": "respiration", "data": {**recorded, "sha256": "abc"}})
