"""The report's retention experiment: Lebeau–Konrad hybrid with and without bulk density.

Both runs use the report's set-up (hidden [32, 32], tanh, Adam lr 0.01, batch 1024, up to 1000
epochs, split by profile). Afterwards AWC per horizon and its Shapley values with respect to the
predictors (``shap``): the report found a much weaker effect of OC on AWC once bd is a predictor.
"""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd
import torch

from .. import figures
from ..datasets import HybridData, load_data
from ..explain import parameter_function, shapley_values
from ..models.swrc import awc, derived
from ..network import NetworkConfig
from ..runs import RunConfig, json_safe, default_settings, train_run
from ..splits import SplitConfig
from ..training import TrainConfig

PREDICTOR_SETS = {"without_bd": ["clay", "silt", "sand", "oc"], "with_bd": ["clay", "silt", "sand", "oc", "bd"]}


def horizons(data: HybridData) -> pd.DataFrame:
    """One row per horizon (sample_id) with its soil properties and true parameters."""
    return data.frame.drop_duplicates("sample_id").reset_index(drop=True)


def run(out: str | Path, epochs: int = 1000, patience: int = 100, n_profiles: int | None = None, seed: int = 0,
        n_explain: int = 250, n_background: int = 50, progress: Callable[[str], Callable[[dict], None]] | None = None,
        log: Callable[[str], None] = print, **_) -> dict:
    """Train both predictor sets, write run folders, results.json, awc.parquet and figures."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    data = load_data("swrc-synthetic", n=n_profiles, seed=seed)
    hz = horizons(data)
    log(f"data: swrc-synthetic, {len(data.frame)} pairs, {len(hz)} horizons, {data.frame[data.id].nunique()} profiles")
    d = default_settings("swrc")
    true_awc = awc(*(torch.tensor(hz[f"true_{p}"].to_numpy()) for p in ("theta_s", "h_m", "sigma", "theta_o"))).numpy()
    awc_table = hz[["profile_id", "sample_id", "clay", "silt", "sand", "oc", "bd"]].copy()
    awc_table["awc_true"] = true_awc
    results, runs, shap_summary, explanations = {}, {}, {}, {}
    rng = np.random.default_rng(seed)
    for name, predictors in PREDICTOR_SETS.items():
        d_run = HybridData(data.frame, data.id, predictors, data.forcing, data.targets, data.source)
        cfg = RunConfig(model="swrc", data=data.source, split=SplitConfig("site"),
                        network=NetworkConfig(hidden=d["hidden"], activation=d["activation"], dropout=d["dropout"]),
                        train=TrainConfig(optimizer=d["optimizer"], lr=d["lr"], batch_size=d["batch_size"],
                                          epochs=epochs, patience=patience, seed=seed))
        r = train_run(cfg, data=d_run, callbacks=[progress(name)] if progress else [])
        r.config["predictor_set"] = name
        val_profiles = set(r.data.frame[data.id].iloc[r.val_rows])
        awc_table[f"split_{name}"] = np.where(awc_table["profile_id"].isin(val_profiles), "val", "train")
        f = parameter_function(r.model, derived, "awc")
        x_all = hz[predictors].to_numpy(dtype=float)
        awc_table[f"awc_{name}"] = f(x_all)
        pick = rng.choice(len(hz), min(n_explain, len(hz)), replace=False)
        background = x_all[rng.choice(len(hz), min(n_background, len(hz)), replace=False)]
        t_shap = time.perf_counter()
        expl = shapley_values(f, x_all[pick], background, predictors, seed=seed, max_evals=100)
        t_shap = time.perf_counter() - t_shap
        explanations[name] = expl
        oc = predictors.index("oc")
        additivity = float(np.max(np.abs(expl.values.sum(1) + expl.base_values - f(x_all[pick]))))
        shap_summary[name] = {
            "mean_abs_shap": {p: float(np.mean(np.abs(expl.values[:, j]))) for j, p in enumerate(predictors)},
            "oc_slope": float(np.polyfit(expl.data[:, oc], expl.values[:, oc], 1)[0]),
            "expected_awc": float(expl.base_values[0]), "n_explained": int(len(pick)),
            "additivity_max_error": additivity, "seconds": t_shap,
        }
        r.metrics["awc"] = {"r_vs_true": float(np.corrcoef(awc_table[f"awc_{name}"], true_awc)[0, 1]),
                            "rmse_vs_true": float(np.sqrt(np.mean((awc_table[f"awc_{name}"] - true_awc) ** 2)))}
        r.metrics["shapley"] = shap_summary[name]
        r.save(out / name)
        runs[name], results[name] = r, r.metrics
        log(f"{name}: validation NSE of theta {r.metrics['targets']['theta']['val']['nse']:.3f}, "
            f"{r.metrics['epochs_run']} epochs, {r.metrics['train_seconds']:.0f} s; "
            f"mean |SHAP| of oc on AWC {shap_summary[name]['mean_abs_shap']['oc']:.4f}")
    awc_table.to_parquet(out / "awc.parquet", index=False)
    total = time.perf_counter() - t0
    summary = {"experiment": "swrc", "seed": seed, "epochs": epochs, "patience": patience,
               "n_horizons": len(hz), "n_pairs": len(data.frame), "total_seconds": total,
               "configurations": {n: {"val_nse_theta": m["targets"]["theta"]["val"]["nse"],
                                      "train_nse_theta": m["targets"]["theta"]["train"]["nse"],
                                      "parameter_recovery": m.get("parameter_recovery", {}),
                                      "awc": m["awc"], "shapley": m["shapley"], "epochs_run": m["epochs_run"],
                                      "train_seconds": m["train_seconds"]} for n, m in results.items()}}
    (out / "results.json").write_text(json.dumps(json_safe(summary), indent=2))
    fig_dir = out / "figures"
    fig_dir.mkdir(exist_ok=True)
    for name, r in runs.items():
        figures.observed_vs_predicted(r.predictions, r.metrics, fig_dir / f"obs_pred_{name}.png", title=name)
    figures.retention_curves(data.frame, runs["with_bd"], fig_dir / "retention_curves.png", seed=seed)
    figures.awc_distribution(awc_table, list(PREDICTOR_SETS), fig_dir / "awc_distribution.png")
    figures.shap_dependence({n: (e, "oc") for n, e in explanations.items()}, fig_dir / "shap_awc_oc.png")
    log(f"results in {out} ({total:.0f} s in all)")
    return summary
