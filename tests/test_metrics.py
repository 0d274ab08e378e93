import math

import numpy as np
import pytest
import torch

from core.metrics import all_metrics, kge, nse, rmse


def _kge_reference(o, p):
    """Independent numpy formula (Gupta et al. 2009) on complete pairs."""
    m = ~(np.isnan(o) | np.isnan(p))
    o, p = o[m], p[m]
    r = np.corrcoef(o, p)[0, 1]
    alpha, beta = p.std() / o.std(), p.mean() / o.mean()
    return 1 - math.sqrt((r - 1) ** 2 + (alpha - 1) ** 2 + (beta - 1) ** 2), r, alpha, beta


def test_perfect_prediction_has_kge_one():
    obs = np.random.default_rng(0).gamma(2.0, 10.0, 500)
    assert kge(obs, obs)["kge"] == pytest.approx(1.0, abs=1e-9)


def test_mean_prediction_has_kge_one_minus_sqrt2():
    obs = np.random.default_rng(1).gamma(2.0, 10.0, 500)
    res = kge(obs, np.full_like(obs, obs.mean()))
    assert res["kge"] == pytest.approx(1 - math.sqrt(2), abs=1e-6)
    assert res["alpha"] == pytest.approx(0.0, abs=1e-6) and res["beta"] == pytest.approx(1.0)


def test_missing_observations_are_ignored_and_match_reference():
    rng = np.random.default_rng(2)
    obs = rng.gamma(2.0, 10.0, 300)
    pred = 0.8 * obs + rng.normal(0, 3, 300) + 2
    obs[::7] = np.nan
    pred[::14] = np.nan  # only where the observation is missing too
    got = kge(obs, pred)
    ref = _kge_reference(obs, pred)
    assert [got[k] for k in ("kge", "r", "alpha", "beta")] == pytest.approx(ref, rel=1e-9)
    m = ~(np.isnan(obs) | np.isnan(pred))
    assert nse(obs, pred) == pytest.approx(1 - np.sum((obs[m] - pred[m]) ** 2) / np.sum((obs[m] - obs[m].mean()) ** 2))
    assert rmse(obs, pred) == pytest.approx(np.sqrt(np.mean((obs[m] - pred[m]) ** 2)))


def test_numpy_and_torch_inputs_agree():
    rng = np.random.default_rng(3)
    obs, pred = rng.normal(5, 1, 100), rng.normal(5, 1.3, 100)
    a = kge(obs, pred)
    b = kge(torch.tensor(obs), torch.tensor(pred))
    c = kge(torch.tensor(obs, dtype=torch.float32), torch.tensor(pred, dtype=torch.float32))
    assert a == pytest.approx(b, rel=1e-12)
    assert a == pytest.approx(c, rel=1e-5)


def test_columns_are_independent_and_n_counts_pairs():
    obs = np.array([[1.0, np.nan], [2.0, 1.0], [3.0, np.nan], [4.0, 2.0]])
    rows = all_metrics(obs, obs)
    assert rows[0]["n"] == 4 and rows[1]["n"] == 2
    assert rows[0]["kge"] == pytest.approx(1.0) and rows[1]["kge"] == pytest.approx(1.0)
    one = all_metrics(np.array([[1.0], [np.nan]]), np.array([[1.0], [2.0]]))[0]
    assert one["n"] == 1 and math.isnan(one["kge"])


def test_a_nonfinite_prediction_where_an_observation_exists_fails_and_is_counted():
    from core.metrics import all_metrics

    rng = np.random.default_rng(3)
    obs = rng.gamma(2.0, 10.0, 200)
    pred = obs.copy()
    pred[:100] = np.nan  # half the predictions: before, the other half scored KGE 1.0
    pred[150] = np.inf
    row = all_metrics(obs, pred)[0]
    assert math.isnan(row["kge"]) and math.isnan(row["nse"])
    assert row["n_nonfinite"] == 101 and row["n"] == 200
    obs[:100] = np.nan  # NaN predictions where nothing was observed do not count
    assert all_metrics(obs, pred)[0]["n_nonfinite"] == 1
