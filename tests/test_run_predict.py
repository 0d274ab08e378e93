"""A run just trained predicts new rows as its folder read back does (the fitted-estimator
contract): same columns, same values, for one model and for an ensemble, with intervals."""
import numpy as np
import pytest

from core import RunPlan, execute, load_plan_data, load_run

SOC = {"model": "soc", "data": {"name": "lucas-synthetic", "n": 600, "seed": 3}, "roles": "five_neural",
       "network": {"hidden": [16, 8], "dropout": 0.2},
       "split": {"calibration": 0.2},
       "train": {"epochs": 4, "patience": 4, "batch_size": 64}}


@pytest.mark.parametrize("members", [1, 2])
def test_a_trained_run_predicts_new_rows_as_its_folder_read_back(tmp_path, members):
    plan = RunPlan.from_dict({**SOC, "train": {**SOC["train"], "members": members}})
    run = execute(plan, out=tmp_path / "run")
    rows = load_plan_data(RunPlan.from_dict({**SOC, "data": {**SOC["data"], "n": 40, "seed": 11}})).frame
    mine = run.predict(rows, interval=0.9)
    theirs = load_run(tmp_path / "run").predict(rows, interval=0.9)
    assert list(mine.columns) == list(theirs.columns)
    assert "soc_lower" in mine.columns and ("soc_sd" in mine.columns) == (members > 1)
    np.testing.assert_allclose(mine.to_numpy(dtype=float), theirs.to_numpy(dtype=float), rtol=0, atol=1e-6)
    assert mine.attrs["interval_notes"] == theirs.attrs["interval_notes"]
    # the rows it was trained on: the predictions it reports for them
    own = run.predict(run.data.frame)
    np.testing.assert_allclose(own["soc_pred"].to_numpy(), run.predictions["soc_pred"].to_numpy(), atol=1e-6)
