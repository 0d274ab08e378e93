"""The baselines on their own: forests on small data, qrf's intervals scored like the hybrid's,
Rosetta3's curves and units, the network's Reco, the registry, and the comparison table's 2-sd
flags on cases whose answer is known."""
import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from core.baselines import BASELINES, BaselineRows, get_baseline, parse_baselines
from core.baselines.comparison import differences, not_beaten, summarize, verdict
from core.baselines.network_reco import NetworkReco, reco_column
from core.baselines.rosetta3 import RosettaFit, in_percent, rosetta_parameters, van_genuchten
from core.baselines.scoring import quantile_scores, score_baseline
from core.datasets import HybridData, load_data
from core.errors import DataError, HybridlabError
from core.uncertainty.predictive import Predictive, interval_scores
from core.models import get_model


def _rows(data: HybridData, forcing, targets, seed=0, val_share=0.3) -> BaselineRows:
    groups = data.frame[data.id].unique()
    rng = np.random.default_rng(seed)
    val_groups = set(rng.choice(groups, int(len(groups) * val_share), replace=False))
    is_val = data.frame[data.id].isin(val_groups).to_numpy()
    return BaselineRows(data, list(data.predictors), forcing, targets, np.flatnonzero(~is_val), np.flatnonzero(is_val),
                        seed)


def _noisy_table(n=800, seed=0) -> HybridData:
    """y = sin(3 x1) + x2 with noise whose sd grows with x2 (heteroscedastic), one row per site."""
    rng = np.random.default_rng(seed)
    x1, x2 = rng.uniform(0, 2, n), rng.uniform(0, 1, n)
    y = np.sin(3 * x1) + x2 + rng.normal(0, 0.05 + 0.3 * x2)
    frame = pd.DataFrame({"site": np.arange(n), "x1": x1, "x2": x2, "y": y})
    return HybridData(frame, "site", ["x1", "x2"], {}, {"y": "y"}, {"path": "noisy.csv"})


def test_rf_and_qrf_fit_the_training_rows_and_beat_the_mean_on_validation_rows():
    rows = _rows(_noisy_table(), [], ["y"])
    y_val = rows.observed("y", rows.val)
    scored = {name: score_baseline(get_baseline(name), rows)["y"] for name in ("rf", "qrf")}
    for name, scores in scored.items():
        assert scores["n"] == len(rows.val) and scores["n_unpredicted"] == 0
        assert scores["rmse"] < 0.6 * np.std(y_val), name  # the mean would give the sd
        assert scores["kge"] > 0.7, name
        assert scores["seconds"] > 0
    assert 0.83 <= scored["qrf"]["picp"] <= 0.96  # its 5-95 % quantiles cover about 90 % of unseen rows
    assert "picp" not in scored["rf"]


def test_forests_are_seeded_by_the_run_and_see_the_forcing():
    data = load_data("respiration-synthetic", n=12)
    a, b = _rows(data, ["temp"], ["reco"], seed=3), _rows(data, ["temp"], ["reco"], seed=3)
    assert a.features(a.train).shape[1] == len(data.predictors) + 1
    fit_a, fit_b = get_baseline("rf").fit(a), get_baseline("rf").fit(b)
    np.testing.assert_array_equal(fit_a.predict(a.val)["reco"], fit_b.predict(b.val)["reco"])
    other = get_baseline("rf").fit(BaselineRows(**{**a.__dict__, "seed": 4}))
    assert not np.array_equal(other.predict(a.val)["reco"], fit_a.predict(a.val)["reco"])


def test_qrf_interval_scores_are_the_hybrids_on_known_quantiles():
    """Observations drawn from N(mu, 1) and quantiles of exactly that normal: coverage 0.9, width
    2 z sd / sd(y), and the CRPS of a true normal forecast, 1 / sqrt(pi)."""
    rng = np.random.default_rng(0)
    n = 20_000
    mu = rng.uniform(-3, 3, n)
    y = mu + rng.normal(size=n)
    grid = np.round(np.linspace(0.01, 0.99, 99), 3)
    quantiles = mu[None, :] + norm.ppf(grid)[:, None]
    got = quantile_scores(y, mu, quantiles, grid)
    assert got["picp"] == pytest.approx(0.9, abs=0.01)
    assert got["interval_width"] == pytest.approx(2 * norm.ppf(0.95) / np.std(y, ddof=1), rel=1e-6)
    assert got["crps_samples"] == pytest.approx(1 / math.sqrt(math.pi), rel=0.03)
    # the same function, arguments and level the hybrid's calibration scores its intervals with
    same = interval_scores(y, quantiles[4], quantiles[94], Predictive(mu, quantiles), 0.0)
    assert (got["picp"], got["interval_width"], got["crps"]) == (same["picp"], same["width"], same["crps"])


