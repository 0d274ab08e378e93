"""What `hybridlab train` shows and stores beyond the metrics table: the learned global
parameters (with or without truth columns, with their seed spread for an ensemble, flagged at a
bound), an ensemble's console line and epochs per member, and members far below the others."""
import json
import math
import re

import numpy as np
import pytest

from core import load_data
from core.cli import main
from core.cli.progress import epoch_line
from core.run.evaluation import learned_globals, neural_summary
from core.run.finish import epoch_row
from core.run.summary import MAD_FLOOR, outlier_members, outlier_records, outlier_threshold
from core.models import get_model
from core.report.tables import globals_lines, members_lines, neural_lines


# --- the outlier rule on arrays ---------------------------------------------------------------

def test_a_member_far_below_the_others_is_named():
    assert outlier_members([0.74, 0.75, 0.73, 0.28, 0.76]) == [3]


def test_members_within_the_seed_spread_are_not_named():
    assert outlier_members([0.74, 0.70, 0.78, 0.72, 0.76]) == []


def test_the_mad_floor_keeps_near_identical_members_from_being_named_for_tiny_differences():
    kges = [0.986, 0.985, 0.987, 0.986, 0.95]
    # without the floor the MAD is 0.001 and 0.95 would lie 24 robust sd below the median
    median = np.median(kges)
    assert (median - 0.95) / (1.4826 * np.median(np.abs(np.subtract(kges, median)))) > 3
    assert outlier_members(kges) == []
    assert outlier_threshold(kges) == pytest.approx(0.986 - 3 * 1.4826 * MAD_FLOOR)
    # ... and one clearly below (more than 3 x 1.4826 x 0.02 = 0.089 under the median) still is
    assert outlier_members([0.986, 0.985, 0.987, 0.986, 0.88]) == [4]


def test_two_members_have_no_others_to_stand_out_from_and_a_member_without_kge_is_named():
    assert outlier_members([0.9, 0.1]) == []
    assert outlier_members([0.8, math.nan, 0.81, 0.79]) == [1]


def _member(k: int, kge: float, q10: float) -> dict:
    return {"member": k, "seed": 10 + k, "mean_val_kge": kge, "epochs_run": 50 + k, "best_epoch": 40 + k,
            "stopped": "early stopping", "targets": {"reco": {"val": {"kge": kge}}},
            "globals": {"q10": {"value": q10, "at_bound": None}}}


def test_an_outlier_is_recorded_with_its_kge_and_reason_and_printed_as_a_warning():
    members = [_member(k, kge, 1.5) for k, kge in enumerate([0.74, 0.75, 0.28, 0.73])]
    records = outlier_records(members)
    assert [(r["member"], r["seed"]) for r in records] == [(2, 12)]
    assert records[0]["val_kge"]["mean"] == 0.28 and records[0]["val_kge"]["targets"] == {"reco": 0.28}
    assert records[0]["val_kge"]["members_median"] == pytest.approx(0.735)
    assert "robust sd below the members' median 0.735" in records[0]["reason"]
    metrics = {"members": members, "member_summary": {"mean_val_kge": {"mean": 0.625, "sd": 0.2}},
               "failed_members": [], "outlier_members": records}
    warnings = [line for line in members_lines(metrics) if line.startswith("warning:")]
    assert len(warnings) == 1 and "member 2 (seed 12)" in warnings[0]


# --- the ensemble's console line -------------------------------------------------------------

def test_the_ensemble_row_is_the_median_over_all_members_with_how_many_still_train():
    rows = [{"epoch": 400, "train_loss": 0.40, "val_loss": 0.45, "best_epoch": 380, "member": 0, "training": True},
            {"epoch": 400, "train_loss": 0.42, "val_loss": 0.44, "best_epoch": 390, "member": 1, "training": True},
            {"epoch": 300, "train_loss": 0.75, "val_loss": 0.79, "best_epoch": 200, "member": 2, "training": False},
            {"epoch": 400, "train_loss": 0.38, "val_loss": 0.47, "best_epoch": 399, "member": 3, "training": True},
            {"epoch": 350, "train_loss": 0.36, "val_loss": 0.41, "best_epoch": 250, "member": 4, "training": False}]
    row = epoch_row(rows)
    assert row["members"] == 5 and row["members_training"] == 3 and row["epoch"] == 400
    assert row["val_loss"] == pytest.approx(0.45) and row["train_loss"] == pytest.approx(0.40)
    assert "member" not in row
    assert epoch_line(row, 1000) == "epoch 400/1000 · loss median: val 0.450, train 0.400 (5 members, 3 training)"


# --- learned globals and bounds --------------------------------------------------------------

def test_a_global_within_one_percent_of_the_range_from_a_bound_is_flagged():
    parameters = get_model("respiration").parameters()  # q10 global in [1, 4]
    q10 = parameters["q10"]
    for value, expected in ((3.98, "upper"), (1.02, "lower"), (2.0, None), (3.95, None)):
        entry = learned_globals(parameters, {"q10": np.full(4, value), "rb": np.ones(4), "t_ref": np.ones(4)})
        assert set(entry) == {"q10"}
        assert entry["q10"]["at_bound"] == expected, value
        assert (entry["q10"]["lower"], entry["q10"]["upper"], entry["q10"]["unit"]) == (q10.lower, q10.upper, q10.unit)
    lines = globals_lines({"globals": learned_globals(parameters, {"q10": np.full(3, 3.99)})})
    assert lines[0] == "learned global parameters:" and "AT THE UPPER BOUND" in lines[1]


