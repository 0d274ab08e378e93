"""AWC on measured retention curves (core.baselines.awc): the observed AWC read off each curve's
points, which curves have one, and a fitted baseline's AWC from its theta at the two suctions."""
import numpy as np
import pandas as pd
import pytest

from core.baselines.awc import PF_REACH, SUCTIONS_PF, FittedAwc, awc_queries, theta_at, with_queries
from core.baselines.rosetta3 import RosettaFit, rosetta_parameters, van_genuchten
from core.baselines.spec import BaselineRows
from core.datasets import HybridData
from core.models import get_model
from core.models.swrc import H_FIELD_CAPACITY, H_WILTING_POINT

SWRC = get_model("swrc")


def test_theta_is_interpolated_linearly_in_pf_and_repeats_are_averaged():
    pf = np.array([3.0, 1.0, 2.0, 2.0])  # unsorted, pF 2 measured twice
    theta = np.array([0.20, 0.40, 0.28, 0.32])
    assert theta_at(pf, theta, 1.5) == pytest.approx(0.35)  # between 0.40 and the mean 0.30
    assert theta_at(pf, theta, 2.5) == pytest.approx(0.25)
    assert theta_at(pf, theta, 3.0 + PF_REACH / 2) == pytest.approx(0.20)  # just past the last point: its theta
    assert np.isnan(theta_at(pf, theta, 3.0 + 2 * PF_REACH))
    assert np.isnan(theta_at(pf, theta, 1.0 - 2 * PF_REACH))
    assert np.isnan(theta_at(pf[:0], theta[:0], 2.0))


def _curves() -> HybridData:
    """Three samples: a full curve, one that ends at 15,000 cm (pF 4.18) and one that ends at 1,000 cm."""
    rows = []
    for sample, suctions in (("a", [10, 100, 1000, 20000]), ("b", [30, 63.0957, 15000]), ("c", [10, 100, 1000])):
        for h in suctions:
            rows.append({"sample_id": sample, "h_cm": float(h), "theta": 0.45 - 0.08 * np.log10(h),
                         "sand": 40.0, "silt": 40.0, "clay": 20.0, "bd": 1.4})
    frame = pd.DataFrame(rows)
    return HybridData(frame, "sample_id", ["sand", "silt", "clay", "bd"], {"h": "h_cm"}, {"theta": "theta"})


def test_a_curve_has_an_observed_awc_only_where_its_points_reach_both_suctions():
    queries = awc_queries(SWRC, _curves())
    assert list(queries.samples) == ["a", "b"]
    # theta falls 0.08 per pF: AWC = 0.08 * (4.2 - 1.8) for a; b's last point (pF 4.176) stands in for pF 4.2
    assert queries.observed[0] == pytest.approx(0.08 * (SUCTIONS_PF[1] - SUCTIONS_PF[0]))
    assert queries.observed[1] == pytest.approx(0.08 * (np.log10(15000) - SUCTIONS_PF[0]))
    assert list(queries.frame["h_cm"]) == [H_FIELD_CAPACITY, H_WILTING_POINT] * 2
    assert queries.frame["theta"].isna().all() and list(queries.frame["sample_id"]) == ["a", "a", "b", "b"]
    assert list(queries.rows_of(np.array([4, 5]))) == [1]  # rows of sample b only
    assert list(queries.rows_of(np.array([8]))) == []  # sample c has no AWC


def test_no_curve_reaching_both_suctions_gives_none():
    data = _curves()
    data.frame = data.frame[data.frame["sample_id"] == "c"].reset_index(drop=True)
    assert awc_queries(SWRC, data) is None


def test_a_fitted_baselines_awc_is_its_theta_at_the_two_suctions():
    data = _curves()
    queries = awc_queries(SWRC, data)
    fitting = with_queries(data, queries)
    assert len(fitting.frame) == len(data.frame) + 4 and fitting.frame.iloc[: len(data.frame)].equals(data.frame)
    val = np.flatnonzero(data.frame["sample_id"].isin(["a", "b"]).to_numpy())
    rows = BaselineRows(data=fitting, predictors=data.predictors, forcing=["h"], targets=["theta"],
                        train=np.arange(0), val=val, seed=0, model="swrc",
                        derived=FittedAwc(queries, queries.rows_of(val), len(data.frame)))
    scores = rows.derived.score(RosettaFit(rows))["awc"]
    curve = rosetta_parameters(np.array([[40.0, 40.0, 20.0, 1.4]]))[0]
    predicted = van_genuchten(np.array([H_FIELD_CAPACITY, H_WILTING_POINT]), *curve)
    expected = np.sqrt(np.mean((predicted[0] - predicted[1] - queries.observed) ** 2))
    assert scores["n_samples"] == 2 and scores["rmse"] == pytest.approx(expected, rel=1e-9)
