import numpy as np
import pandas as pd
import pytest
import torch

from core.datasets import load_data
from core.datasets.lucas import TRUE_PARAMS, generate
from core.models.soc import DEFAULTS, steady_state


@pytest.fixture(scope="module")
def lucas():
    return load_data("lucas-synthetic", n=1500, seed=3)


def test_deterministic_from_seed():
    a, b, c = generate(300, seed=5), generate(300, seed=5), generate(300, seed=6)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["soc"], c["soc"])


def test_columns_roles_and_missing_pattern(lucas):
    f = lucas.frame
    assert len(lucas.predictors) == 168
    assert not any(c.startswith("true_") for c in lucas.predictors)
    assert not {"soc", "moc", "poc", "mbc", "temp", "npp", "soil_mass", "site_id"} & set(lucas.predictors)
    assert f["soc"].notna().all()
    assert 0.28 < f["moc"].notna().mean() < 0.39
    assert (f["moc"].notna() == f["poc"].notna()).all()
    assert f["mbc"].notna().sum() == round(414 * 1500 / 16743)
    assert f["lat"].between(35, 70).all() and f["lon"].between(-10, 30).all()
    assert f["npp"].between(150, 1000).all() and f["temp"].between(-5, 23).all()
    assert (f[["clay", "silt", "sand", "soc", "moc", "poc", "mbc"]].fillna(0) >= 0).all().all()


def test_truth_is_feasible_and_reproduces_the_targets(lucas):
    f = lucas.frame
    params = {**DEFAULTS, **{k: torch.tensor(f[f"true_{k}"].to_numpy()) for k in TRUE_PARAMS}}
    out = steady_state(torch.tensor(f["npp"].to_numpy()), torch.tensor(f["temp"].to_numpy()),
                       torch.tensor(f["soil_mass"].to_numpy()), **params)
    assert bool(out["feasible"].all())
    log_ratio = np.log(f["soc"].to_numpy() / out["soc"].numpy())
    assert abs(log_ratio.std() - 0.10) < 0.01  # 10 % log-normal noise on SOC


def test_true_parameters_do_not_follow_temperature(lucas):
    f = lucas.frame
    for k in TRUE_PARAMS:
        assert abs(np.corrcoef(f[f"true_{k}"], f["temp"])[0, 1]) < 0.2, k
    fine = f["clay"] + f["silt"]
    assert np.corrcoef(f["true_q_max"], fine)[0, 1] > 0.8
