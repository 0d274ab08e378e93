"""Prediction intervals: the conformal math on data with a known predictive distribution
(core.uncertainty.predictive and .registry), and calibrated runs end to end (core.uncertainty.calibration, predict --interval)."""
import json
import math

import numpy as np
import pytest

from core.uncertainty.calibration import check_level, dropout_samples
from core.errors import HybridlabError
from core.run.execute import execute
from core.uncertainty.predictive import Predictive, conformal_quantile, interval_scores, noise_sd, pit
from core.uncertainty.registry import bounds, nonconformity, reliability
from core.run.loaded import load_run
from core.training.splits import SplitConfig, hold_out_calibration


def _heteroscedastic(n: int, seed: int, members: int = 5):
    """Observations whose error sd grows with x; members that disagree in proportion to it (plus
    a noise of sd 0.5 the members cannot see)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, n)
    epistemic = 0.2 + 2.0 * x
    truth = np.sin(3 * x)
    y = truth + rng.normal(0, 1, n) * np.sqrt(epistemic ** 2 + 0.5 ** 2)
    samples = truth + rng.normal(0, 1, (members, n)) * epistemic
    return y, Predictive(truth, samples)


def test_conformal_quantile_is_the_finite_sample_order_statistic():
    scores = np.arange(1, 20, dtype=float)  # n = 19
    assert conformal_quantile(scores, 0.9) == 18.0  # ceil(20 * 0.9) = 18th smallest
    assert conformal_quantile(scores, 0.95) == 19.0
    assert math.isinf(conformal_quantile(scores[:5], 0.9))  # ceil(6 * 0.9) = 6 > 5


@pytest.mark.parametrize("method", ["conformal", "normalised", "quantile"])
def test_conformal_methods_cover_new_sites_at_the_level(method):
    """Averaged over 40 independent calibration draws, coverage is at least the level and not far
    above it (split conformal: between 1 - alpha and 1 - alpha + 1 / (n + 1))."""
    coverages = []
    for seed in range(40):
        y, predictive = _heteroscedastic(600, seed)
        calibration, new = np.arange(300), np.arange(300, 600)
        part = predictive.rows(calibration)
        noise = noise_sd(y[calibration], part)
        q = conformal_quantile(nonconformity(method, y[calibration], part, noise, 0.9), 0.9)
        lower, upper = bounds(method, predictive.rows(new), 0.9, noise, q)
        coverages.append(np.mean((y[new] >= lower) & (y[new] <= upper)))
    assert 0.89 <= np.mean(coverages) <= 0.915


def test_the_spread_alone_undercovers_and_normalised_intervals_follow_the_spread():
    y, predictive = _heteroscedastic(4000, 1, members=50)  # enough members that their sd is the epistemic sd
    calibration, new = np.arange(2000), np.arange(2000, 4000)
    plain = bounds("spread", predictive.rows(new), 0.9, 0.0)
    assert np.mean((y[new] >= plain[0]) & (y[new] <= plain[1])) < 0.85  # the noise is missing
    part = predictive.rows(calibration)
    noise = noise_sd(y[calibration], part)
    assert 0.35 < noise < 0.7  # the truth: 0.5
    q = conformal_quantile(nonconformity("normalised", y[calibration], part, noise, 0.9), 0.9)
    lower, upper = bounds("normalised", predictive.rows(new), 0.9, noise, q)
    width = upper - lower
    spread = predictive.rows(new).spread
    assert np.corrcoef(width, spread)[0, 1] > 0.9  # wider where the members disagree


@pytest.mark.slow  # the first CRPS imports scoringrules: 3.7 s
def test_scores_pit_and_reliability_of_a_right_distribution():
    rng = np.random.default_rng(3)
    centre = rng.normal(0, 1, 5000)
    y = centre + rng.normal(0, 1, 5000)
    predictive = Predictive(centre, centre[None])  # no spread: the noise is the whole distribution
    noise = noise_sd(y, predictive)
    assert abs(noise - 1.0) < 0.05
    histogram = np.histogram(pit(y, predictive, noise), bins=10, range=(0, 1))[0]
    assert histogram.min() > 400 and histogram.max() < 600  # flat
    lower, upper = bounds("gaussian", predictive, 0.9, noise)
    scores = interval_scores(y, lower, upper, predictive, noise)
    assert abs(scores["picp"] - 0.9) < 0.02
    assert abs(scores["crps"] - 0.5642) < 0.03  # E CRPS of N(0, 1) at its own draws: 1 / sqrt(pi)
    rows = reliability("normalised", (y[:2500], predictive.rows(np.arange(2500))),
                       (y[2500:], predictive.rows(np.arange(2500, 5000))), noise)
    assert all(abs(r["coverage"] - r["level"]) < 0.04 for r in rows)


@pytest.mark.slow  # scoringrules' import, as above
def test_missing_observations_are_left_out_of_the_scores():
    y = np.array([0.0, np.nan, 1.0, np.nan])
    predictive = Predictive(np.zeros(4), np.zeros((1, 4)))
    scores = interval_scores(y, np.full(4, -0.5), np.full(4, 0.5), predictive, 1.0)
    assert scores["n"] == 2 and scores["picp"] == 0.5


@pytest.mark.parametrize("level", [0.3, 0.49, 1.0, 1.2, "0.9", True])
def test_a_level_outside_half_to_one_is_refused(level):
    with pytest.raises(HybridlabError, match="--interval must be a level in"):
        check_level(level)


def test_calibration_sites_come_from_the_training_side_by_group():
    groups = np.repeat(np.arange(50), 2)
    train, val = np.arange(80), np.arange(80, 100)
    kept, held = hold_out_calibration(groups, train, 0.2, seed=0)
    assert set(kept) | set(held) == set(train) and not set(kept) & set(held)
    assert not set(groups[kept]) & set(groups[held])  # a site's rows stay together
    assert len(held) == 16
    with pytest.raises(HybridlabError, match="calibration fraction"):
        SplitConfig(calibration=1.0)


def _plan(members: int, calibration: float, n: int = 1500, dropout: float = 0.3) -> dict:
    return {"model": "soc", "data": {"name": "lucas-synthetic", "n": n}, "roles": "five_neural",
            "split": {"calibration": calibration}, "network": {"hidden": [32, 16], "dropout": dropout},
            "train": {"epochs": 15, "patience": 5, "members": members}}


@pytest.mark.slow
def test_an_ensemble_run_writes_its_calibration_and_predict_gives_the_bounds(tmp_path):
    run = execute(_plan(3, 0.2), out=tmp_path / "run")
    calibration = json.loads((tmp_path / "run" / "calibration.json").read_text())
    assert calibration["source"] == "members" and calibration["samples"] == 3
    assert (tmp_path / "run" / "intervals.png").stat().st_size > 1000
    soc = calibration["targets"]["soc"]
    assert soc["calibrated"] and soc["n"] >= 50 and len(soc["scores"]) == soc["n"]
    assert not calibration["targets"]["mbc"]["calibrated"]  # sparse: a reason, no interval
    assert "fewer than 50" in calibration["targets"]["mbc"]["reason"]
    assert set(calibration["comparison"]) == {"members", "mc_dropout"}
    assert 0 <= run.metrics["targets"]["soc"]["val"]["picp"] <= 1
    assert (run.predictions["split"] == "calibration").sum() == run.metrics["n_calibration"] > 0

    loaded = load_run(tmp_path / "run")
    frame = run.data.frame.iloc[:200]
    table = loaded.predict(frame, interval=0.9)
    assert (table["soc_lower"] <= table["soc_pred"]).all() and (table["soc_pred"] <= table["soc_upper"]).all()
    assert (table["soc_lower"] >= 0).all()  # SOC is non-negative: the bound is cut at 0
    assert "mbc_lower" not in table and "no interval for mbc" in table.attrs["interval_notes"][0]
    wider = loaded.predict(frame, interval=0.95)
    assert ((wider["soc_upper"] - wider["soc_lower"]) >= (table["soc_upper"] - table["soc_lower"]) - 1e-9).all()
    # the bounds on the validation rows are the ones calibration.json scored
    val = run.predictions["split"].to_numpy() == "val"
    again = loaded.predict(run.data.frame[val], interval=0.9)
    observed = run.predictions.loc[val, "soc_obs"].to_numpy()
    known = np.isfinite(observed)
    inside = (observed[known] >= again["soc_lower"].to_numpy()[known]) & \
             (observed[known] <= again["soc_upper"].to_numpy()[known])
    assert inside.mean() == pytest.approx(run.metrics["targets"]["soc"]["val"]["picp"], abs=1e-9)


@pytest.mark.slow
def test_one_member_runs_calibrate_with_mc_dropout_or_refuse_without_calibration(tmp_path):
    run = execute(_plan(1, 0.2), out=tmp_path / "mc")
    loaded = load_run(tmp_path / "mc")
    assert loaded.calibration["source"] == "mc_dropout" and loaded.calibration["passes"] > 1
    rows = run.data.frame.iloc[:50]
    table = loaded.predict(rows, interval=0.9)
    assert (table["soc_upper"] > table["soc_lower"]).all()
    execute(_plan(1, 0.0), out=tmp_path / "plain")
    assert not (tmp_path / "plain" / "calibration.json").exists()
    with pytest.raises(HybridlabError, match="no calibration sites; train it again with --calibration"):
        load_run(tmp_path / "plain").predict(rows, interval=0.9)


def test_mc_dropout_samples_differ_between_passes_and_repeat_with_the_seed():
    import torch

    from core.models import build_model
    from core.training.tensors import Tensors

    config = {"name": "nn", "predictors": ["a", "b"], "forcing": [], "targets": ["soc"], "parameters": {},
              "network": {"hidden": [16, 8], "dropout": 0.3}, "options": {}}
    torch.manual_seed(0)
    model = build_model(config)
    tensors = Tensors(torch.randn(40, 2), torch.zeros(40, 0), torch.zeros(40, 1))
    first = dropout_samples(model, tensors, passes=4, seed=7)
    assert first.shape == (4, 40, 1) and first.std(0).mean() > 0
    np.testing.assert_array_equal(first, dropout_samples(model, tensors, passes=4, seed=7))
    assert not model.training


def test_a_tampered_calibration_file_is_refused(tmp_path):
    from core.run.integrity import check_calibration

    good = {"source": "members", "targets": {"soc": {"calibrated": True, "method": "normalised", "noise_sd": 1.0,
                                                     "scores": [0.1, 0.2]}}}
    assert check_calibration(tmp_path / "c.json", good) is good
    for bad, message in (({**good, "source": "python"}, "unknown source"),
                         ({**good, "targets": {"soc": {**good["targets"]["soc"], "scores": [1e400]}}}, "finite"),
                         ({**good, "targets": {"soc": {**good["targets"]["soc"], "method": "x"}}}, "unknown method"),
                         ({**good, "passes": 10 ** 9}, "passes")):
        with pytest.raises(HybridlabError, match=message):
            check_calibration(tmp_path / "c.json", bad)


def test_a_relative_noise_keeps_coverage_where_the_level_shifts():
    """Multiplicative errors, calibrated on high levels and reported on low ones (a shift like the
    temperature split's): an absolute noise over-covers there, a relative one stays near the level."""
    rng = np.random.default_rng(5)
    high, low = rng.uniform(20, 60, 2000), rng.uniform(2, 10, 2000)
    observed = np.r_[high, low] * np.exp(rng.normal(0, 0.2, 4000))
    centre = np.r_[high, low]
    calibration, new = np.arange(2000), np.arange(2000, 4000)
    coverage = {}
    for relative in (False, True):
        predictive = Predictive(centre, centre[None], relative, floor=0.1)
        part = predictive.rows(calibration)
        noise = noise_sd(observed[calibration], part)
        q = conformal_quantile(nonconformity("normalised", observed[calibration], part, noise, 0.9), 0.9)
        lower, upper = bounds("normalised", predictive.rows(new), 0.9, noise, q)
        coverage[relative] = np.mean((observed[new] >= lower) & (observed[new] <= upper))
    assert coverage[False] > 0.99 and 0.86 < coverage[True] < 0.94


def test_the_calibration_sites_choose_the_noise_model_by_likelihood():
    from core.uncertainty.calibration import _noise_model

    rng = np.random.default_rng(8)
    centre = rng.uniform(0.05, 0.5, 3000)
    predictive = Predictive(centre, centre[None])
    additive = centre + rng.normal(0, 0.01, 3000)
    multiplicative = centre * np.exp(rng.normal(0, 0.1, 3000))
    assert _noise_model(additive, predictive, True, 0.002)["noise_model"] == "absolute"
    chosen = _noise_model(multiplicative, predictive, True, 0.002)
    assert chosen["noise_model"] == "relative" and abs(chosen["noise_sd"] - 0.1) < 0.01
    assert _noise_model(multiplicative, predictive, False, 0.002)["noise_model"] == "absolute"  # may be negative
