import json

import pandas as pd
import pytest

from core.cli import main


pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def experiment(tmp_path_factory):
    out = tmp_path_factory.mktemp("exp")
    code = main(["experiment", "soc", "--out", str(out), "--n-sites", "400", "--epochs", "3", "--quiet"])
    assert code == 0
    return out


def test_experiment_writes_runs_results_and_figures(experiment):
    res = json.loads((experiment / "results.json").read_text())
    assert list(res["configurations"]) == ["neural_network", "all_global", "five_neural", "all_neural"]
    for name, m in res["configurations"].items():
        assert (experiment / "runs" / f"{name}__seed0" / "model.pt").is_file()
        assert set(m["targets"]) == {"soc", "moc", "poc", "mbc"}
        assert m["epochs_run"] == 3
    fn = res["configurations"]["five_neural"]
    assert set(fn["parameter_recovery"]) == {"cue", "q_max", "f_poc", "v_max0", "k_m0"}
    d = fn["diagnostics"]
    assert 0 <= d["infeasible_fraction"] <= 1
    assert set(d["moc_qmax_ratio"]) == {"predicted", "observed"}
    assert set(d["share_at_bound"]) == {"cue", "q_max", "f_poc", "v_max0", "k_m0"}
    md = (experiment / "results.md").read_text()
    assert "| five_neural |" in md and "(0.50)" in md  # the report's reference column
    for png in ("kge_decomposition", "obs_pred_neural_network", "moc_qmax_five_neural", "recovery_all_neural"):
        data = (experiment / "figures" / f"{png}.png").read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_history_tracks_infeasible_share(experiment):
    hist = pd.read_csv(experiment / "runs" / "five_neural__seed0" / "history.csv")
    assert "val_mean_feasible" in hist and hist["val_mean_feasible"].between(0, 1).all()


def test_temperature_split_validates_on_warm_sites(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--model", "soc", "--n-sites", "300", "--split", "temperature", "--epochs", "1",
                 "--out", str(out), "--quiet"]) == 0
    pred = pd.read_parquet(out / "predictions.parquet")
    from core.datasets import load_data
    temp = load_data("lucas-synthetic", n=300).frame.set_index("site_id")["temp"]
    t = pred["id"].map(temp)
    assert t[pred["split"] == "val"].min() > t[pred["split"] == "train"].max()


def test_user_file_with_column_mapping(tmp_path, capsys):
    from core.datasets import load_data
    f = load_data("lucas-synthetic", n=300).frame.rename(columns={"soc": "OC", "temp": "MAT_C", "site_id": "point"})
    f = f.drop(columns=["mbc"])
    path = tmp_path / "my_soils.parquet"
    f.to_parquet(path, index=False)
    mapping = {"id": "point", "targets": {"soc": "OC", "moc": "moc", "poc": "poc"},
               "forcing": {"temp": "MAT_C", "npp": "npp", "soil_mass": "soil_mass"},
               "predictors": ["clay", "silt", "sand", "ph", "map", "lc_crop", "lc_grass", "lc_wood"]}
    (tmp_path / "map.json").write_text(json.dumps(mapping))
    out = tmp_path / "run"
    assert main(["train", "--model", "soc", "--data", str(path), "--columns", str(tmp_path / "map.json"),
                 "--epochs", "2", "--option", "feasibility_weight=0", "--fix", "beta=1", "--out", str(out),
                 "--quiet"]) == 0
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["model"]["targets"] == ["soc", "moc", "poc"]
    assert cfg["model"]["options"]["feasibility_weight"] == 0.0
    assert [p["value"] for p in cfg["model"]["parameters"] if p["name"] == "beta"] == [1.0]
    m = json.loads((out / "metrics.json").read_text())
    assert "mbc" not in m["targets"] and "q_max" in m["parameter_recovery"]


@pytest.mark.parametrize("args,message", [
    (["--option", "weight=3"], "no option 'weight'"),
    (["--bounds", "q_max=50,10"], "'q_max': lower bound 50 must be below upper bound 10"),
    (["--fix", "q_max=500"], "'q_max': fixed value 500 lies outside"),
    (["--fix", "beta=1.5"], "'beta' must be one of 1, 2"),
    (["--roles", "{\"beta\": \"neural\"}"], "'beta' can only be fixed"),
    (["--bounds", "q_max=10"], "--bounds expects NAME=LOWER,UPPER"),
])
def test_bad_soc_options_are_named(capsys, args, message):
    assert main(["train", "--model", "soc", "--n-sites", "300", "--out", "unused", *args]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0], err


def test_experiment_with_members_reports_interval_coverage_with_the_seed_spread(tmp_path):
    code = main(["experiment", "soc", "--out", str(tmp_path), "--n-sites", "1200", "--epochs", "8", "--patience", "4",
                 "--seeds", "2", "--members", "2", "--configurations", "neural_network,five_neural", "--workers", "1",
                 "--quiet"])
    assert code == 0
    table = pd.read_parquet(tmp_path / "sweep.parquet")
    assert list(table["seed"]) == [0, 2, 0, 2]  # each seed an ensemble of seeds s, s+1: no member shared
    assert table["val_picp_soc"].between(0, 1).all() and table["val_mc_dropout_crps_soc"].gt(0).all()
    plan = json.loads((tmp_path / "runs" / "five_neural__seed2" / "config.json").read_text())["plan"]
    assert plan["train"]["members"] == 2 and plan["split"]["calibration"] == 0.15
    md = (tmp_path / "results.md").read_text()
    section = md[md.index("## Prediction intervals"):]
    assert "| five_neural | SOC | 0." in section and " ± " in section  # mean ± sd over the two seeds
    assert (tmp_path / "figures" / "intervals_five_neural.png").stat().st_size > 10_000
