"""``hybridlab experiment MODEL --baselines ...`` end to end on small data: rf, qrf and Rosetta3
rows beside the hybrid and nn on the same splits, qrf's intervals beside the hybrid's, the
respiration baselines on a file with the network's Reco, and the refusals."""
import json

import numpy as np
import pandas as pd
import pytest

from core.cli import main
from core.datasets import load_data


@pytest.fixture(scope="module")
def retention(tmp_path_factory):
    """swrc on 40 synthetic profiles: hybrid, nn, rf, qrf, rosetta3; 2 seeds x 2 folds, calibration sites."""
    out = tmp_path_factory.mktemp("compare") / "swrc"
    code = main(["experiment", "swrc", "--baselines", "nn,rf,qrf,rosetta3", "--n-sites", "40", "--seeds", "2",
                 "--folds", "2", "--epochs", "30", "--calibration", "0.3", "--workers", "1", "--out", str(out),
                 "--quiet"])
    assert code == 0
    return out, json.loads((out / "results.json").read_text())


@pytest.mark.slow
def test_every_method_has_a_row_per_seed_and_fold_on_the_same_validation_rows(retention):
    out, results = retention
    assert results["methods"] == ["hybrid", "nn", "rf", "qrf", "rosetta3"]
    splits = {(r["seed"], r["fold"]) for r in results["records"]}
    assert splits == {(0, 0), (0, 1), (1, 0), (1, 1)}
    for seed, fold in splits:
        rows = {r["method"]: r for r in results["records"] if (r["seed"], r["fold"], r["target"]) == (seed, fold, "theta")}
        assert set(rows) == set(results["methods"])
        assert len({r["n"] for r in rows.values()}) == 1  # the same validation points for every method
        predictions = pd.read_parquet(out / "runs" / f"hybrid__seed{seed}__fold{fold}" / "predictions.parquet")
        assert rows["rf"]["n"] == int((predictions["split"] == "val").sum())
    for method in results["methods"]:
        entry = results["summary"][method]["theta"]
        assert entry["rmse"]["n"] == 4 and 0 < entry["rmse"]["mean"] < 0.2, method
    assert results["summary"]["rosetta3"]["theta"]["rmse"]["sd"] > 0  # scored on each fold's own points


@pytest.mark.slow
def test_rosetta3_rows_equal_rosetta_on_the_hybrids_validation_points(retention):
    from core.baselines.rosetta3 import rosetta_parameters, van_genuchten

    out, results = retention
    data = load_data("swrc-synthetic", n=40, seed=0)
    predictions = pd.read_parquet(out / "runs" / "hybrid__seed1__fold0" / "predictions.parquet")
    val = predictions["split"].to_numpy() == "val"
    soils = data.frame[["sand", "silt", "clay"]].to_numpy()[val]
    theta = van_genuchten(data.frame["h_cm"].to_numpy()[val], *rosetta_parameters(soils).T)
    expected = float(np.sqrt(np.mean((theta - data.frame["theta"].to_numpy()[val]) ** 2)))
    record = next(r for r in results["records"] if (r["method"], r["seed"], r["fold"], r["target"]) == ("rosetta3", 1, 0, "theta"))
    assert record["rmse"] == pytest.approx(expected, rel=1e-9)


