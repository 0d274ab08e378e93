"""Twin experiments: twin data that keep the user's rows and missing values, the noise model, the
verdict from twin recovery, no verdict on a failed fit, and twins end to end on respiration and a
model whose two parameters enter only as a product."""
import json

import numpy as np
import pandas as pd
import pytest

import core
from core.cli import main
from core.datasets import HybridData
from core.identify import Ensemble, analyse
from core.identify.analysis import NO_VERDICT, apply_twins
from core.identify.fit import MIN_TARGET_KGE, fit_failure
from core.identify.twin_data import (MAX_SPREAD, MIN_SPREAD, mechanistic_outputs, neural_truth, noise_model,
                                     random_field, twin_parameters, twin_table)
from core.models.respiration import respiration


def _data(n=200, seed=0) -> HybridData:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"site": np.arange(n), "x1": rng.normal(size=n), "x2": rng.uniform(size=n),
                          "temp": rng.uniform(0, 25, n), "reco": rng.uniform(1, 5, n), "true_rb": rng.uniform(size=n)})
    frame.loc[::4, "reco"] = np.nan
    return HybridData(frame, "site", ["x1", "x2"], {"temp": "temp"}, {"reco": "reco"})


def test_a_random_twin_field_is_standardised_and_stays_inside_the_bounds():
    rng = np.random.default_rng(1)
    field = random_field(rng.normal(size=(500, 6)), rng)
    assert abs(field.mean()) < 1e-9 and field.std() == pytest.approx(1.0)
    flat = np.full(500, 0.98)  # a fitted field pressed against the upper bound
    units = neural_truth(flat, field)
    assert units.min() > 0 and units.max() < 1
    assert MIN_SPREAD * 0.5 < units.std() <= MAX_SPREAD
    wide = neural_truth(np.linspace(0.1, 0.9, 500), field)
    assert wide.std() == pytest.approx(MAX_SPREAD, rel=0.3)


def test_twin_parameters_keep_the_fitted_centre_and_the_fitted_globals():
    plan = core.RunPlan.from_dict({"model": "respiration", "data": {"name": "respiration-synthetic", "n": 20}})
    parameter_set = plan.parameter_set()
    data = _data()
    rb = parameter_set["rb"]
    fitted = {"rb": np.tile(np.linspace(2.0, 4.0, 200), (3, 1)), "q10": np.full((3, 200), 1.8)}
    for kind in ("random", "fitted"):
        truth = twin_parameters(parameter_set, fitted, data, kind, np.random.default_rng(0))
        assert truth["rb"].min() >= rb.lower and truth["rb"].max() <= rb.upper
        assert abs(np.mean(truth["rb"]) - 3.0) < 0.6
        assert np.ptp(truth["q10"]) == 0 and truth["q10"][0] == pytest.approx(1.8)
    fitted_pattern = twin_parameters(parameter_set, fitted, data, "fitted", np.random.default_rng(0))["rb"]
    assert np.corrcoef(fitted_pattern, fitted["rb"][0])[0, 1] > 0.99


def test_noise_model_tells_multiplicative_from_additive_noise():
    rng = np.random.default_rng(2)
    clean = rng.uniform(1, 100, 3000)
    relative = noise_model(clean * np.exp(rng.normal(0, 0.2, 3000)), clean, nonnegative=True)
    assert relative["kind"] == "relative" and relative["sd"] == pytest.approx(0.2, rel=0.1)
    additive = noise_model(clean + rng.normal(0, 3, 3000), clean + 10, nonnegative=False)
    assert additive["kind"] == "absolute" and additive["sd"] > 3


def test_twin_table_keeps_rows_and_missing_values_and_replaces_the_truth():
    data = _data()
    clean = {"reco": np.full(200, 2.0)}
    table = twin_table(data, clean, {"reco": {"kind": "absolute", "sd": 5.0}}, {"rb": np.full(200, 3.0)},
                       np.random.default_rng(3), floors={"reco": 0.0})
    assert list(table["site"]) == list(data.frame["site"])
    assert table["reco"].isna().equals(data.frame["reco"].isna())
    assert (table["reco"].dropna() >= 0).all()
    assert (table["true_rb"] == 3.0).all() and list(table["x1"]) == list(data.frame["x1"])


def test_mechanistic_outputs_are_the_model_function_at_the_given_parameters():
    plan = core.RunPlan.from_dict({"model": "respiration", "data": {"name": "respiration-synthetic", "n": 20}})
    data = _data()
    outputs = mechanistic_outputs(plan, data, {"rb": np.full(200, 2.5), "q10": np.full(200, 1.7)})
    import torch

    expected = respiration(torch.tensor(data.frame["temp"].to_numpy()), rb=2.5, q10=1.7, t_ref=15.0)["reco"].numpy()
    assert np.allclose(outputs["reco"], expected)


def _ensemble(target_kge: list[float]) -> Ensemble:
    plan = core.RunPlan.from_dict({"model": "respiration", "data": {"name": "respiration-synthetic", "n": 20}})
    rng = np.random.default_rng(4)
    pattern = rng.uniform(1, 5, 100)
    values = {"rb": np.stack([pattern + rng.normal(0, 0.05, 100) for _ in range(3)]),
              "q10": np.full((3, 100), 1.5) + rng.normal(0, 0.01, (3, 1))}
    return Ensemble("default", plan, plan.parameter_set(), ["a", "b", "c"], values, np.arange(100),
                    fits=target_kge, target_fits={"reco": target_kge})


