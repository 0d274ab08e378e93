"""Validation scores per DI bin, AOA side and stratum class (metrics.json's ``scores_by``), against
hand-made cases; a bad ``--stratum`` column is one line; the pixel-distance histogram of ``map``."""
import json
import math

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.errors import DataError
from core.report.strata import strata_markdown, strata_summary
from core.spatial.geometry import EARTH_RADIUS_KM, distance_counts, median_of_counts
from core.spatial.scores import MIN_ROWS, di_bins, group_scores, stratum_groups, stratum_labels


def test_di_bins_are_the_quartiles_and_a_missing_di_is_in_none():
    di = np.array([0, 1, 2, 3, 4, 5, 6, 7, np.nan])
    labels, groups = di_bins(di, 4)
    assert [g["group"] for g in groups] == ["DI 1/4", "DI 2/4", "DI 3/4", "DI 4/4"]
    assert [g["di_low"] for g in groups] == [0, 1.75, 3.5, 5.25] and groups[-1]["di_high"] == 7
    assert list(labels) == ["DI 1/4"] * 2 + ["DI 2/4"] * 2 + ["DI 3/4"] * 2 + ["DI 4/4"] * 2 + [None]


def test_group_scores_against_a_hand_made_case():
    """Group a predicts exactly (KGE 1), group b predicts twice the observation (r 1, alpha 2,
    beta 2: KGE 1 - sqrt 2), group c has too few rows; CRPS and coverage are the group means."""
    n_a, n_b, n_c = 12, 20, MIN_ROWS - 1
    y = np.r_[np.arange(1, n_a + 1), np.arange(1, n_b + 1), np.arange(1, n_c + 1)].astype(float)
    mu = np.r_[y[:n_a], 2 * y[n_a:n_a + n_b], y[n_a + n_b:]]
    labels = np.array(["a"] * n_a + ["b"] * n_b + ["c"] * n_c, dtype=object)
    y[0] = np.nan  # a missing observation counts in the rows, not in n
    crps = np.r_[np.full(n_a, 1.0), np.full(n_b, 3.0), np.full(n_c, 5.0)]
    covered = {0.5: np.r_[np.ones(n_a), np.zeros(n_b), np.ones(n_c)].astype(bool),
               0.9: np.r_[np.ones(n_a), np.arange(n_b) < 15, np.ones(n_c)].astype(bool)}
    rows = {"soc": {"crps": crps, "covered": covered}}
    got = group_scores(labels, stratum_groups(labels), y[:, None], mu[:, None], ["soc"], rows, 0.9, (0.5, 0.9, 0.95))
    a, b, c = ({**g["targets"]["soc"], "rows": g["rows"]} for g in got)
    assert (a["rows"], a["n"], b["n"], c["n"]) == (n_a, n_a - 1, n_b, n_c)
    assert a["kge"] == pytest.approx(1.0, abs=1e-6) and b["kge"] == pytest.approx(1 - math.sqrt(2), abs=1e-6)
    assert (a["picp"], a["crps"]) == (1.0, 1.0)
    assert b["picp"] == 0.75 and b["crps"] == 3.0 and b["coverage"][:2] == [0.0, 0.75] and math.isnan(b["coverage"][2])
    assert math.isnan(c["kge"]) and math.isnan(c["picp"]) and math.isnan(c["crps"])
    plain = group_scores(labels, stratum_groups(labels), y[:, None], mu[:, None], ["soc"])  # no calibration: KGE only
    assert set(plain[1]["targets"]["soc"]) == {"n", "kge"}


def test_stratum_labels_from_one_column_or_indicators_and_bad_columns_refused():
    frame = pd.DataFrame({"lc": ["crop", "wood", None, "crop"], "lc_crop": [1, 0, 0, 1], "lc_wood": [0, 1, 0, 0],
                          "x": np.arange(4.0)})
    assert list(stratum_labels(frame, "lc", "d")) == ["crop", "wood", None, "crop"]
    assert list(stratum_labels(frame, "lc_crop, lc_wood", "d")) == ["lc_crop", "lc_wood", None, "lc_crop"]
    with pytest.raises(DataError, match="column 'landcover' not found"):
        stratum_labels(frame, "landcover", "d")
    with pytest.raises(DataError, match="'x' is not 0/1"):
        stratum_labels(frame, "lc_crop,x", "d")
    with pytest.raises(DataError, match="row 0 is 1 in more than one"):
        stratum_labels(frame.assign(lc_wood=[1, 1, 0, 0]), "lc_crop,lc_wood", "d")
    with pytest.raises(DataError, match="distinct values"):
        stratum_labels(pd.DataFrame({"v": np.arange(100.0)}), "v", "d")