@pytest.mark.slow
def test_every_method_is_scored_on_awc_of_the_same_validation_curves(retention):
    from core.baselines.awc import awc_queries
    from core.models import get_model
    from core.models.swrc import H_FIELD_CAPACITY, H_WILTING_POINT
    from core.run.loaded import load_run

    out, results = retention
    assert results["targets"] == ["theta", "awc"] and results["derived"]["awc"]["samples"] > 0
    data = load_data("swrc-synthetic", n=40, seed=0)
    queries = awc_queries(get_model("swrc"), data)
    for seed, fold in ((0, 1), (1, 0)):
        rows = {r["method"]: r for r in results["records"] if (r["seed"], r["fold"], r["target"]) == (seed, fold, "awc")}
        assert set(rows) == set(results["methods"]) and len({r["n_samples"] for r in rows.values()}) == 1
        run = load_run(out / "runs" / f"hybrid__seed{seed}__fold{fold}")
        which = queries.rows_of(np.flatnonzero(run_split(out, seed, fold) == "val"))
        first = queries.frame.iloc[2 * which]  # each curve's soil, at its first suction
        hybrid_awc = run.predict(first)["awc"].to_numpy()  # the model's own derived AWC
        assert rows["hybrid"]["rmse"] == pytest.approx(np.sqrt(np.mean((hybrid_awc - queries.observed[which]) ** 2)),
                                                       rel=1e-5)
        from core.baselines.rosetta3 import rosetta_parameters, van_genuchten
        curves = rosetta_parameters(first[["sand", "silt", "clay"]].to_numpy(dtype=float))
        rosetta_awc = (van_genuchten(np.full(len(which), H_FIELD_CAPACITY), *curves.T)
                       - van_genuchten(np.full(len(which), H_WILTING_POINT), *curves.T))
        assert rows["rosetta3"]["rmse"] == pytest.approx(np.sqrt(np.mean((rosetta_awc - queries.observed[which]) ** 2)),
                                                         rel=1e-9)
    md = (out / "results.md").read_text()
    assert "## AWC (m3 m-3)" in md and "samples have an observed AWC" in md


def run_split(out, seed, fold) -> np.ndarray:
    return pd.read_parquet(out / "runs" / f"hybrid__seed{seed}__fold{fold}" / "predictions.parquet")["split"].to_numpy()


@pytest.mark.slow
def test_qrf_intervals_sit_beside_the_hybrids_and_the_table_says_it(retention):
    out, results = retention
    for method in ("hybrid", "qrf"):
        entry = results["summary"][method]["theta"]
        assert 0.5 < entry["picp"]["mean"] <= 1 and entry["interval_width"]["mean"] > 0 and entry["crps"]["mean"] > 0
    assert "picp" not in results["summary"]["rf"]["theta"]
    assert "crps" in results["differences"]["qrf"]["theta"]
    md = (out / "results.md").read_text()
    assert "## θ (m3 m-3)" in md and "| rosetta3 |" in md and "## 90 % prediction intervals" in md
    assert "| qrf | θ |" in md and "## Where the hybrid does not beat a baseline" in md
    assert (out / "summary.md").is_file()  # the sweep's own summary of the trained configurations


@pytest.mark.slow
def test_every_method_with_predictors_has_its_own_area_of_applicability(retention):
    out, results = retention
    for method in ("hybrid", "nn", "rf", "qrf"):  # rosetta3 learns nothing from these rows: no AOA
        for record in (r for r in results["records"] if r["method"] == method and r["target"] == "theta"):
            aoa = record["aoa"]
            assert 0 <= aoa["val_inside"] <= 1 and aoa["threshold"] > 0, method
            if method in ("rf", "qrf"):  # on the same validation rows as the hybrid
                assert aoa["inside"]["n"] + aoa["outside"]["n"] == record["n"]
        assert results["aoa"][method]["theta"]["val_inside"]["n"] == 4
    assert "aoa" not in results["aoa"].get("rosetta3", {}).get("theta", {})
    assert not any("aoa" in r for r in results["records"] if r["method"] == "rosetta3")
    md = (out / "results.md").read_text()
    assert "## Area of applicability (validation rows)" in md and "| rf | θ |" in md


def test_a_forests_aoa_follows_its_importances_and_shifted_rows_fall_outside():
    from sklearn.ensemble import RandomForestRegressor

    from core.baselines.applicability import aoa_scores, forest_applicability
    from core.baselines.spec import BaselineRows
    from core.datasets import HybridData

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"site": np.arange(300), "a": rng.normal(size=300), "b": rng.normal(size=300),
                          "t": rng.normal(size=300)})
    frame["y"] = 3 * frame["a"] + 0.1 * rng.normal(size=300)  # only a matters
    frame.loc[250:, "a"] += 6  # validation rows far out along a
    data = HybridData(frame, id="site", predictors=["a", "b"], forcing={"t": "t"}, targets={"y": "y"})
    rows = BaselineRows(data=data, predictors=["a", "b"], forcing=["t"], targets=["y"], train=np.arange(200),
                        val=np.arange(200, 300), seed=0)

    class Fitted:
        forests = {"y": RandomForestRegressor(n_estimators=30, random_state=0).fit(rows.features(rows.train),
                                                                                  rows.observed("y", rows.train))}

    applicability = forest_applicability(Fitted(), rows)
    assert applicability.weights[0] == 1.0 and applicability.weights[1] < 0.2  # a's importance dominates
    scores = aoa_scores(applicability, rows, {"y": Fitted.forests["y"].predict(rows.features(rows.val))})
    assert scores["val_inside"] == pytest.approx(0.5, abs=0.1)  # rows 200-249 like training, 250-299 shifted
    assert scores["targets"]["y"]["outside"]["n"] >= 45
    assert scores["targets"]["y"]["inside"]["kge"] > scores["targets"]["y"]["outside"]["kge"]