def test_no_verdict_on_a_fit_that_failed():
    failed = _ensemble([-0.5, -0.6, -0.55])
    assert "target reco reached validation KGE -0.55" in fit_failure(failed)
    result = analyse(failed, with_truth=False)
    assert result["fit"]["failed"]
    assert {e["verdict"] for e in result["parameters"].values()} == {NO_VERDICT}
    assert result["parameters"]["rb"]["agreement_verdict"] == "identified"
    assert result["parameters"]["rb"]["reason"].startswith("the fit failed: target reco")
    fine = _ensemble([MIN_TARGET_KGE + 0.01] * 3)
    assert fit_failure(fine) == "" and analyse(fine, with_truth=False)["parameters"]["rb"]["verdict"] == "identified"


def test_the_verdict_comes_from_twin_recovery_and_needs_members_that_agree():
    result = analyse(_ensemble([0.8, 0.8, 0.8]), with_truth=False)
    twins = {"parameters": {"rb": {"twin-1": 0.4, "twin-2": 0.5}, "q10": {"twin-1": 0.9, "twin-2": 0.95}},
             "combinations": {}, "twins": {}, "noise": {}}
    apply_twins(result, twins)
    rb = result["parameters"]["rb"]
    assert rb["verdict"] == "not identified" and rb["agreement_verdict"] == "identified"
    assert rb["twin_recovery"] == pytest.approx(0.45) and rb["twins"] == 2
    assert rb["reason"].startswith("recovered r 0.45 ± 0.07 in 2 twins")
    assert result["parameters"]["q10"]["verdict"] == "identified"
    disagreeing = analyse(_ensemble([0.8, 0.8, 0.8]), with_truth=False)
    disagreeing["parameters"]["rb"]["agreement"] = 0.6
    apply_twins(disagreeing, {**twins, "parameters": {"rb": {"twin-1": 0.9}}})
    # recovered in the twins, but the members disagree on the data: the smaller score decides
    assert disagreeing["parameters"]["rb"]["score"] == 0.6 and disagreeing["parameters"]["rb"]["verdict"] == "weak"
    nothing = analyse(_ensemble([0.8, 0.8, 0.8]), with_truth=False)
    apply_twins(nothing, {**twins, "parameters": {}})
    assert nothing["parameters"]["rb"]["verdict"] == NO_VERDICT


@pytest.mark.slow  # trains 2 seeds and 2 twins of 2 members: end to end through the CLI and Dask
def test_sweep_with_twins_writes_twin_recovery_and_resumes(tmp_path, capsys):
    out = tmp_path / "sweep"
    arguments = ["sweep", "--model", "respiration", "--n-sites", "80", "--epochs", "60", "--seeds", "2",
                 "--twins", "2", "--twin-members", "2", "--workers", "2", "--out", str(out), "--quiet"]
    assert main(arguments) == 0
    result = json.loads((out / "identifiability.json").read_text())
    rb = result["configurations"]["default"]["parameters"]["rb"]
    assert rb["twins"] == 2 and rb["twin_recovery"] > 0.9 and rb["verdict"] == "identified", rb
    assert rb["reason"].startswith("recovered r")
    assert set(result["configurations"]["default"]["twins"]["twins"]) == {"twin-1", "twin-2"}
    assert "twin recovery" in (out / "identifiability.md").read_text()
    twin_table_file = out / "twins" / "default" / "sweep" / "sweep.parquet"
    before = pd.read_parquet(twin_table_file)
    assert len(before) == 4 and (before["status"] == "finished").all()
    capsys.readouterr()
    assert main(["identify", str(out), "--twins", "2", "--twin-members", "2", "--workers", "1"]) == 0
    assert "twin recovery" in capsys.readouterr().out
    after = pd.read_parquet(twin_table_file)
    assert list(after["out"]) == list(before["out"])


def test_twins_refuse_one_seed_and_a_negative_count(capsys):
    assert main(["sweep", "--model", "respiration", "--twins", "2", "--out", "unused"]) == 2
    assert "--twins needs an ensemble" in capsys.readouterr().err
    assert main(["identify", "unused", "--twins", "-1"]) == 2
    assert "--twins must be 0" in capsys.readouterr().err


def test_dispersed_neural_starts_spread_the_members_across_the_bounds():
    import torch

    plan = core.RunPlan.from_dict({"model": "soc", "roles": "five_neural", "data": {"name": "lucas-synthetic", "n": 50},
                                   "train": {"neural_start": "dispersed"}})
    assert core.RunPlan.from_dict(plan.to_dict()).train.neural_start == "dispersed"
    starts = []
    for seed in range(4):
        model = plan.spec.build(predictors=["x1", "x2"], forcing=["npp", "temp", "soil_mass"], targets=["soc"],
                                parameters=plan.parameter_set(), network=plan.network, options={})
        model.start_neural_dispersed(torch.Generator().manual_seed(seed))
        last = [layer for layer in model.net if isinstance(layer, torch.nn.Linear)][-1]
        starts.append(torch.sigmoid(last.bias).detach().numpy())
    starts = np.array(starts)  # (members, neural parameters) start positions on the unit scale
    assert starts.shape == (4, 5) and starts.std(axis=0).min() > 0.05
    with pytest.raises(core.HybridlabError, match="neural start"):
        core.RunPlan.from_dict({"model": "soc", "train": {"neural_start": "everywhere"}})