def test_a_bad_stratum_column_is_one_line_exit_2_before_training(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "--model", "soc", "--n-sites", "60", "--epochs", "1", "--stratum", "landcover",
                 "--out", str(out), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err
    assert "--stratum column 'landcover' not found" in err and "lucas-synthetic" in err and not out.exists()


def _scores_by(kge_inside: float, inside_share: float) -> dict:
    group = lambda name, k: {"group": name, "rows": 10, "targets": {"soc": {"n": 10, "kge": k, "picp": 0.9,  # noqa: E731
                                                                             "crps": 2.0}}}
    return {"scores_by": {"level": 0.9, "aoa": [group("inside", kge_inside), group("outside", 0.1)], "di": [],
                          "stratum": {"column": "lc", "groups": [group("crop", 0.5)]}},
            "applicability": {"val_inside": inside_share}, "split_geometry": {"median_nearest_train_km": 50.0}}


def test_an_experiment_summary_is_the_mean_and_sd_over_runs():
    summary = strata_summary([_scores_by(0.6, 0.9), _scores_by(0.8, 1.0), {"targets": {}}])
    inside = summary["aoa"][0]["targets"]["soc"]["kge"]
    assert summary["runs"] == 2 and inside["mean"] == pytest.approx(0.7) and inside["sd"] == pytest.approx(math.sqrt(0.02))
    assert summary["val_inside"]["mean"] == pytest.approx(0.95) and summary["stratum_column"] == "lc"
    lines = strata_markdown({"five_neural": summary}, ["soc", "moc"])
    assert "| five_neural | soc | AOA | inside | 10 ± 0 | 0.700 ± 0.141 | 0.900 ± 0.000 | 2.000 ± 0.000 |" in lines
    assert any(line.startswith("| five_neural | soc | lc | crop |") for line in lines)
    assert strata_summary([{"targets": {}}]) is None and strata_markdown({"x": None}, ["soc"]) == []


def test_pixel_distances_sum_over_windows_into_the_right_median():
    """Eleven points on the equator 0.5 to 10.5 degrees east of the one site: the median is the
    sixth, 5.5 degrees of arc away; two windows' histograms add up to the whole."""
    site = np.array([[0.0, 0.0]])
    points = np.column_stack([np.arange(0.5, 11, 1.0), np.zeros(11)])
    counts = distance_counts(points[:4], site) + distance_counts(points[4:], site, block=3)
    assert counts.sum() == 11
    assert median_of_counts(counts) == pytest.approx(math.radians(5.5) * EARTH_RADIUS_KM, abs=1.0)
    assert median_of_counts(np.zeros(5)) is None


@pytest.mark.slow  # one small training with calibration sites: 10-70 s on a busy 2-core machine
def test_a_run_reports_scores_by_aoa_di_and_stratum_consistent_with_its_validation_scores(tmp_path):
    """The DI bins together are the validation split: their coverage and CRPS, weighted by their
    observations, are the split's; the AOA's two sides hold every observation."""
    from core.run.execute import execute

    run = execute({"model": "soc", "roles": "five_neural", "data": {"name": "lucas-synthetic", "n": 900},
                   "split": {"calibration": 0.15}, "network": {"hidden": [16, 8]}, "stratum": "lc_crop,lc_grass,lc_wood",
                   "train": {"epochs": 3, "patience": 2}}, out=tmp_path / "run")
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    scores_by, val = metrics["scores_by"], metrics["targets"]["soc"]["val"]
    assert sum(g["targets"]["soc"]["n"] for g in scores_by["aoa"]) == val["n"]
    bins = [g["targets"]["soc"] for g in scores_by["di"]]
    assert len(bins) == 4 and sum(g["rows"] for g in scores_by["di"]) == len(run.val_rows)
    assert all(b["n"] >= MIN_ROWS for b in bins) and sum(b["n"] for b in bins) == val["n"]
    assert sum(b["n"] * b["picp"] for b in bins) / val["n"] == pytest.approx(val["picp"])
    # the same predictive normals; float32 forward passes over another batch of rows differ in the 6th digit
    assert sum(b["n"] * b["crps"] for b in bins) / val["n"] == pytest.approx(val["crps"], rel=1e-4)
    assert [g["group"] for g in scores_by["stratum"]["groups"]] == ["lc_crop", "lc_grass", "lc_wood"]
    assert (tmp_path / "run" / "reliability_by_stratum.png").is_file()
    assert "stratum: lc_crop,lc_grass,lc_wood" in (tmp_path / "run" / "plan.yaml").read_text()