@pytest.fixture(scope="module")
def flux_file(tmp_path_factory):
    """Synthetic respiration as a user's file with the network's Reco: observed reco plus a
    row-dependent offset, so its RMSE on any set of rows is known."""
    folder = tmp_path_factory.mktemp("flux")
    frame = load_data("respiration-synthetic", n=16, seed=2).frame.drop(columns=["true_rb", "true_q10"])
    frame = frame.rename(columns={"reco": "NEE_night", "temp": "TA_F"})
    frame["RECO_NT_VUT_REF"] = frame["NEE_night"] + 0.1 * (np.arange(len(frame)) % 3)
    path = folder / "night.csv"
    frame.to_csv(path, index=False)
    columns = {"id": "site_id", "targets": {"reco": "NEE_night"}, "forcing": {"temp": "TA_F"},
               "predictors": ["moisture", "soil_n", "clay", "elev"]}
    (folder / "night.columns.json").write_text(json.dumps(columns))
    return path, folder / "night.columns.json", frame


@pytest.mark.slow
def test_respiration_against_the_classical_fit_and_the_networks_reco(flux_file, tmp_path):
    path, columns, frame = flux_file
    out = tmp_path / "resp"
    assert main(["experiment", "respiration", "--data", str(path), "--columns", str(columns), "--baselines",
                 "one_q10,network_reco,rf", "--seeds", "1", "--epochs", "20", "--workers", "1", "--out", str(out),
                 "--quiet"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert results["methods"] == ["hybrid", "one_q10", "network_reco", "rf"]
    assert results["roles"]["q10"] == "global" and results["roles"]["rb"] == "neural"
    plan = (out / "runs" / "one_q10__seed0" / "plan.yaml").read_text()
    assert "roles: all_global" in plan
    predictions = pd.read_parquet(out / "runs" / "hybrid__seed0" / "predictions.parquet")
    val = (predictions["split"] == "val").to_numpy() & frame["NEE_night"].notna().to_numpy()
    offset = (0.1 * (np.arange(len(frame)) % 3))[val]
    record = next(r for r in results["records"] if r["method"] == "network_reco")
    assert record["rmse"] == pytest.approx(float(np.sqrt(np.mean(offset ** 2))), rel=1e-9)
    assert record["n"] == int(val.sum())


@pytest.mark.parametrize("arguments, message", [
    (["experiment", "respiration", "--baselines", "rosetta3"], "--baselines rosetta3 does not apply here: it predicts "
                                                               "retention curves"),
    (["experiment", "swrc", "--baselines", "rf,svm"], "unknown baseline 'svm'"),
    (["experiment", "swrc", "--baselines", "network_reco", "--n-sites", "5"], "network_reco does not apply here"),
    (["experiment", "soc", "--roles", "all_global"], "--roles apply to a comparison: give --baselines"),
    (["experiment", "nosuch", "--baselines", "rf"], "unknown model 'nosuch'"),
    (["experiment", "nn", "--baselines", "rf"], "model nn is the pure network"),
    (["experiment", "swrc", "--baselines", "nn", "--data", "points.csv"], "points.csv: a data file needs a column "
                                                                          "mapping"),
    (["experiment", "nosuch"], "unknown experiment 'nosuch'"),
])
def test_bad_requests_are_one_line_and_exit_2(arguments, message, tmp_path, capsys):
    assert main([*arguments, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()  # refused before anything is written
