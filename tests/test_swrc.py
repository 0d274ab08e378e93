import json
import math

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.special import erfc

from core.cli import main
from core.datasets import load_data
from core.report.explain import shapley_values
from core.models.swrc import awc, lebeau_konrad, parameters


def _reference(h, ts, hm, sg, to, hd):
    tc = 0.5 * ts * erfc(np.log(h / hm) / (math.sqrt(2) * sg))
    ta = to * (1 - np.log(h) / np.log(hd)) * (1 - tc / ts)
    return tc + ta, ta, tc


@pytest.mark.parametrize("params", [(0.45, 100.0, 1.5, 0.05, 10 ** 6.8), (0.3, 20.0, 0.8, 0.0, 10 ** 6.5),
                                    (0.7, 5e4, 4.0, 0.25, 1e7)])
def test_matches_scipy_erfc_at_many_suctions(params):
    h = np.logspace(-1, 7, 300)
    got = lebeau_konrad(torch.tensor(h), *params)
    ref = _reference(h, *params)
    for key, r in zip(("theta", "theta_a", "theta_c"), ref):
        np.testing.assert_allclose(got[key].numpy(), r, rtol=1e-10, atol=1e-14)


def test_decreases_with_suction_and_wet_limit_is_theta_s():
    rng = np.random.default_rng(0)
    ps = parameters()
    h = torch.logspace(-3, 6.5, 400, dtype=torch.float64)
    for _ in range(20):
        p = {q.name: float(q.from_unit(torch.tensor(rng.uniform(0.02, 0.98), dtype=torch.float64))) for q in ps}
        theta = lebeau_konrad(h, **p)["theta"]
        assert torch.all(theta[1:] <= theta[:-1] + 1e-12)
        wet = lebeau_konrad(torch.tensor(1e-8, dtype=torch.float64), **p)["theta"]
        assert float(wet) == pytest.approx(p["theta_s"], rel=1e-4)


def test_awc_at_known_parameters():
    p = (0.45, 100.0, 1.5, 0.05, 10 ** 6.8)
    expected = _reference(10 ** 1.8, *p)[0] - _reference(10 ** 4.2, *p)[0]
    assert float(awc(*p)) == pytest.approx(expected, rel=1e-10)
    assert 0.1 < expected < 0.3


@pytest.mark.slow
def test_shapley_values_add_up_to_prediction_minus_expected_value():
    rng = np.random.default_rng(1)
    x, background = rng.normal(size=(40, 4)), rng.normal(size=(30, 4))
    f = lambda a: np.tanh(a[:, 0] * a[:, 1]) + a[:, 2] ** 2 + 0.3 * a[:, 3]  # noqa: E731
    e = shapley_values(f, x, background=background, feature_names=["a", "b", "c", "d"])
    np.testing.assert_allclose(e.values.sum(1), f(x) - f(background).mean(), atol=1e-10)
    assert np.allclose(e.values[:, 3], 0.3 * (x[:, 3] - background[:, 3].mean()))  # a linear term's exact Shapley value
    # shap's masking kernels keep their compiled code on disk, so a new worker loads it instead of compiling
    from shap.maskers import _tabular
    assert type(_tabular._delta_masking._cache).__name__ != "NullCache"


def test_swrc_data_long_format_and_truth():
    d = load_data("swrc-synthetic", n=60, seed=2)
    f = d.frame
    per = f.groupby("sample_id").size()
    assert per.between(8, 12).all()
    assert f.groupby("sample_id")["h_cm"].min().eq(1.0).all() and f.groupby("sample_id")["h_cm"].max().eq(1e6).all()
    assert d.id == "profile_id" and d.predictors == ["clay", "silt", "sand", "oc"]
    theta = lebeau_konrad(torch.tensor(f["h_cm"].to_numpy()), *(torch.tensor(f[f"true_{p}"].to_numpy())
                                                                for p in ("theta_s", "h_m", "sigma", "theta_o")))["theta"]
    assert abs(float(np.std(f["theta"] - theta.numpy())) - 0.01) < 0.002
    assert np.corrcoef(f["oc"], f["bd"])[0, 1] < -0.5  # bd carries part of the effect of oc


@pytest.mark.slow
def test_swrc_experiment_and_prediction(tmp_path):
    out = tmp_path / "exp"
    assert main(["experiment", "swrc", "--out", str(out), "--n-sites", "80", "--epochs", "40", "--quiet"]) == 0
    res = json.loads((out / "results.json").read_text())
    assert set(res["configurations"]) == {"without_bd", "with_bd"}
    for name, c in res["configurations"].items():
        assert c["val_nse_theta"] > 0.5
        assert set(c["parameter_recovery"]) == {"theta_s", "h_m", "sigma", "theta_o"}
        assert c["shapley"]["additivity_max_error"] < 1e-6
    table = pd.read_parquet(out / "awc.parquet")
    assert {"sample_id", "awc_true", "awc_without_bd", "awc_with_bd"} <= set(table.columns)
    assert table["sample_id"].is_unique
    for png in ("obs_pred_with_bd", "retention_curves", "awc_distribution", "shap_awc_oc"):
        assert (out / "figures" / f"{png}.png").read_bytes()[:4] == b"\x89PNG"
    soil = json.dumps({"clay": 10, "silt": 15, "sand": 75, "oc": 2.0, "bd": 1.4})
    assert main(["predict", "--run", str(out / "runs" / "with_bd__seed0"), "--input", soil, "--at", "h=63.0957,15848.9",
                 "--out", str(tmp_path / "p.csv")]) == 0
    p = pd.read_csv(tmp_path / "p.csv").iloc[0]
    assert p["awc"] == pytest.approx(p["theta[h=63.0957]"] - p["theta[h=15848.9]"], abs=1e-5)
    assert {"theta_s", "h_m", "sigma", "theta_o"} <= set(p.index)