def test_van_genuchten_at_its_landmarks():
    theta_r, theta_s, alpha, n = 0.05, 0.45, 0.02, 1.6
    assert van_genuchten(np.array([0.0]), theta_r, theta_s, alpha, n)[0] == pytest.approx(theta_s)
    half = van_genuchten(np.array([1 / alpha]), theta_r, theta_s, alpha, n)[0]
    assert half == pytest.approx(theta_r + (theta_s - theta_r) * 2 ** -(1 - 1 / n))
    assert van_genuchten(np.array([1e9]), theta_r, theta_s, alpha, n)[0] == pytest.approx(theta_r, abs=1e-4)


def test_rosetta3_parameters_are_in_physical_units_and_order_sand_before_clay():
    theta_r, theta_s, alpha, n = rosetta_parameters(np.array([[85.0, 10.0, 5.0, 1.6], [10.0, 30.0, 60.0, 1.3]])).T
    assert np.all((theta_s > 0.3) & (theta_s < 0.65)) and np.all((theta_r >= 0) & (theta_r < 0.2))
    assert np.all((alpha > 1e-3) & (alpha < 0.2))  # 1/cm, from log10(alpha)
    assert np.all((n > 1.05) & (n < 4))
    assert alpha[0] > alpha[1] and n[0] > n[1]  # sand drains at lower suction and more steeply than clay


def test_rosetta3_scores_theta_at_each_points_suction_with_or_without_bd():
    data = load_data("swrc-synthetic", n=30)
    rows = _rows(data, ["h"], ["theta"])
    fit = RosettaFit(rows)
    assert fit.model == 2  # bd is not among this run's predictors
    theta = fit.predict(rows.val)["theta"]
    assert np.all((theta > 0) & (theta < 0.7))
    wet, dry = rows.forcing_values("h", rows.val) <= 1.0, rows.forcing_values("h", rows.val) >= 1e6
    assert theta[wet].mean() > theta[dry].mean() + 0.15
    with_bd = HybridData(data.frame, data.id, [*data.predictors, "bd"], data.forcing, data.targets, data.source)
    assert RosettaFit(_rows(with_bd, ["h"], ["theta"])).model == 3
    scores = score_baseline(get_baseline("rosetta3"), rows)["theta"]
    assert scores["n"] == len(rows.val) and scores["rmse"] < 0.12


def test_texture_as_fractions_is_percent_and_a_bad_sum_names_the_sample():
    texture = np.array([[0.3, 0.3, 0.4], [0.5, 0.3, 0.2]])
    np.testing.assert_allclose(in_percent(texture, np.array(["a", "b"]), "f.csv"), texture * 100)
    with pytest.raises(DataError, match=r"f.csv: sand \+ silt \+ clay is 70 % for id 'b'"):
        in_percent(np.array([[30.0, 30, 40], [30, 20, 20]]), np.array(["a", "b"]), "f.csv")


def test_rosetta3_applies_to_retention_only_and_needs_texture():
    spec = get_model("respiration")
    resp = load_data("respiration-synthetic", n=5)
    assert "retention" in BASELINES["rosetta3"].applies(spec, resp, ["reco"])
    swrc = load_data("swrc-synthetic", n=10)
    assert BASELINES["rosetta3"].applies(get_model("swrc"), swrc, ["theta"]) is None
    no_sand = HybridData(swrc.frame.drop(columns="sand"), swrc.id, ["clay", "silt"], swrc.forcing, swrc.targets,
                         {"path": "x.csv"})
    assert "no single column for sand" in BASELINES["rosetta3"].applies(get_model("swrc"), no_sand, ["theta"])


def test_network_reco_takes_the_preferred_column_and_reads_minus_9999_as_missing():
    frame = pd.DataFrame({"day": [1, 1, 2, 2], "NEE_night": [1.0, 2.0, 3.0, 4.0], "TA_F": [5.0, 6, 7, 8],
                          "RECO_NT_CUT_REF": [9.0, 9, 9, 9], "RECO_NT_VUT_REF": [1.5, -9999, 2.5, 3.5]})
    data = HybridData(frame, "day", [], {"temp": "TA_F"}, {"reco": "NEE_night"}, {"path": "flux.csv"})
    assert reco_column(data) == "RECO_NT_VUT_REF"
    rows = BaselineRows(data, [], ["temp"], ["reco"], np.array([0, 1]), np.array([0, 1, 2, 3]), 0)
    np.testing.assert_array_equal(NetworkReco(rows).predict(rows.val)["reco"], [1.5, np.nan, 2.5, 3.5])
    scores = score_baseline(get_baseline("network_reco"), rows)["reco"]
    assert scores["n"] == 3 and scores["n_unpredicted"] == 1 and scores["rmse"] == pytest.approx(0.5)
    as_target = HybridData(frame, "day", [], {"temp": "TA_F"}, {"reco": "RECO_NT_VUT_REF"}, {"path": "flux.csv"})
    assert reco_column(as_target) == "RECO_NT_CUT_REF"  # never the target's own column
    leak = HybridData(frame, "day", ["RECO_NT_VUT_REF"], {"temp": "TA_F"}, {"reco": "NEE_night"}, {"path": "flux.csv"})
    assert "predictors" in BASELINES["network_reco"].applies(get_model("respiration"), leak, ["reco"])



