"""The report's retention experiment: Lebeau–Konrad hybrid with and without bulk density.

Both runs use the report's set-up (hidden [32, 32], tanh, Adam lr 0.01, batch 1024, up to 1000
epochs, split by profile; ``docs/science.md``). Afterwards AWC per horizon and its Shapley values
with respect to the predictors (``shap``): the report found a much weaker effect of OC on AWC
once bd is a predictor.
"""
from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from core.report import figures
from core.datasets import HybridData
from core.io.json_files import json_safe
from core.report.explain import parameter_function, shapley_values
from core.formatting import number, plus_minus
from core.models.swrc import awc, derived
from core.run.plan import DataSource, RunPlan
from core.experiments.base import Experiment, ExperimentOptions

PREDICTOR_SETS = {"without_bd": ["clay", "silt", "sand", "oc"], "with_bd": ["clay", "silt", "sand", "oc", "bd"]}
N_EXPLAIN, N_BACKGROUND = 250, 50


def horizons(data: HybridData) -> pd.DataFrame:
    """One row per horizon (sample_id) with its soil properties and true parameters."""
    return data.frame.drop_duplicates("sample_id").reset_index(drop=True)


def plans(options: ExperimentOptions) -> dict[str, RunPlan]:
    """Both predictor sets with the model's recommended (the report's) settings."""
    return {name: RunPlan(model="swrc", data=DataSource(name="swrc-synthetic", n=options.n_sites, seed=options.seed,
                                                        predictors=predictors),
                          split=options.split_settings(),
                          train={"epochs": options.epochs, "patience": options.patience, "seed": options.seed})
            for name, predictors in PREDICTOR_SETS.items()}


def true_awc(data: HybridData) -> np.ndarray:
    hz = horizons(data)
    return awc(*(torch.tensor(hz[f"true_{p}"].to_numpy()) for p in ("theta_s", "h_m", "sigma", "theta_o"))).numpy()


def explain(name: str, run, seed: int):
    """AWC of every horizon (run.extras["awc"]) and Shapley values of AWC for a sample of horizons
    (run.extras["explanation"]); returns the seconds the explanation took."""
    hz = horizons(run.data)
    predictors = run.model.predictors
    f = parameter_function(run.model, derived, "awc")
    x_all = hz[predictors].to_numpy(dtype=float)
    run.extras["awc"] = f(x_all)
    rng = np.random.default_rng(seed + list(PREDICTOR_SETS).index(name))
    pick = rng.choice(len(hz), min(N_EXPLAIN, len(hz)), replace=False)
    background = x_all[rng.choice(len(hz), min(N_BACKGROUND, len(hz)), replace=False)]
    start = time.perf_counter()
    run.extras["explanation"] = shapley_values(f, x_all[pick], background=background, feature_names=predictors, seed=seed,
                                                max_evals=100)
    run.extras["explained"] = f(x_all[pick])
    return time.perf_counter() - start


def analyse(name: str, run, options: ExperimentOptions) -> None:
    """AWC against the truth and a summary of the Shapley values of AWC, added to the run's metrics."""
    seconds = explain(name, run, options.seed)
    explanation, predictors = run.extras["explanation"], run.model.predictors
    oc = predictors.index("oc")
    truth = true_awc(run.data)
    run.metrics["awc"] = {"r_vs_true": float(np.corrcoef(run.extras["awc"], truth)[0, 1]),
                          "rmse_vs_true": float(np.sqrt(np.mean((run.extras["awc"] - truth) ** 2)))}
    run.metrics["shapley"] = {
        "mean_abs_shap": {p: float(np.mean(np.abs(explanation.values[:, j]))) for j, p in enumerate(predictors)},
        "oc_slope": float(np.polyfit(explanation.data[:, oc], explanation.values[:, oc], 1)[0]),
        "expected_awc": float(explanation.base_values[0]), "n_explained": int(len(explanation.values)),
        "additivity_max_error": float(np.max(np.abs(explanation.values.sum(1) + explanation.base_values
                                                    - run.extras["explained"]))),
        "seconds": seconds,
    }