def test_a_neural_parameter_pinned_at_a_bound_or_the_same_everywhere_is_flagged():
    parameters = get_model("soc").parameters().set_roles({"v_max0": "global", "k_m0": "global"})  # of five_neural
    rng = np.random.default_rng(0)
    cue = parameters["cue"]
    values = {name: np.full(200, parameters[name].default) for name in parameters.names}
    values["cue"] = np.where(rng.random(200) < 0.6, cue.upper, rng.uniform(cue.lower, cue.upper, 200))  # 60 % pinned
    values["q_max"] = 120.0 + 0.3 * rng.standard_normal(200)  # a spread of about 1 g/kg in a range of 199
    values["f_poc"] = rng.uniform(0.2, 0.8, 200)  # a real field
    summary = neural_summary(parameters, values)
    assert set(summary) == {"cue", "q_max", "f_poc"}
    assert summary["cue"]["problem"] == "at_bound" and summary["cue"]["share_at_bound"] >= 0.5
    assert summary["q_max"]["problem"] == "constant" and summary["q_max"]["median"] == pytest.approx(120, abs=0.2)
    assert summary["f_poc"]["problem"] is None and summary["f_poc"]["p05"] < 0.3 < 0.7 < summary["f_poc"]["p95"]
    lines = neural_lines({"neural": summary})
    assert "PINNED AT A BOUND" in next(l for l in lines if l.strip().startswith("cue "))
    assert "THE SAME AT EVERY SITE" in next(l for l in lines if l.strip().startswith("q_max "))
    assert lines[-1].startswith("warning: cue, q_max did not learn a per-site field")


# --- end to end --------------------------------------------------------------------------------

def _file_without_truth(tmp_path):
    frame = load_data("respiration-synthetic", n=200).frame
    frame = frame.drop(columns=[c for c in frame.columns if c.startswith("true_")])
    frame.rename(columns={"site_id": "site", "temp": "T", "reco": "R"}).to_csv(tmp_path / "f.csv", index=False)
    (tmp_path / "map.json").write_text(json.dumps({"id": "site", "targets": {"reco": "R"}, "forcing": {"temp": "T"},
                                                   "predictors": "*"}))
    return tmp_path / "f.csv", tmp_path / "map.json"


@pytest.mark.slow
def test_a_run_on_a_file_without_truth_prints_and_stores_its_learned_globals(tmp_path, capsys):
    data, columns = _file_without_truth(tmp_path)
    out = tmp_path / "run"
    # bounds that leave out the data's q10 (1.5): the learned value ends at the lower bound (1.952 in 30 epochs)
    assert main(["train", "--model", "respiration", "--data", str(data), "--columns", str(columns), "--epochs", "30",
                 "--lr", "0.05", "--hidden", "16", "--bounds", "q10=1.95,3", "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    metrics = json.loads((out / "metrics.json").read_text())
    assert "parameter_recovery" not in metrics
    q10 = metrics["globals"]["q10"]
    assert (q10["lower"], q10["upper"], q10["unit"]) == (1.95, 3.0, "-") and q10["at_bound"] == "lower"
    line = next(l for l in text.splitlines() if l.strip().startswith("q10 "))
    assert f"{q10['value']:.4g}" in line and "AT THE LOWER BOUND" in line
    assert "learned global parameters:" in text


@pytest.mark.slow
def test_an_ensemble_shows_its_median_loss_epochs_per_member_and_globals_with_their_spread(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--model", "respiration", "--n-sites", "200", "--members", "3", "--epochs", "6",
                 "--hidden", "16", "--out", str(out)]) == 0
    captured = capsys.readouterr()
    epochs = [l for l in captured.err.splitlines() if l.startswith("epoch ")]
    assert len(epochs) == 6
    for line in epochs:
        assert re.fullmatch(r"epoch \d/6 · loss median: val \d+\.\d{3}, train \d+\.\d{3} \(3 members, [0-3] training\)",
                            line), line
    metrics = json.loads((out / "metrics.json").read_text())
    per_member = metrics["member_epochs"]
    assert [m["member"] for m in per_member] == [0, 1, 2]
    expected = ", ".join(f"{m['epochs_run']} (best {m['best_epoch']})" for m in per_member)
    assert f"epochs per member: {expected}" in captured.out
    q10 = metrics["globals"]["q10"]
    values = [m["value"] for m in q10["members"]]
    assert len(values) == 3 and q10["n"] == 3
    assert q10["sd"] == pytest.approx(np.std(values, ddof=1)) and q10["value"] == pytest.approx(np.mean(values))
    assert (q10["min"], q10["max"]) == (min(values), max(values))
    assert isinstance(metrics["outlier_members"], list)
    assert "members' mean; sd" in next(l for l in captured.out.splitlines() if l.strip().startswith("q10 "))