def test_network_reco_finds_the_column_data_fluxnet_writes():
    frame = pd.DataFrame({"block": [1, 1, 2], "reco": [1.0, 2.0, 3.0], "temp": [5.0, 6, 7],
                          "reco_network": [1.1, 2.1, 2.9]})
    data = HybridData(frame, "block", [], {"temp": "temp"}, {"reco": "reco"}, {"path": "pue.parquet"})
    assert reco_column(data) == "reco_network"
    assert BASELINES["network_reco"].applies(get_model("respiration"), data, ["reco"]) is None

def test_registry_names_and_refusals():
    assert list(BASELINES) == ["nn", "network_reco", "one_q10", "qrf", "rf", "rosetta3"]
    assert [b.name for b in parse_baselines("nn, rf,qrf")] == ["nn", "rf", "qrf"]
    assert [b.trained for b in parse_baselines("nn,one_q10,rf")] == [True, True, False]
    with pytest.raises(HybridlabError, match="unknown baseline 'svm'; registered: nn, network_reco"):
        parse_baselines("rf,svm")
    with pytest.raises(HybridlabError, match="names rf more than once"):
        parse_baselines("rf,qrf,rf")
    assert "q10" in BASELINES["one_q10"].applies(get_model("swrc"), None, ["theta"])
    assert BASELINES["one_q10"].applies(get_model("respiration"), None, ["reco"]) is None


def _records(method: str, rmse: list[float], kge: list[float] | None = None) -> list[dict]:
    kge = kge or [0.5] * len(rmse)
    return [{"method": method, "target": "theta", "seed": k // 2, "fold": k % 2, "rmse": r, "kge": g}
            for k, (r, g) in enumerate(zip(rmse, kge))]


def test_two_sd_flags_where_the_answer_is_known():
    hybrid = [0.10, 0.20, 0.30, 0.40]  # hard and easy folds: a wide spread over splits
    records = (_records("hybrid", hybrid)
               + _records("paired_better", [h - 0.020 + e for h, e in zip(hybrid, (0.001, -0.001, 0.0005, 0))])
               + _records("worse", [h + 0.05 for h in hybrid], kge=[0.4, 0.41, 0.39, 0.4])
               + _records("noise", [h + e for h, e in zip(hybrid, (0.05, 0.01, 0.05, 0.01))])
               + _records("one_split", [0.01])
               + _records("nan", [math.nan] * 4))
    diffs = differences(records)
    d = diffs["paired_better"]["theta"]["rmse"]
    # paired: the folds' spread cancels (unpaired, sqrt(sd_h² + sd_m²) = 0.18 would hide it)
    assert d["mean"] == pytest.approx(-0.019875) and d["beyond_2sd"] and d["better"] == "method"
    worse = diffs["worse"]["theta"]
    assert worse["rmse"]["beyond_2sd"] and worse["rmse"]["better"] == "hybrid" and worse["rmse"]["sd"] < 1e-12
    assert worse["kge"]["beyond_2sd"] and worse["kge"]["better"] == "hybrid"
    noise = diffs["noise"]["theta"]["rmse"]  # mean 0.03, sd 0.0231: 0.03 < 2 sd
    assert noise["mean"] == pytest.approx(0.03) and noise["sd"] == pytest.approx(0.023094, rel=1e-4)
    assert not noise["beyond_2sd"] and noise["better"] is None
    assert diffs["one_split"]["theta"]["rmse"]["n"] == 1 and not diffs["one_split"]["theta"]["rmse"]["beyond_2sd"]
    assert "rmse" not in diffs["nan"]["theta"] and not diffs["nan"]["theta"]["kge"]["beyond_2sd"]
    assert verdict(diffs["paired_better"]["theta"], "paired_better") == "paired_better better on RMSE"
    assert verdict(worse, "worse") == "hybrid better on RMSE; hybrid better on KGE"
    assert verdict(diffs["noise"]["theta"], "noise") == "within 2 sd"
    lines = not_beaten(diffs)
    assert any(line.startswith("θ RMSE: hybrid does not beat paired_better (paired_better better") for line in lines)
    assert not any("beat worse" in line for line in lines)
    summary = summarize(records)
    assert summary["hybrid"]["theta"]["rmse"]["mean"] == pytest.approx(0.25)
    assert summary["hybrid"]["theta"]["rmse"]["n"] == 4 and "rmse" not in summary["nan"]["theta"]
