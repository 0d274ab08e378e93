"""A trained run's area of applicability: stored in its folder under the checksum, read back with
it, and ``predict`` (in memory, from the folder, on the command line) adds ``di`` and ``aoa``."""
import json

import numpy as np
import pandas as pd
import pytest

from core import RunPlan, execute, load_plan_data, load_run
from core.spatial.applicability import APPLICABILITY_FILE
from core.cli import main
from core.errors import HybridlabError
from core.run.integrity import MARKER

SOC = {"model": "soc", "data": {"name": "lucas-synthetic", "n": 600, "seed": 3}, "roles": "five_neural",
       "network": {"hidden": [16, 8], "dropout": 0.2}, "train": {"epochs": 3, "patience": 3, "batch_size": 64}}


# its tests share one trained run (a module fixture): keep them on one xdist worker
pytestmark = pytest.mark.xdist_group("applicability_run")


@pytest.fixture(scope="module")
def soc_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("aoa") / "run"
    return execute(RunPlan.from_dict(SOC), out=out), out


def _fresh_rows(n=200, seed=11):
    return load_plan_data(RunPlan.from_dict({**SOC, "data": {**SOC["data"], "n": n, "seed": seed}})).frame


def test_the_run_folder_stores_it_under_the_checksum(soc_run):
    run, out = soc_run
    assert APPLICABILITY_FILE in json.loads((out / MARKER).read_text())["sha256"]
    loaded = load_run(out)
    assert loaded.applicability.threshold == run.applicability.threshold
    summary = loaded.metrics["applicability"]
    assert summary["threshold"] == pytest.approx(run.applicability.threshold)
    assert set(summary["weights"]) == set(run.data.predictors) and max(summary["weights"].values()) == 1.0
    assert 0 <= summary["val_inside"] <= 1


def test_a_changed_or_missing_applicability_file_is_refused(soc_run, tmp_path):
    import shutil

    _, out = soc_run
    changed = tmp_path / "changed"
    shutil.copytree(out, changed)
    with open(changed / APPLICABILITY_FILE, "ab") as f:
        f.write(b"\0")
    with pytest.raises(HybridlabError, match="applicability.npz: not the file written with this run"):
        load_run(changed)
    (changed / APPLICABILITY_FILE).unlink()
    with pytest.raises(HybridlabError, match="applicability.npz is missing"):
        load_run(changed)


def test_predict_adds_di_and_aoa_and_the_folder_gives_the_same(soc_run):
    run, out = soc_run
    rows = _fresh_rows()
    mine, theirs = run.predict(rows), load_run(out).predict(rows)
    assert {"di", "aoa"} <= set(mine.columns)
    np.testing.assert_allclose(mine["di"], theirs["di"])
    assert mine["aoa"].dtype == bool and (mine["aoa"] == theirs["aoa"]).all()


def test_rows_like_the_training_rows_are_inside_and_shifted_rows_outside(soc_run):
    run, _ = soc_run
    # the validation sites: drawn as the training sites were (another seed of the synthetic data
    # draws another landscape, its covariates' fields and loadings, not new sites of this one)
    rows = run.data.frame.iloc[run.val_rows]
    inside = run.predict(rows)["aoa"].mean()
    predictors = run.data.predictors
    shifted = rows.copy()
    shifted[predictors] = rows[predictors] + 5 * run.data.frame[predictors].std()
    outside = 1 - run.predict(shifted)["aoa"].mean()
    assert inside >= 0.9 and outside >= 0.9, (inside, outside)


def test_a_row_with_a_missing_predictor_is_outside(soc_run):
    run, _ = soc_run
    rows = _fresh_rows(5)
    rows.loc[0, run.data.predictors[0]] = np.nan
    table = run.predict(rows)
    assert np.isnan(table["di"].iloc[0]) and not table["aoa"].iloc[0]


def test_an_ensemble_and_the_command_line_predict_give_di_and_aoa(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--model", "respiration", "--n-sites", "20", "--epochs", "2", "--hidden", "8",
                 "--members", "2", "--out", str(out), "--quiet"]) == 0
    assert (out / APPLICABILITY_FILE).is_file()
    inp = json.dumps([{"moisture": 0.2, "soil_n": 1.0, "clay": 20, "elev": 300, "temp": 10},
                      {"moisture": 20, "soil_n": 100.0, "clay": 2000, "elev": 30000, "temp": 10}])
    assert main(["predict", "--run", str(out), "--input", inp, "--out", str(tmp_path / "p.csv")]) == 0
    table = pd.read_csv(tmp_path / "p.csv")
    assert {"di", "aoa", "reco_sd"} <= set(table.columns)
    assert table["di"].iloc[1] > table["di"].iloc[0]


def test_a_plan_may_leave_the_applicability_out_and_says_so_in_its_folder(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--model", "respiration", "--n-sites", "20", "--epochs", "2", "--hidden", "8",
                 "--no-applicability", "--out", str(out), "--quiet"]) == 0
    assert not (out / APPLICABILITY_FILE).exists()
    plan = RunPlan.read(out)
    assert plan.applicability is False and RunPlan.from_dict(plan.to_dict()).applicability is False
    loaded = load_run(out)
    assert loaded.applicability is None and "applicability" not in loaded.metrics
    predicted = loaded.predict(load_plan_data(plan).frame.head(3))
    assert "reco_pred" in predicted.columns and not {"di", "aoa"} & set(predicted.columns)
    assert "applicability" not in RunPlan.from_dict({"model": "respiration"}).to_dict()  # the default is not written
    with pytest.raises(HybridlabError, match="applicability must be true or false"):
        RunPlan.from_dict({"model": "respiration", "applicability": "no"})