def report(out: Path, members: dict, spread: dict, options: ExperimentOptions, seconds: float) -> dict:
    """awc.parquet, results.json and figures from each configuration's first run (its AWC and
    Shapley values are computed again here for the figures); NSE as mean ± sd over seeds and folds."""
    runs = {name: group[0] for name, group in members.items()}
    for name, run in runs.items():
        explain(name, run, run.seed)
    data = next(iter(runs.values())).data
    hz = horizons(data)
    awc_table = hz[["profile_id", "sample_id", "clay", "silt", "sand", "oc", "bd"]].copy()
    awc_table["awc_true"] = true_awc(data)
    for name, run in runs.items():
        val_profiles = set(run.data.frame[data.id].iloc[run.val_rows])
        awc_table[f"split_{name}"] = np.where(awc_table["profile_id"].isin(val_profiles), "val", "train")
        awc_table[f"awc_{name}"] = run.extras["awc"]
    awc_table.to_parquet(out / "awc.parquet", index=False)
    summary = {"experiment": "swrc", "seed": options.seed, "seeds": options.seeds, "folds": options.folds,
               "epochs": options.epochs, "patience": options.patience,
               "n_horizons": len(hz), "n_pairs": len(data.frame), "total_seconds": seconds,
               "configurations": {n: {"val_nse_theta": r.metrics["targets"]["theta"]["val"]["nse"],
                                      "train_nse_theta": r.metrics["targets"]["theta"]["train"]["nse"],
                                      "val_nse_theta_spread": _nse_spread(members[n]),
                                      "parameter_recovery": r.metrics.get("parameter_recovery", {}),
                                      "awc": r.metrics["awc"], "shapley": r.metrics["shapley"],
                                      "epochs_run": r.metrics["epochs_run"],
                                      "train_seconds": r.metrics["train_seconds"]} for n, r in runs.items()},
               "spread": spread["configurations"]}
    (out / "results.json").write_text(json.dumps(json_safe(summary), indent=2))
    fig_dir = out / "figures"
    fig_dir.mkdir(exist_ok=True)
    for name, run in runs.items():
        figures.observed_vs_predicted(run.predictions, run.metrics, fig_dir / f"obs_pred_{name}.png", title=name)
    if "with_bd" in runs:
        figures.retention_curves(data.frame, runs["with_bd"], fig_dir / "retention_curves.png", seed=options.seed)
    figures.awc_distribution(awc_table, list(runs), fig_dir / "awc_distribution.png")
    figures.shap_dependence({n: (r.extras["explanation"], "oc") for n, r in runs.items()}, fig_dir / "shap_awc_oc.png")
    figures.kge_bars(spread["configurations"], fig_dir / "kge_decomposition.png")
    (out / "results.md").write_text(results_markdown(summary))
    return summary


def results_markdown(summary: dict) -> str:
    """Retention fit (NSE of θ, mean ± sd over seeds), AWC against the truth and the effect of OC on AWC."""
    seeds = summary.get("seeds") or 1
    lines = ["# Retention experiment: Lebeau–Konrad hybrid without and with bulk density", "",
             f"{summary['n_horizons']} horizons, {summary['n_pairs']} (h, θ) pairs; up to {summary['epochs']} epochs, "
             f"patience {summary['patience']}; training seeds {summary['seed']}..{summary['seed'] + seeds - 1}. "
             f"Total time {summary['total_seconds']:.0f} s. AWC and Shapley columns come from the first run.", "",
             "| configuration | θ NSE val (mean ± sd) | θ NSE train | AWC r vs true | mean abs SHAP of OC on AWC | "
             "OC slope of SHAP |", "|---|---|---|---|---|---|"]
    for name, c in summary["configurations"].items():
        lines.append(f"| {name} | {plus_minus(c['val_nse_theta_spread'])} | {number(c['train_nse_theta'], 3)} | "
                     f"{number(c['awc']['r_vs_true'], 3)} | {number(c['shapley']['mean_abs_shap']['oc'], 4)} | "
                     f"{number(c['shapley']['oc_slope'], 4)} |")
    lines += ["", "Figures in `figures/`: observed vs predicted θ, retention curves, AWC distribution, "
                  "Shapley dependence of AWC on OC, KGE parts (mean ± sd).", ""]
    return "\n".join(lines)


def _nse_spread(group: list) -> dict:
    values = np.array([m.metrics["targets"]["theta"]["val"]["nse"] for m in group], dtype=float)
    return {"mean": float(values.mean()), "sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
            "n": int(len(values))}


EXPERIMENT = Experiment("swrc", "the report's retention case: Lebeau–Konrad hybrid without and with bulk density",
                        plans, report, analyse)
